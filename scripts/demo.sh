#!/usr/bin/env bash
# Sets everything up on a fresh machine and runs the local network demo (results in runs/demo-<time>/).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# A failing command substitution inside eval would not stop the script, so the setup's output is checked first.
SETUP_ENV="$(bash scripts/setup.sh)" || { echo "setup failed" >&2; exit 1; }
eval "$SETUP_ENV"
exec crucible demo "$@"
