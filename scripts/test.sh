#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: sets up what is missing, then the Solidity tests (forge: unit,
# fuzz, invariant) and the Python tests (pytest against real anvil and Kubo daemons that the tests start and stop).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
eval "$(bash scripts/setup.sh)"
echo "== forge test (contracts: unit, fuzz, invariant)"
forge test
echo "== pytest (python: chain, protocol, engine, artifacts, cli)"
python -m pytest tests -q -p no:cacheprovider "$@"
