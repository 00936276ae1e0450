"""The network's public record as tables: stakes, submissions, verdicts, slashes and rewards, read from the chain's
events alone (anyone can run these; no key, no journal)."""

from __future__ import annotations

from typing import Any

from crucible.chain.client import ChainClient
from crucible.protocol.events import (
    EscrowPaid,
    PoolPaid,
    RewardClaimed,
    SeatSettled,
    SlotClaimed,
    Staked,
    SlotVacated,
    SubmissionSettled,
    VerdictRevealed,
    WorkSubmitted,
    fetch,
)
from crucible.staking import stake_view

Row = dict[str, Any]


def _where(client: ChainClient) -> dict[bytes, tuple[int, int, int]]:
    """subject key -> (job, round, slot), from the claims."""
    return {e.subject: (e.job_id, e.round, e.slot) for e in fetch(client, SlotClaimed)}


def stakes(client: ChainClient) -> list[Row]:
    rows = []
    for account in sorted({e.account for e in fetch(client, Staked)}):
        view = stake_view(client, account)
        rows.append({"account": account, "staked_wei": view.staked, "locked_wei": view.locked,
                     "unbonding_wei": view.unbonding, "validator": view.is_validator})  # fmt: skip
    return rows


def submissions(client: ChainClient, job_id: int | None = None) -> list[Row]:
    settled = {e.subject: e for e in fetch(client, SubmissionSettled, job_id=job_id)}
    rows = []
    for e in fetch(client, WorkSubmitted, job_id=job_id):
        s = settled.get(e.subject)
        rows.append({"job": e.job_id, "round": e.round, "slot": e.slot, "miner": e.miner, "bundle": e.bundle_cid,
                     "block": e.block, "outcome": s.outcome.name if s else "PENDING",
                     "paid_wei": s.paid if s else 0, "slashed_wei": s.slashed if s else 0})  # fmt: skip
    return rows


def verdicts(client: ChainClient, job_id: int | None = None) -> list[Row]:
    where = _where(client)
    rows = []
    for e in fetch(client, VerdictRevealed):
        job, round_, slot = where.get(e.subject, (-1, -1, -1))
        if job_id is not None and job != job_id:
            continue
        rows.append({"job": job, "round": round_, "slot": slot, "panel": e.panel.name, "seat": e.seat,
                     "validator": e.validator, "verdict": e.verdict.name, "evidence": e.evidence_cid,
                     "block": e.block})  # fmt: skip
    return rows


def slashes(client: ChainClient, job_id: int | None = None) -> list[Row]:
    where = _where(client)
    rows = []

    def add(subject: bytes, who: str, role: str, amount: int, why: str, block: int) -> None:
        job, round_, slot = where.get(subject, (-1, -1, -1))
        if amount and (job_id is None or job == job_id):
            rows.append({"job": job, "round": round_, "slot": slot, "account": who, "role": role,
                         "slashed_wei": amount, "why": why, "block": block})  # fmt: skip

    for s in fetch(client, SubmissionSettled):
        add(s.subject, s.miner, "miner", s.slashed, s.outcome.name, s.block)
    for seat in fetch(client, SeatSettled):
        add(seat.subject, seat.validator, f"{seat.panel.name.lower()} seat {seat.seat}", seat.slashed,
            "verdict lost, or drawn and silent", seat.block)  # fmt: skip
    for v in fetch(client, SlotVacated):
        add(v.subject, v.miner, "miner", v.slashed, "claimed and never submitted", v.block)
    return sorted(rows, key=lambda r: r["block"])


def rewards(client: ChainClient) -> list[Row]:
    """What each account earned (rewards and bounties; a sponsor's refund is not earnings), claimed and can claim."""
    earned: dict[str, int] = {}
    for e in fetch(client, EscrowPaid):
        if e.reason.rstrip(b"\x00") != b"refund":
            earned[e.to] = earned.get(e.to, 0) + e.amount
    for p in fetch(client, PoolPaid):
        earned[p.to] = earned.get(p.to, 0) + p.amount
    claimed: dict[str, int] = {}
    for c in fetch(client, RewardClaimed):
        claimed[c.account] = claimed.get(c.account, 0) + c.amount
    return [{"account": who, "earned_wei": amount, "claimed_wei": claimed.get(who, 0),
             "claimable_wei": int(client.call(client.vault.functions.claimableOf(who)))}
            for who, amount in sorted(earned.items())]  # fmt: skip


TABLES = {"stakes": stakes, "submissions": submissions, "verdicts": verdicts, "slashes": slashes, "rewards": rewards}
