#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: sets up what is missing, then lint and types (ruff, mypy), the
# Solidity tests (forge: unit, fuzz, invariant) and the Python tests (pytest against real anvil and Kubo daemons that the tests start and stop).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# A failing command substitution inside eval would not stop the script, so the setup's output is checked first.
SETUP_ENV="$(bash scripts/setup.sh)" || { echo "setup failed" >&2; exit 1; }
eval "$SETUP_ENV"
echo "== lint and types (ruff, mypy: scripts/lint.sh)"
bash scripts/lint.sh
echo "== forge test (contracts: unit, fuzz, invariant)"
forge test
echo "== pytest (python: chain, protocol, engine, artifacts, cli)"
python -m pytest tests -q -p no:cacheprovider "$@"
# The second EVM implementation: the chain tests and the multi-process end-to-end round against Hardhat's node (EDR),
# selected by the one option every fixture, `network up` and the demo read. A few minutes; CRUCIBLE_SKIP_HARDHAT=1
# leaves it out on a machine without the npm toolchain's Hardhat.
if [[ -z "${CRUCIBLE_SKIP_HARDHAT:-}" ]]; then
  echo "== pytest on Hardhat's node (CRUCIBLE_EVM=hardhat: chain tests, one end-to-end network round)"
  CRUCIBLE_EVM=hardhat python -m pytest tests/chain tests/protocol/test_processes.py -q -p no:cacheprovider
fi
