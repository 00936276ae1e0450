#!/usr/bin/env node
// A solc-compatible front for solc-js (the official compiler built to wasm), for machines where
// native solc binaries cannot be downloaded. It speaks the two calls our tools make:
//   --version         -> "solc, the solidity compiler commandline interface\nVersion: <version>"
//   --standard-json   -> reads Standard JSON on stdin, writes Standard JSON on stdout.
// Unknown flags (--allow-paths, --base-path, ...) are accepted so py-solc-x and forge can call it.
// solc-js's own CLI prints a stray non-JSON line, which is why this wrapper exists at all.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const args = process.argv.slice(2);
const searchRoots = [process.cwd(), path.join(__dirname, '..'), path.join(__dirname, '..', '..', 'node_modules')];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--base-path' || args[i] === '--include-path') searchRoots.push(path.resolve(args[i + 1]));
  if (args[i] === '--allow-paths') args[i + 1].split(',').forEach((p) => searchRoots.push(path.resolve(p)));
}

function findImports(importPath) {
  for (const root of searchRoots) {
    const candidate = path.resolve(root, importPath);
    if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, 'utf8') };
  }
  return { error: `File not found: ${importPath}` };
}

if (args.includes('--version')) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}
if (args.includes('--standard-json')) {
  const chunks = [];
  process.stdin.on('data', (c) => chunks.push(c));
  process.stdin.on('end', () => {
    const output = solc.compile(Buffer.concat(chunks).toString('utf8'), { import: findImports });
    process.stdout.write(output);
  });
} else {
  process.stderr.write('solcjs wrapper: only --version and --standard-json are supported\n');
  process.exit(2);
}
