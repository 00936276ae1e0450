#!/usr/bin/env bash
# Creates (or reuses) the project's virtual environment outside the clone, keyed by the hash of
# pyproject.toml, so a second run on the same machine skips the multi-GB torch install.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${CRUCIBLE_CACHE:-$HOME/.cache/crucible}"
KEY="$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)"
VENV="$CACHE/venv/$KEY"
if [[ ! -x "$VENV/bin/python" ]] || [[ ! -f "$VENV/.complete" ]]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip >&2
  "$VENV/bin/python" -m pip install -q -e "$ROOT[test]" >&2
  touch "$VENV/.complete"
fi
# Re-point the editable install at this clone (cheap, no dependency resolution).
"$VENV/bin/python" -m pip install -q --no-deps -e "$ROOT" >/dev/null 2>&1 || "$VENV/bin/python" -m pip install --no-deps -e "$ROOT" >&2
echo "$VENV"
