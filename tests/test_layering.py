"""The product never imports the simulation: a shipped miner, validator or sponsor path cannot load a cheat, and the
simulation package is the one place adversaries live. Checked twice: statically (every import statement of the
product's source) and at run time (a fresh interpreter that loads the roles and the CLI has no simulation module)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from crucible.paths import REPO_ROOT

SIMULATION = "crucible.simulation"
PRODUCT_DIRS = ("crucible", "miner", "validator")


def product_sources() -> list[Path]:
    files = [p for d in PRODUCT_DIRS for p in (REPO_ROOT / d).rglob("*.py")]
    return [p for p in files if "simulation" not in p.relative_to(REPO_ROOT).parts]


def imported_modules(path: Path) -> set[str]:
    """Every module an import statement of `path` names, lazy imports inside functions included."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_product_module_imports_the_simulation_except_the_demo_command() -> None:
    offenders = {}
    for path in product_sources():
        hits = {m for m in imported_modules(path) if m == SIMULATION or m.startswith(SIMULATION + ".")}
        if hits:
            offenders[str(path.relative_to(REPO_ROOT))] = sorted(hits)
    # The one allowed edge: `crucible demo` imports the demo lazily, inside the command.
    assert offenders == {"crucible/cli/main.py": ["crucible.simulation.demo", "crucible.simulation.demo.default_run_dir",
                                                  "crucible.simulation.demo.run_demo"]}  # fmt: skip
    main = (REPO_ROOT / "crucible/cli/main.py").read_text()
    top_level = [n for n in ast.parse(main).body if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert not any(isinstance(n, ast.ImportFrom) and (n.module or "").startswith(SIMULATION) for n in top_level)


def test_the_adversaries_live_only_in_the_simulation_package() -> None:
    assert not (REPO_ROOT / "harness").exists() and not (REPO_ROOT / "crucible/adversary.py").exists()
    for path in product_sources():
        tree = ast.parse(path.read_text())
        classes = {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
        assert not classes & {"CheatingMiner", "LazyValidator", "FalseAccuser", "Sentinel"}, path


def test_loading_the_roles_and_the_cli_loads_no_simulation_module() -> None:
    code = (
        "import json, sys\n"
        "import miner.daemon, validator.daemon, crucible.sponsor, crucible.cli.main\n"
        "from crucible.cli.main import cli\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('crucible.simulation'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
