"""`crucible engine calibrate` writes a tolerance profile that replays can be judged by."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from crucible.cli.main import cli
from crucible.engine.compare import Tolerance


def test_calibrate_writes_a_profile(tmp_path: Path) -> None:
    out = tmp_path / "tolerance.json"
    result = CliRunner().invoke(cli, ["--json", "engine", "calibrate", "--replays", "5", "--out", str(out)])
    assert result.exit_code == 0, result.output
    profile = Tolerance.from_json(json.loads(out.read_text()))
    assert profile.measured["replays"] == 5 and 0 < profile.rel_update_error < 1e-3
    assert json.loads(result.output)["profile"] == str(out)
