"""The demo's summary.md explains itself to a reader who was not there, and its loss plot shows each job on its own
axes with the rejected submissions marked (built here from a recorded run's numbers, without running the demo)."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt

from crucible.simulation.demo import PARAMS, loss_figure, summary_markdown

CRU = 10**18


def _summary() -> dict[str, Any]:
    def row(role: str, behaviour: str, before: int, after: int, earned: int, slashed: int, why: str) -> dict[str, Any]:
        return {"role": role, "behaviour": behaviour, "address": "0x" + "11" * 20, "stake_before_wei": before * CRU,
                "stake_after_wei": after * CRU, "earned_wei": earned * CRU, "slashed_wei": slashed * CRU, "why": why}

    subs = [{"job": 1, "round": 0, "slot": s, "miner": "0x" + "22" * 20, "outcome": o, "paid_wei": 0,
             "slashed_wei": 0} for s, o in enumerate(["ACCEPTED", "ACCEPTED", "REJECTED_CHEAT", "REJECTED_CHEAT"])]
    return {
        "started": "2026-01-02 03:04:05 UTC", "seconds": 241.3, "blocks": [1, 597],
        "jobs": {"pretrain": 1, "sft": 2}, "rounds": {"pretrain": 3, "sft": 2}, "params": PARAMS,
        "sponsor": {"role": "sponsor", "escrowed_wei": 260 * CRU, "paid_to_miners_wei": 110 * CRU,
                    "seat_rewards_wei": 66 * CRU, "returned_wei": 212 * CRU, "escrow_left_wei": 296 * CRU},
        "participants": [row("miner-1", "honest", 300, 300, 60, 0, "5 work slots accepted x 10 CRU"),
                         row("cheater-1", "lazy (skipped step)", 300, 103, 0, 197, "5 submissions rejected")],
        "submissions": subs, "cheating_submissions": 2, "cheating_submissions_rejected": 2,
        "honest_submissions_rejected": 0, "books_balance": True,
        "held_out_loss": {"pretraining (next-token loss)": [3.49, 2.43, 2.0, 1.81], "SFT (response loss)": [3.2, 1.75, 1.58]},
    }  # fmt: skip


def test_summary_md_has_a_heading_the_duration_the_sponsor_and_explains_the_amounts() -> None:
    text = summary_markdown(_summary())
    assert text.startswith("# Crucible demo\n")
    assert "took 4 min 1 s" in text and "blocks 1 to 597" in text
    sponsor = next(line for line in text.splitlines() if line.startswith("| sponsor |"))
    assert "escrowed 260 CRU" in sponsor and "296 CRU is left in escrow" in sponsor
    assert "## What happened" in text and "## Why these amounts" in text
    assert "pays its miner 10 CRU" in text and "locks 20 CRU" in text and "10% of the miner's stake" in text
    assert "| cheater-1 | lazy (skipped step) | 300 CRU | 103 CRU | 0 CRU | 197 CRU | 5 submissions rejected |" in text
    assert "![" in text and "loss_curve.png" in text


def test_the_loss_plot_gives_each_job_its_own_axes_and_marks_rejected_submissions() -> None:
    summary = _summary()
    points = {"pretraining (next-token loss)": [{"round": 0, "slot": 0, "outcome": "ACCEPTED", "loss": 2.4},
                                                {"round": 0, "slot": 2, "outcome": "REJECTED_CHEAT", "loss": 2.6}],
              "SFT (response loss)": [{"round": 1, "slot": 3, "outcome": "REJECTED_CHEAT", "loss": 1.7}]}  # fmt: skip
    fig = loss_figure(summary["held_out_loss"], points)
    try:
        axes = fig.axes
        assert [ax.get_title() for ax in axes] == list(summary["held_out_loss"])
        for ax in axes:
            labels = ax.get_legend_handles_labels()[1]
            assert "rejected submissions (cheats caught)" in labels
        assert axes[0].get_ylim() != axes[1].get_ylim()  # not one shared loss axis
    finally:
        plt.close(fig)
