#!/usr/bin/env bash
# Creates (or reuses) a virtual environment holding Crucible's dependencies, outside the clone and keyed by the
# dependency lists of pyproject.toml (runtime + the hf, test and dev extras) and the Python version, so a second run
# on the same machine, or an edit to pyproject.toml's tool settings, skips the multi-GB torch install. The project
# itself is NOT installed into it (several clones share the venv): scripts/setup.sh puts the checkout on PYTHONPATH
# and a per-clone `crucible` command in .bin/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${CRUCIBLE_CACHE:-$HOME/.cache/crucible}"
# The dependency list, read from pyproject.toml (project dependencies + the hf, test and dev extras).
DEPS_TEXT="$(python3 - "$ROOT/pyproject.toml" <<'PY'
import sys, tomllib
project = tomllib.load(open(sys.argv[1], "rb"))["project"]
extras = project["optional-dependencies"]
for dep in project["dependencies"] + extras["hf"] + extras["test"] + extras["dev"]:
    print(dep)
PY
)"
KEY="$( { python3 --version; echo "$DEPS_TEXT"; } | sha256sum | cut -c1-16)"
VENV="$CACHE/venv/$KEY"
mkdir -p "$CACHE/venv"
# Two setups at once (two clones, or a test and a user) must not build the same venv over each other: the second
# waits for the first and then finds it complete. (A venv is not relocatable, so it cannot be built aside and moved.)
exec {LOCK}>"$VENV.lock"
flock "$LOCK"
if [[ ! -x "$VENV/bin/python" ]] || [[ ! -f "$VENV/.complete" ]]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip >&2
  mapfile -t DEPS <<< "$DEPS_TEXT"
  "$VENV/bin/python" -m pip install -q "${DEPS[@]}" >&2
  touch "$VENV/.complete"
fi
flock -u "$LOCK"
echo "$VENV"
