"""What the demo, the benchmarks and the soak read from the chain alone while role processes run: whether a job is
fully resolved, how long submissions took to settle, what the roles spent in gas, and whether every account's books
reconcile to the wei."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from web3 import Web3

from crucible.chain.client import ChainClient
from crucible.protocol import ledger
from crucible.protocol.events import (
    CollateralSlashed,
    EscrowPaid,
    PoolPaid,
    Slashed,
    SlotClaimed,
    SubmissionSettled,
    WorkSubmitted,
    fetch,
)
from crucible.protocol.types import Panel, SlotStatus


def job_resolved(client: ChainClient, job_id: int) -> bool:
    """The job is finished (completed or abandoned), every slot anyone claimed in it is settled or vacated, and every
    seat drawn on those slots is settled: nothing about it is left for anyone to do."""
    if not ledger.job_state(client, job_id).status.finished:
        return False
    for claim in fetch(client, SlotClaimed, job_id=job_id):
        view = ledger.subject_of(client, claim.job_id, claim.round, claim.slot)
        if view.status is SlotStatus.VACATED:
            continue
        if not view.outcome.value:
            return False
        for panel in (Panel.AUDIT, Panel.COMMITTEE):
            if not all(seat.settled for seat in ledger.seats_of(client, claim.job_id, claim.round, claim.slot, panel)):
                return False
    return True


class BlockTimes:
    """Block timestamps, fetched once each."""

    def __init__(self, client: ChainClient) -> None:
        self.client = client
        self._cache: dict[int, int] = {}

    def __call__(self, block: int) -> int:
        if block not in self._cache:
            self._cache[block] = int(self.client.w3.eth.get_block(block)["timestamp"])
        return self._cache[block]


@dataclass(frozen=True)
class Settlement:
    job_id: int
    round: int
    slot: int
    miner: str
    outcome: str
    submitted_block: int
    settled_block: int
    seconds: int  # from the submission's block to the settlement's block, by block timestamps


def settlements(client: ChainClient, from_block: int | None = None) -> list[Settlement]:
    """Every submission settled since `from_block`, with its latency from submit to settlement."""
    when = BlockTimes(client)
    submitted = {e.subject: e for e in fetch(client, WorkSubmitted, from_block=from_block)}
    out = []
    for s in fetch(client, SubmissionSettled, from_block=from_block):
        sub = submitted.get(s.subject)
        if sub is None:
            continue
        out.append(Settlement(sub.job_id, sub.round, sub.slot, sub.miner, s.outcome.name, sub.block, s.block,
                              when(s.block) - when(sub.block)))  # fmt: skip
    return out


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), nearest rank."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5 - 1e-9))
    return float(ordered[min(rank, len(ordered)) - 1])


def gas_by_sender(client: ChainClient, senders: dict[str, str], first: int, last: int) -> dict[str, Any]:
    """Gas used by the transactions of `senders` (address -> group, e.g. its role kind) in blocks first..last: per
    group, per contract function, and the number of transactions and of those that reverted."""
    selectors = _selectors(client)
    lower = {a.lower(): g for a, g in senders.items()}
    by_group: Counter[str] = Counter()
    by_function: Counter[str] = Counter()
    count: Counter[str] = Counter()
    reverted: Counter[str] = Counter()
    for number in range(first, last + 1):
        block = client.w3.eth.get_block(number, full_transactions=True)
        for tx in block["transactions"]:
            group = lower.get(str(tx["from"]).lower())
            if group is None:
                continue
            receipt = client.w3.eth.get_transaction_receipt(tx["hash"])
            used = int(receipt["gasUsed"])
            name = selectors.get(bytes(tx["input"][:4]), "other")
            by_group[group] += used
            by_function[name] += used
            count[name] += 1
            if receipt["status"] != 1:
                reverted[name] += 1
    return {"by_group": dict(by_group), "by_function": dict(by_function), "transactions": dict(count),
            "reverted": dict(reverted), "total": sum(by_group.values())}  # fmt: skip


def _selectors(client: ChainClient) -> dict[bytes, str]:
    out = {}
    for contract in (client.ledger, client.stakes, client.vault, client.token, client.registry):
        for entry in contract.abi:
            if entry.get("type") == "function":
                signature = f"{entry['name']}({','.join(_abi_type(i) for i in entry['inputs'])})"
                out[Web3.keccak(text=signature)[:4]] = entry["name"]
    return out


def _abi_type(item: dict[str, Any]) -> str:
    if item["type"].startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in item["components"]) + ")" + item["type"][5:]
    return str(item["type"])


def reconcile(client: ChainClient, accounts: list[str], before: dict[str, int]) -> dict[str, dict[str, int]]:
    """Each account's holdings in the protocol's token (wallet + stake + unbonding + claimable rewards) against
    what the events say it should be: before + everything credited to it - everything slashed from it. Returns the
    accounts that do not reconcile to the wei, with both figures (empty: every account does)."""
    credited: Counter[str] = Counter()
    for paid in fetch(client, EscrowPaid):
        credited[paid.to.lower()] += paid.amount
    for pooled in fetch(client, PoolPaid):
        credited[pooled.to.lower()] += pooled.amount
    slashed: Counter[str] = Counter()
    for s in fetch(client, Slashed):
        slashed[s.account.lower()] += s.from_stake + s.from_unbonding
    for c in fetch(client, CollateralSlashed):
        slashed[c.account.lower()] += c.amount
    out = {}
    for account in accounts:
        now = holdings(client, account)
        expected = before[account] + credited[account.lower()] - slashed[account.lower()]
        if now != expected:
            out[account] = {"holdings": now, "expected": expected, "difference": now - expected}
    return out


def holdings(client: ChainClient, account: str) -> int:
    """Everything an account holds in the protocol's token, wherever it sits."""
    info = ledger.stake_of(client, account)
    wallet = int(client.call(client.token.functions.balanceOf(account)))
    claimable = int(client.call(client.vault.functions.claimableOf(account)))
    return wallet + info.staked + info.unbonding + claimable
