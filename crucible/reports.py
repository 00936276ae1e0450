"""The network's public record as tables: stakes, submissions, verdicts, slashes and rewards, read from the chain's
events alone (anyone can run these; no key, no journal)."""

from __future__ import annotations

from typing import Any

from crucible.chain.client import ChainClient
from crucible.protocol.types import Outcome, Panel, Verdict

Row = dict[str, Any]


def _logs(client: ChainClient, event: Any, **filters: Any) -> list[Any]:
    return list(event().get_logs(from_block=client.deployment.deployed_at_block, argument_filters=filters or None))


def _where(client: ChainClient) -> dict[bytes, tuple[int, int, int]]:
    """subject key -> (job, round, slot), from the claims."""
    return {bytes(log["args"]["subject"]): (int(log["args"]["jobId"]), int(log["args"]["round"]), int(log["args"]["slot"]))
            for log in _logs(client, client.ledger.events.SlotClaimed)}  # fmt: skip


def stakes(client: ChainClient) -> list[Row]:
    accounts = {str(log["args"]["account"]) for log in _logs(client, client.stakes.events.Staked)}
    rows = []
    for account in sorted(accounts):
        staked, locked, unbonding, *_ = client.call(client.stakes.functions.stakeOf(account))
        rows.append({"account": account, "staked_wei": int(staked), "locked_wei": int(locked),
                     "unbonding_wei": int(unbonding),
                     "validator": bool(client.call(client.stakes.functions.isValidator(account)))})  # fmt: skip
    return rows


def submissions(client: ChainClient, job_id: int | None = None) -> list[Row]:
    filters = {"jobId": job_id} if job_id is not None else {}
    settled = {bytes(log["args"]["subject"]): log["args"] for log in _logs(client, client.ledger.events.SubmissionSettled, **filters)}
    rows = []
    for log in _logs(client, client.ledger.events.WorkSubmitted, **filters):
        a = log["args"]
        s = settled.get(bytes(a["subject"]))
        rows.append({"job": int(a["jobId"]), "round": int(a["round"]), "slot": int(a["slot"]), "miner": str(a["miner"]),
                     "bundle": str(a["bundleCid"]), "block": int(log["blockNumber"]),
                     "outcome": Outcome(int(s["outcome"])).name if s else "PENDING",
                     "paid_wei": int(s["paid"]) if s else 0, "slashed_wei": int(s["slashed"]) if s else 0})  # fmt: skip
    return rows


def verdicts(client: ChainClient, job_id: int | None = None) -> list[Row]:
    where = _where(client)
    rows = []
    for log in _logs(client, client.ledger.events.VerdictRevealed):
        a = log["args"]
        job, round_, slot = where.get(bytes(a["subject"]), (-1, -1, -1))
        if job_id is not None and job != job_id:
            continue
        rows.append({"job": job, "round": round_, "slot": slot, "panel": Panel(int(a["panel"])).name,
                     "seat": int(a["seat"]), "validator": str(a["validator"]), "verdict": Verdict(int(a["verdict"])).name,
                     "evidence": str(a["evidenceCid"]), "block": int(log["blockNumber"])})  # fmt: skip
    return rows


def slashes(client: ChainClient, job_id: int | None = None) -> list[Row]:
    where = _where(client)
    rows = []

    def add(subject: bytes, who: str, role: str, amount: int, why: str, block: int) -> None:
        job, round_, slot = where.get(subject, (-1, -1, -1))
        if amount and (job_id is None or job == job_id):
            rows.append({"job": job, "round": round_, "slot": slot, "account": who, "role": role,
                         "slashed_wei": amount, "why": why, "block": block})  # fmt: skip

    for log in _logs(client, client.ledger.events.SubmissionSettled):
        a = log["args"]
        add(bytes(a["subject"]), str(a["miner"]), "miner", int(a["slashed"]), Outcome(int(a["outcome"])).name,
            int(log["blockNumber"]))  # fmt: skip
    for log in _logs(client, client.ledger.events.SeatSettled):
        a = log["args"]
        add(bytes(a["subject"]), str(a["validator"]), f"{Panel(int(a['panel'])).name.lower()} seat {a['seat']}",
            int(a["slashed"]), "verdict lost or never revealed", int(log["blockNumber"]))  # fmt: skip
    for log in _logs(client, client.ledger.events.SlotVacated):
        a = log["args"]
        add(bytes(a["subject"]), str(a["miner"]), "miner", int(a["slashed"]), "claimed and never submitted",
            int(log["blockNumber"]))  # fmt: skip
    return sorted(rows, key=lambda r: r["block"])


def rewards(client: ChainClient) -> list[Row]:
    earned: dict[str, int] = {}
    for event in (client.vault.events.EscrowPaid, client.vault.events.PoolPaid):
        for log in _logs(client, event):
            who = str(log["args"]["to"])
            earned[who] = earned.get(who, 0) + int(log["args"]["amount"])
    claimed: dict[str, int] = {}
    for log in _logs(client, client.vault.events.RewardClaimed):
        who = str(log["args"]["account"])
        claimed[who] = claimed.get(who, 0) + int(log["args"]["amount"])
    return [{"account": who, "earned_wei": amount, "claimed_wei": claimed.get(who, 0),
             "claimable_wei": int(client.call(client.vault.functions.claimableOf(who)))}
            for who, amount in sorted(earned.items())]  # fmt: skip


TABLES = {"stakes": stakes, "submissions": submissions, "verdicts": verdicts, "slashes": slashes, "rewards": rewards}
