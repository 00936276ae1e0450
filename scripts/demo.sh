#!/usr/bin/env bash
# Sets everything up on a fresh machine and runs the local network demo (results in runs/demo-<time>/).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
eval "$(bash scripts/setup.sh)"
exec crucible demo "$@"
