#!/usr/bin/env bash
# Creates (or reuses) a virtual environment holding Crucible's dependencies, outside the clone and keyed by the
# hash of pyproject.toml, so a second run on the same machine skips the multi-GB torch install. The project itself
# is NOT installed into it (several clones share the venv): scripts/setup.sh puts the checkout on PYTHONPATH and a
# per-clone `crucible` command in .bin/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${CRUCIBLE_CACHE:-$HOME/.cache/crucible}"
KEY="$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)"
VENV="$CACHE/venv/$KEY"
if [[ ! -x "$VENV/bin/python" ]] || [[ ! -f "$VENV/.complete" ]]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip >&2
  # The dependency list, read from pyproject.toml (project dependencies + the test extra).
  mapfile -t DEPS < <(python3 - "$ROOT/pyproject.toml" <<'PY'
import sys, tomllib
project = tomllib.load(open(sys.argv[1], "rb"))["project"]
for dep in project["dependencies"] + project["optional-dependencies"]["test"]:
    print(dep)
PY
)
  "$VENV/bin/python" -m pip install -q "${DEPS[@]}" >&2
  touch "$VENV/.complete"
fi
echo "$VENV"
