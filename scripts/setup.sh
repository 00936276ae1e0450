#!/usr/bin/env bash
# Sets up everything Crucible needs on a fresh machine, idempotently, and prints the environment to use:
#   npm toolchain (anvil, forge, solc-js, OpenZeppelin, Hardhat's node) into node_modules/ (npm's cache makes re-runs quick),
#   the Python virtual environment (cached outside the clone, keyed by pyproject.toml),
#   Kubo built from source through the Go module proxy (cached outside the clone, keyed by version).
# Usage: eval "$(bash scripts/setup.sh)"
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
log() { echo "[setup] $*" >&2; }

if [[ ! -x node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil || ! -d node_modules/solc || ! -x node_modules/.bin/hardhat ]]; then
  log "installing the npm toolchain (anvil, forge, solc-js, OpenZeppelin, Hardhat)"
  # `npm ci` refuses our lock file because the registry's @foundry-rs packages list platform builds that npm
  # leaves out of the lock; `npm install --no-save` honours the lock's versions and leaves the tree clean.
  npm install --no-audit --no-fund --no-save --loglevel=error >&2
fi
for tool in anvil forge; do
  if [[ ! -x "node_modules/@foundry-rs/$tool-linux-amd64/bin/$tool" ]]; then
    log "npm did not install $tool (node_modules/@foundry-rs/$tool-linux-amd64)"; exit 1
  fi
done
[[ -d node_modules/solc && -d node_modules/@openzeppelin/contracts ]] || { log "npm did not install solc-js or OpenZeppelin"; exit 1; }
log "python environment"
VENV="$(bash scripts/setup/python_env.sh)"
log "kubo"
IPFS_BIN="$(bash scripts/setup/install_kubo.sh)"
# Debian's Chromium, for the dashboard's browser test (tests/test_dashboard.py skips, saying so, where it cannot be had).
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [[ "$(id -u)" == 0 ]]; then
  log "installing chromium (Debian package) for the dashboard's browser test"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; } >&2 \
    || log "could not install chromium; the dashboard's browser test will skip"
fi
# A per-clone `crucible` command: this checkout's code with the shared venv's dependencies.
mkdir -p .bin
cat > .bin/crucible <<SHIM
#!/usr/bin/env bash
PYTHONPATH="$ROOT\${PYTHONPATH:+:\$PYTHONPATH}" exec "$VENV/bin/python" -m crucible "\$@"
SHIM
chmod +x .bin/crucible
echo "export CRUCIBLE_VENV='$VENV'"
echo "export CRUCIBLE_IPFS_BIN='$IPFS_BIN'"
echo "export PYTHONPATH='$ROOT'\${PYTHONPATH:+:\$PYTHONPATH}"
echo "export PATH='$ROOT/.bin:$ROOT/node_modules/.bin:$VENV/bin':\"\$PATH\""
