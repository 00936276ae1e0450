"""A submission's deadlines, mirroring contracts/src/libraries/Timelines.sol (a test holds the two together).

Daemons use it to know, without a call per block, which blocks' randomness a subject may need: the seed tries, the
audit panel's re-draws and the committee's draws. Keepers record randomness in exactly those blocks.
"""

from __future__ import annotations

from crucible.protocol.types import MAX_PANEL_ATTEMPTS, MAX_SEED_ATTEMPTS, Timeline, Windows


def compute(submitted_at: int, seed_attempt: int, audit_attempt: int, committee_attempt: int, w: Windows) -> Timeline:
    period = w.seed_delay + w.commit_window + w.reveal_window
    seed_block = submitted_at + w.seed_delay * (seed_attempt + 1)
    reveal_deadline = seed_block + w.checkpoint_reveal_window
    reveal_end = reveal_deadline + w.commit_window + w.reveal_window + audit_attempt * period
    commit_end = reveal_end - w.reveal_window
    panel_seed = seed_block if audit_attempt == 0 else commit_end - w.commit_window
    unseal_end = reveal_end + w.unseal_window
    committee_seed = unseal_end + w.seed_delay + committee_attempt * period
    return Timeline(seed_block, reveal_deadline, panel_seed, commit_end, reveal_end, unseal_end, committee_seed,
                    committee_seed + w.commit_window, committee_seed + w.commit_window + w.reveal_window)  # fmt: skip


def longest_resolution(w: Windows) -> int:
    """Blocks from a claim to the last block at which its settlement can still be undecided."""
    return compute(w.submit_window, MAX_SEED_ATTEMPTS - 1, MAX_PANEL_ATTEMPTS - 1, MAX_PANEL_ATTEMPTS - 1, w).dispute_reveal_end


def randomness_blocks(submitted_at: int, seed_attempt: int, audit_attempt: int, w: Windows) -> list[int]:
    """Every block whose randomness the subject may still need: the seed tries, the audit re-draws (after the seed
    try in effect) and the committee draws (after the audit attempt in effect)."""
    tries = [submitted_at + w.seed_delay * (k + 1) for k in range(MAX_SEED_ATTEMPTS)]
    redraws = [compute(submitted_at, seed_attempt, r, 0, w).panel_seed_block for r in range(1, MAX_PANEL_ATTEMPTS)]
    committees = [
        compute(submitted_at, seed_attempt, audit_attempt, r, w).committee_seed_block for r in range(MAX_PANEL_ATTEMPTS)
    ]
    return tries + redraws + committees
