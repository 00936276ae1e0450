"""The protocol's events as typed records: the one place that reads raw log arguments.

`fetch(client, WorkSubmitted, subject=key)` returns `list[WorkSubmitted]` in chain order; filters are the event's
indexed arguments in snake_case. Every record carries the block it was mined in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from web3.logs import DISCARD

from crucible.chain.client import ChainClient
from crucible.protocol.types import Boundary, Commitment, JobContent, JobParams, Outcome, Panel, Verdict

E = TypeVar("E", bound="Event")


@dataclass(frozen=True)
class Event:
    """Base of every typed event: which contract and event it comes from, and the block it was mined in."""

    CONTRACT: ClassVar[str]
    EVENT: ClassVar[str]
    block: int

    @classmethod
    def from_log(cls: type[E], log: Mapping[str, Any]) -> E:
        raise NotImplementedError


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def fetch(
    client: ChainClient,
    kind: type[E],
    *,
    from_block: int | None = None,
    to_block: int | str = "latest",
    **filters: Any,
) -> list[E]:
    """Every `kind` event of the deployment in [from_block, to_block], filtered on indexed arguments."""
    contract = getattr(client, kind.CONTRACT)
    event = getattr(contract.events, kind.EVENT)
    start = client.deployment.deployed_at_block if from_block is None else from_block
    argument_filters = {_camel(k): v for k, v in filters.items() if v is not None}
    with client.rpc_errors(f"eth_getLogs({kind.EVENT}, blocks {start}-{to_block})"):
        logs = event().get_logs(from_block=start, to_block=to_block, argument_filters=argument_filters or None)
    return [kind.from_log(log) for log in logs]


def from_receipt(client: ChainClient, kind: type[E], receipt: Mapping[str, Any]) -> list[E]:
    """The `kind` events a transaction emitted."""
    event = getattr(getattr(client, kind.CONTRACT).events, kind.EVENT)
    return [kind.from_log(log) for log in event().process_receipt(receipt, errors=DISCARD)]


def _a(log: Mapping[str, Any]) -> Mapping[str, Any]:
    return log["args"]


# ---------------------------------------------------------------- registry


@dataclass(frozen=True)
class JobCreated(Event):
    CONTRACT = "registry"
    EVENT = "JobCreated"
    job_id: int
    sponsor: str
    spec_cid: str
    escrow: int
    params: JobParams
    content: JobContent

    @classmethod
    def from_log(cls, log: Mapping[str, Any]) -> JobCreated:
        a = _a(log)
        return cls(int(log["blockNumber"]), int(a["jobId"]), str(a["sponsor"]), str(a["specCid"]), int(a["escrow"]),
                   JobParams.from_abi(a["params"]), JobContent.from_abi(a["content"]))  # fmt: skip


# ---------------------------------------------------------------- ledger


@dataclass(frozen=True)
class SlotClaimed(Event):
    CONTRACT = "ledger"
    EVENT = "SlotClaimed"
    subject: bytes
    job_id: int
    miner: str
    round: int
    slot: int
    submit_deadline: int

    @classmethod
    def from_log(cls, log: Mapping[str, Any]) -> SlotClaimed:
        a = _a(log)
        return cls(int(log["blockNumber"]), bytes(a["subject"]), int(a["jobId"]), str(a["miner"]), int(a["round"]),
                   int(a["slot"]), int(a["submitDeadline"]))  # fmt: skip


@dataclass(frozen=True)
class WorkSubmitted(Event):
    CONTRACT = "ledger"
    EVENT = "WorkSubmitted"
    subject: bytes
    job_id: int
    miner: str
    round: int
    slot: int
    bundle_cid: str
    commitment: Commitment

    @classmethod
    def from_log(cls, log: Mapping[str, Any]) -> WorkSubmitted:
        a = _a(log)
        return cls(int(log["blockNumber"]), bytes(a["subject"]), int(a["jobId"]), str(a["miner"]), int(a["round"]),
                   int(a["slot"]), str(a["bundleCid"]), Commitment.from_abi(a["commitment"]))  # fmt: skip


@dataclass(frozen=True)
class CheckpointsRevealed(Event):
    CONTRACT = "ledger"
    EVENT = "CheckpointsRevealed"
    subject: bytes
    miner: str
    boundaries: list[Boundary]
    cids: list[str]

    @classmethod
    def from_log(cls, log: Mapping[str, Any]) -> CheckpointsRevealed:
        a = _a(log)
        return cls(int(log["blockNumber"]), bytes(a["subject"]), str(a["miner"]),
                   [Boundary.from_abi(b) for b in a["boundaries"]], [str(c) for c in a["cids"]])  # fmt: skip


@dataclass(frozen=True)
class SeatDrawn(Event):
    CONTRACT = "ledger"
    EVENT = "SeatDrawn"
    subject: bytes
    validator: str
    panel: Panel
    seat: int
    attempt: int

    @classmethod
    def from_log(cls, log: Mapping[str, Any]) -> SeatDrawn:
        a = _a(log)
        return cls(int(log["blockNumber"]), bytes(a["subject"]), str(a["validator"]), Panel(int(a["panel"])),
                   int(a["seat"]), int(a["attempt"]))  # fmt: skip


@dataclass(frozen=True)
class VerdictCommitted(Event):
    CONTRACT = "ledger"
    EVENT = "VerdictCommitted"
    subject: bytes
    validator: str
    panel: Panel
    seat: int
    commit_hash: bytes

    @classmethod
    def from_log(cls, log: Mapping[str, Any]) -> VerdictCommitted:
        a = _a(log)
        return cls(int(log["blockNumber"]), bytes(a["subject"]), str(a["validator"]), Panel(int(a["panel"])),
                   int(a["seat"]), bytes(a["commitHash"]))  # fmt: skip


@dataclass(frozen=True)
class VerdictRevealed(Event):
    CONTRACT = "ledger"
    EVENT = "VerdictRevealed"
    subject: bytes
    validator: str
    panel: Panel
    seat: int
    verdict: Verdict
    evidence_digest: bytes
    evidence_cid: str

    @classmethod
    def from_log(cls, log: Mapping[str, Any]) -> VerdictRevealed:
        a = _a(log)
        return cls(int(log["blockNumber"]), bytes(a["subject"]), str(a["validator"]), Panel(int(a["panel"])),
                   int(a["seat"]), Verdict(int(a["verdict"])), bytes(a["evidenceDigest"]),
                   str(a["evidenceCid"]))  # fmt: skip


@dataclass(frozen=True)
class PlantUnsealed(Event):
    CONTRACT = "ledger"
    EVENT = "PlantUnsealed"
    subject: bytes
    sentinel: str

    @classmethod
    def from_log(cls, log: Mapping[str, Any]) -> PlantUnsealed:
        a = _a(log)
        return cls(int(log["blockNumber"]), bytes(a["subject"]), str(a["sentinel"]))


@dataclass(frozen=True)
class SubmissionSettled(Event):
    CONTRACT = "ledger"
    EVENT = "SubmissionSettled"
    subject: bytes
    job_id: int
    miner: str
    outcome: Outcome
    paid: int
    slashed: int

    @classmethod
    def from_log(cls, log: Mapping[str, Any]) -> SubmissionSettled:
        a = _a(log)
        return cls(int(log["blockNumber"]), bytes(a["subject"]), int(a["jobId"]), str(a["miner"]),
                   Outcome(int(a["outcome"])), int(a["paid"]), int(a["slashed"]))  # fmt: skip


@dataclass(frozen=True)
class SeatSettled(Event):
    CONTRACT = "ledger"
    EVENT = "SeatSettled"
    subject: bytes
    validator: str
    panel: Panel
    seat: int
    paid: int
    slashed: int

    @classmethod
    def from_log(cls, log: Mapping[str, Any]) -> SeatSettled:
        a = _a(log)
        return cls(int(log["blockNumber"]), bytes(a["subject"]), str(a["validator"]), Panel(int(a["panel"])),
                   int(a["seat"]), int(a["paid"]), int(a["slashed"]))  # fmt: skip


@dataclass(frozen=True)
class SlotVacated(Event):
    CONTRACT = "ledger"
    EVENT = "SlotVacated"
    subject: bytes
    job_id: int
    miner: str
    slashed: int

    @classmethod
    def from_log(cls, log: Mapping[str, Any]) -> SlotVacated:
        a = _a(log)
        return cls(int(log["blockNumber"]), bytes(a["subject"]), int(a["jobId"]), str(a["miner"]), int(a["slashed"]))


@dataclass(frozen=True)
class RoundAggregated(Event):
    CONTRACT = "ledger"
    EVENT = "RoundAggregated"
    job_id: int
    round: int
    aggregate_digest: bytes
    aggregator: str

    @classmethod
    def from_log(cls, log: Mapping[str, Any]) -> RoundAggregated:
        a = _a(log)
        return cls(int(log["blockNumber"]), int(a["jobId"]), int(a["round"]), bytes(a["aggregateDigest"]),
                   str(a["aggregator"]))  # fmt: skip


@dataclass(frozen=True)
class JobCompleted(Event):
    CONTRACT = "ledger"
    EVENT = "JobCompleted"
    job_id: int
    final_checkpoint_digest: bytes

    @classmethod
    def from_log(cls, log: Mapping[str, Any]) -> JobCompleted:
        a = _a(log)
        return cls(int(log["blockNumber"]), int(a["jobId"]), bytes(a["finalCheckpointDigest"]))


# ---------------------------------------------------------------- stakes and vault


@dataclass(frozen=True)
class ValidatorRegistered(Event):
    CONTRACT = "stakes"
    EVENT = "ValidatorRegistered"
    account: str
    leaf: int
    active_from_epoch: int
    device_classes: list[int]

    @classmethod
    def from_log(cls, log: Mapping[str, Any]) -> ValidatorRegistered:
        a = _a(log)
        return cls(int(log["blockNumber"]), str(a["account"]), int(a["leaf"]), int(a["activeFromEpoch"]),
                   [int(c) for c in a["deviceClasses"]])  # fmt: skip


@dataclass(frozen=True)
class RewardClaimed(Event):
    CONTRACT = "vault"
    EVENT = "RewardClaimed"
    account: str
    amount: int

    @classmethod
    def from_log(cls, log: Mapping[str, Any]) -> RewardClaimed:
        a = _a(log)
        return cls(int(log["blockNumber"]), str(a["account"]), int(a["amount"]))


@dataclass(frozen=True)
class Staked(Event):
    CONTRACT = "stakes"
    EVENT = "Staked"
    account: str
    amount: int
    total_staked: int

    @classmethod
    def from_log(cls, log: Mapping[str, Any]) -> Staked:
        a = _a(log)
        return cls(int(log["blockNumber"]), str(a["account"]), int(a["amount"]), int(a["totalStaked"]))


@dataclass(frozen=True)
class Slashed(Event):
    CONTRACT = "stakes"
    EVENT = "Slashed"
    account: str
    from_stake: int
    from_unbonding: int
    recipient: str

    @classmethod
    def from_log(cls, log: Mapping[str, Any]) -> Slashed:
        a = _a(log)
        return cls(int(log["blockNumber"]), str(a["account"]), int(a["fromStake"]), int(a["fromUnbonding"]),
                   str(a["recipient"]))  # fmt: skip


@dataclass(frozen=True)
class CollateralSlashed(Event):
    CONTRACT = "stakes"
    EVENT = "CollateralSlashed"
    account: str
    amount: int
    total_locked: int
    recipient: str

    @classmethod
    def from_log(cls, log: Mapping[str, Any]) -> CollateralSlashed:
        a = _a(log)
        return cls(int(log["blockNumber"]), str(a["account"]), int(a["amount"]), int(a["totalLocked"]),
                   str(a["recipient"]))  # fmt: skip


@dataclass(frozen=True)
class EscrowPaid(Event):
    CONTRACT = "vault"
    EVENT = "EscrowPaid"
    job_id: int
    to: str
    amount: int
    reason: bytes

    @classmethod
    def from_log(cls, log: Mapping[str, Any]) -> EscrowPaid:
        a = _a(log)
        return cls(int(log["blockNumber"]), int(a["jobId"]), str(a["to"]), int(a["amount"]), bytes(a["reason"]))


@dataclass(frozen=True)
class PoolPaid(Event):
    CONTRACT = "vault"
    EVENT = "PoolPaid"
    to: str
    amount: int

    @classmethod
    def from_log(cls, log: Mapping[str, Any]) -> PoolPaid:
        a = _a(log)
        return cls(int(log["blockNumber"]), str(a["to"]), int(a["amount"]))


@dataclass(frozen=True)
class EscrowDeposited(Event):
    CONTRACT = "vault"
    EVENT = "EscrowDeposited"
    job_id: int
    amount: int

    @classmethod
    def from_log(cls, log: Mapping[str, Any]) -> EscrowDeposited:
        a = _a(log)
        return cls(int(log["blockNumber"]), int(a["jobId"]), int(a["amount"]))


@dataclass(frozen=True)
class EscrowPooled(Event):
    CONTRACT = "vault"
    EVENT = "EscrowPooled"
    job_id: int
    amount: int

    @classmethod
    def from_log(cls, log: Mapping[str, Any]) -> EscrowPooled:
        a = _a(log)
        return cls(int(log["blockNumber"]), int(a["jobId"]), int(a["amount"]))


@dataclass(frozen=True)
class PoolReturnedToEscrow(Event):
    CONTRACT = "vault"
    EVENT = "PoolReturnedToEscrow"
    job_id: int
    amount: int

    @classmethod
    def from_log(cls, log: Mapping[str, Any]) -> PoolReturnedToEscrow:
        a = _a(log)
        return cls(int(log["blockNumber"]), int(a["jobId"]), int(a["amount"]))
