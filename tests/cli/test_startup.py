"""Start-up stays light: `--help`, `--version` and the other commands that need no chain load neither torch, web3
nor matplotlib (checked through the modules a real process loaded, not through a timing), and the usage lines name
the command people type."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from crucible.paths import REPO_ROOT
from tests.process import crucible_env

HEAVY = ("torch", "web3", "matplotlib", "eth_account", "ipfshttpclient")

PROBE = """
import json, sys
from crucible.cli.main import cli
try:
    cli(sys.argv[1:], prog_name="crucible")
except SystemExit:
    pass
print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})), file=sys.stderr)
"""


def _loaded(*args: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], env=crucible_env(), capture_output=True, text=True,
                          timeout=60, cwd=REPO_ROOT)  # fmt: skip
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["stake", "--help"], ["job", "create", "--help"],
                                  ["miner", "run", "--help"], ["network", "up", "--help"],
                                  ["stake", "add", "NaN"], ["job", "create", "--kind", "sft", "--slots", "100000"]])  # fmt: skip
def test_light_commands_load_no_heavy_module(args: list[str]) -> None:
    heavy = _loaded(*args) & set(HEAVY)
    assert not heavy, f"`crucible {' '.join(args)}` loaded {sorted(heavy)}"


def test_version_is_one_line() -> None:
    done = subprocess.run([sys.executable, "-m", "crucible", "--version"], env=crucible_env(), capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0 and done.stdout.strip() == "crucible 0.1.0" and not done.stderr


def test_usage_lines_name_the_crucible_command() -> None:
    done = subprocess.run([sys.executable, "-m", "crucible", "stake", "add"], env=crucible_env(), capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2
    assert "Usage: crucible stake add" in done.stderr and "python -m" not in done.stderr


def test_static_choices_match_what_they_mirror() -> None:
    from crucible.cli.job import CHAIN_PRESETS, MODEL_PRESETS
    from crucible.cli.network import deploy
    from crucible.cli.status import TABLE_NAMES
    from crucible.engine.model import PRESETS
    from crucible.localnet.chain import EVMS
    from crucible.protocol.presets import PRESETS as CHAINS
    from crucible.reports import TABLES

    assert MODEL_PRESETS == list(PRESETS) and TABLE_NAMES == sorted(TABLES)
    assert CHAIN_PRESETS == list(CHAINS)
    choices = {p.name: list(p.type.choices) for p in deploy.params if hasattr(p.type, "choices")}  # type: ignore[attr-defined]
    assert choices["preset"] == list(CHAINS)
    from crucible.cli.network import up  # noqa: PLC0415

    assert [list(p.type.choices) for p in up.params if p.name == "evm"] == [list(EVMS)]  # type: ignore[attr-defined]
