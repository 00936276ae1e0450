"""Writes the packaged contract artifacts (crucible/abi/*.json) from contracts/src: a developer step, run in a
checkout after changing a contract (tests/chain/test_packaged_abis.py fails until it is).

    python -m crucible.chain.build_abis           # compile (or take the compile cache) and write crucible/abi/
    python -m crucible.chain.build_abis --check   # exit 1 when crucible/abi/ is stale, write nothing
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from crucible.chain.artifacts import BUILD_FILE, write_packaged
from crucible.chain.compiler import compile_contracts, source_hash
from crucible.paths import PACKAGE_DIR

ABI_DIR = PACKAGE_DIR / "abi"


def packaged_hash(directory: Path = ABI_DIR) -> str | None:
    """The source hash the files in `directory` were built from, or None when there are none."""
    try:
        return str(json.loads((directory / BUILD_FILE).read_text())["sourceHash"])
    except (FileNotFoundError, KeyError, ValueError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crucible.chain.build_abis", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report whether crucible/abi/ is stale")
    parser.add_argument("--out", type=Path, default=ABI_DIR, help="directory to write (default: crucible/abi)")
    args = parser.parse_args(argv)
    current, packaged = source_hash(), packaged_hash(args.out)
    if args.check:
        if current != packaged:
            print(f"{args.out} is stale: built from {packaged}, contracts/src hashes to {current}; run "
                  "`python -m crucible.chain.build_abis`", file=sys.stderr)  # fmt: skip
            return 1
        print(f"{args.out} is up to date ({current})")
        return 0
    compiled = compile_contracts()
    written = write_packaged(compiled, args.out)
    print(f"wrote {len(written)} files to {args.out} (source hash {compiled.source_hash})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
