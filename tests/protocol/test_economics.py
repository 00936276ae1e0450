"""Jobs under which cheating pays are refused: p * (1 - r) * (R + S) > C must hold."""

from __future__ import annotations

import pytest

from crucible.protocol.economics import sampling_check
from crucible.protocol.types import JobParams

CRU = 10**18


def test_full_audits_make_honesty_dominant() -> None:
    check = sampling_check(JobParams(audit_bps=10_000), compute_saved_wei=10 * CRU, collusion=0.1)
    # p = 1, (1 - r) = 0.9, R + S = 10 + 20 CRU -> 27 CRU expected loss against 10 CRU saved
    assert check.ok and check.expected_loss == pytest.approx(27 * CRU) and check.margin == pytest.approx(2.7)


def test_rare_audits_with_small_collateral_are_refused() -> None:
    params = JobParams(audit_bps=500, miner_reward=10 * CRU, miner_collateral=20 * CRU)
    check = sampling_check(params, compute_saved_wei=5 * CRU, collusion=0.2)
    # 0.05 * 0.8 * 30 = 1.2 CRU < 5 CRU: a rational miner cheats
    assert not check.ok and "cheating pays" in check.explain()


def test_stake_at_risk_counts_towards_the_slash() -> None:
    params = JobParams(audit_bps=500, miner_slash_bps=5_000)
    without = sampling_check(params, compute_saved_wei=5 * CRU, collusion=0.0)
    with_stake = sampling_check(params, compute_saved_wei=5 * CRU, collusion=0.0, stake_at_risk_wei=1_000 * CRU)
    assert not without.ok and with_stake.ok


def test_nonsense_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="collusion"):
        sampling_check(JobParams(), compute_saved_wei=1, collusion=1.0)
    with pytest.raises(ValueError, match="compute saved"):
        sampling_check(JobParams(), compute_saved_wei=-1, collusion=0.0)
