"""When cheating does not pay (Proof-of-Sampling): p * (1 - r) * (R + S) > C.

p is the audit probability, r the share of validators that could collude with a cheat, R the reward a slot pays,
S what a caught cheat loses (its collateral plus its slashed share of stake), and C the compute a cheat saves. A
sponsor's job must satisfy it for the cost it declares; the job command refuses parameters that do not.
"""

from __future__ import annotations

from dataclasses import dataclass

from crucible.protocol.types import JobParams


@dataclass(frozen=True)
class SamplingCheck:
    expected_loss: float  # p * (1 - r) * (R + S), in wei
    compute_saved: float  # C, in wei
    ok: bool

    @property
    def margin(self) -> float:
        """How many times the expected loss of cheating exceeds what it saves (> 1 means honesty pays)."""
        return self.expected_loss / self.compute_saved if self.compute_saved > 0 else float("inf")

    def explain(self) -> str:
        verdict = "honesty is the dominant strategy" if self.ok else "cheating pays: raise p, R or the collateral"
        return (f"expected loss of a cheat {self.expected_loss / 1e18:,.4g} CRU vs. compute saved "
                f"{self.compute_saved / 1e18:,.4g} CRU (x{self.margin:.3g}): {verdict}")  # fmt: skip


def sampling_check(params: JobParams, *, compute_saved_wei: int, collusion: float, stake_at_risk_wei: int = 0) -> SamplingCheck:
    """Checks the job's parameters against a declared cost of honest work (what a cheat would save)."""
    if not 0 <= collusion < 1:
        raise ValueError("collusion r must be in [0, 1)")
    if compute_saved_wei < 0:
        raise ValueError("the compute saved must be >= 0")
    p = params.audit_bps / 10_000
    slashable = params.miner_collateral + stake_at_risk_wei * params.miner_slash_bps / 10_000
    expected_loss = p * (1 - collusion) * (params.miner_reward + slashable)
    return SamplingCheck(expected_loss, float(compute_saved_wei), expected_loss > compute_saved_wei)
