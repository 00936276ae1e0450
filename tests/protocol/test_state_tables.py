"""The daemons' states are enums with a transition table, drawn in their module docstrings; a journal's history is
checked against the tables (the network stories check every journal they wrote, the soak every role's)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from types import ModuleType

import pytest

import miner.daemon
import validator.daemon
from crucible.journal import Journal, Lifecycle


@pytest.mark.parametrize("module, states", [(miner.daemon, miner.daemon.SlotState),
                                            (validator.daemon, validator.daemon.SeatState),
                                            (validator.daemon, validator.daemon.SubjectState)])  # fmt: skip
def test_every_state_is_in_the_table_and_in_the_modules_diagram(module: ModuleType, states: type[Enum]) -> None:
    lifecycle = next(v for v in vars(module).values() if isinstance(v, Lifecycle) and set(v.moves) == {s.value for s in states})
    assert module.__doc__ is not None
    for state in states:
        assert state.value in lifecycle.moves
        assert state.name in module.__doc__, f"{state.name} is missing from {module.__name__}'s state diagram"
    finals = set(lifecycle.final)
    reachable = set(lifecycle.start)
    for _ in states:
        reachable |= {b for a in reachable for b in lifecycle.moves[a]}
    assert reachable == set(lifecycle.moves), "a state no history can reach"
    assert finals, "a machine with no end"


def test_a_history_outside_the_table_is_reported(tmp_path: Path) -> None:
    lifecycle = miner.daemon.LIFECYCLE
    journal = Journal(tmp_path / "j.sqlite")
    journal.put("1/0/0", "slot", "claiming", {})
    journal.put("1/0/0", "slot", "claimed", {})
    journal.put("1/0/0", "slot", "submitted", {})  # skipped training and submitting
    journal.put("1/0/1", "slot", "trained", {})  # never claimed
    journal.put("x", "mystery", "whatever", {})
    assert journal.violations([lifecycle]) == [
        "1/0/0: 'claimed' -> 'submitted' is not an allowed move",
        "1/0/1: starts in 'trained', not in ['claiming']",
        "x: kind 'mystery' has no lifecycle",
    ]
    with pytest.raises(RuntimeError, match="not a valid move"):
        miner.daemon.Miner.move(object.__new__(miner.daemon.Miner), journal.get("1/0/0"), miner.daemon.SlotState.LOST)  # type: ignore[arg-type]
