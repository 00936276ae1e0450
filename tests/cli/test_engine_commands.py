"""`crucible engine calibrate` writes a tolerance profile that replays can be judged by, and says how far it got
while it runs, on a terminal or not (a log, a CI job, a pipe)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from crucible.cli.main import cli
from crucible.engine.compare import Tolerance


def test_calibrate_writes_a_profile_and_reports_progress_when_not_on_a_terminal(tmp_path: Path) -> None:
    out = tmp_path / "tolerance.json"
    result = CliRunner().invoke(cli, ["--json", "engine", "calibrate", "--replays", "5", "--out", str(out)])
    assert result.exit_code == 0, result.output
    profile = Tolerance.from_json(json.loads(out.read_text()))
    assert profile.measured["replays"] == 5 and 0 < profile.rel_update_error < 1e-3
    assert json.loads(result.stdout)["profile"] == str(out)
    assert "calibrating pretrain/tiny/fp32: 5/5 replays (100%)" in result.stderr


def test_calibrate_refuses_bad_options_before_it_starts(tmp_path: Path) -> None:
    for args, option in [(["--out", str(tmp_path / "no" / "such" / "dir.json")], "--out"),
                         (["--out", str(tmp_path / "t.json"), "--replays", "0"], "--replays"),
                         (["--out", str(tmp_path / "t.json"), "--validator-device", "gpu0"], "--validator-device"),
                         (["--out", str(tmp_path / "t.json"), "--model", "huge"], "--model")]:  # fmt: skip
        result = CliRunner().invoke(cli, ["engine", "calibrate", *args])
        assert result.exit_code == 2 and option in result.output and "Traceback" not in result.output, result.output


def test_ctrl_c_during_a_command_exits_130(tmp_path: Path) -> None:
    import signal

    from tests.process import CRUCIBLE, crucible_env, spawn, timed_wait, wait_for

    out = tmp_path / "never.json"
    with spawn([*CRUCIBLE, "engine", "calibrate", "--replays", "100000", "--out", str(out)], env=crucible_env(),
               stdout=None) as process:  # fmt: skip
        first = ""

        def started() -> bool:
            nonlocal first
            first = process.stderr.readline()  # type: ignore[union-attr]
            return "honest replays" in first

        wait_for(started, 120, "calibration to start")
        process.send_signal(signal.SIGINT)
        code, _ = timed_wait(process, 30)
        err = process.stderr.read()  # type: ignore[union-attr]
    assert code == 130 and "error: interrupted" in err and "Traceback" not in err
    assert not out.exists()
