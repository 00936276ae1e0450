"""Dataclasses for the protocol's on-chain structs, with their ABI tuple forms."""

from __future__ import annotations

from dataclasses import astuple, dataclass
from enum import IntEnum


class JobKind(IntEnum):
    PRETRAIN = 0
    SFT = 1
    DPO = 2
    GRPO = 3


class JobStatus(IntEnum):
    NONE = 0
    ACTIVE = 1
    COMPLETED = 2


class SlotStatus(IntEnum):
    OPEN = 0
    CLAIMED = 1
    SUBMITTED = 2
    CHECKPOINTS_REVEALED = 3
    ACCEPTED = 4
    REJECTED = 5
    VACATED = 6


class Outcome(IntEnum):
    NONE = 0
    ACCEPTED = 1
    REJECTED_CHEAT = 2
    REJECTED_PLANTED = 3
    REJECTED_WITHHELD = 4


class Panel(IntEnum):
    AUDIT = 0
    COMMITTEE = 1


class Verdict(IntEnum):
    NONE = 0
    PASS = 1
    FAIL = 2


@dataclass(frozen=True)
class Windows:
    """Deadlines in blocks (see IWorkLedger's timeline)."""

    submit_window: int = 50
    seed_delay: int = 2
    checkpoint_reveal_window: int = 20
    commit_window: int = 20
    reveal_window: int = 20
    unseal_window: int = 10
    round_claim_window: int = 200


@dataclass(frozen=True)
class JobParams:
    """Everything the protocol enforces about a job (amounts in wei)."""

    kind: JobKind = JobKind.PRETRAIN
    num_rounds: int = 1
    slots_per_round: int = 2
    intervals_per_slot: int = 4
    sampled_intervals: int = 2
    audit_bps: int = 10_000
    seats_per_audit: int = 2
    committee_size: int = 3
    miner_slash_bps: int = 1_000
    bounty_bps: int = 5_000
    miner_reward: int = 10 * 10**18
    validator_reward: int = 1 * 10**18
    aggregator_reward: int = 2 * 10**18
    miner_collateral: int = 20 * 10**18
    validator_slash: int = 10 * 10**18
    windows: Windows = Windows()

    def as_abi(self) -> tuple[object, ...]:
        fields = astuple(self)
        return (*fields[:-1], astuple(self.windows))


@dataclass(frozen=True)
class JobContent:
    spec_digest: bytes
    tolerance_digest: bytes
    initial_checkpoint_digest: bytes

    def as_abi(self) -> tuple[bytes, bytes, bytes]:
        return (self.spec_digest, self.tolerance_digest, self.initial_checkpoint_digest)


@dataclass(frozen=True)
class Commitment:
    """The preimage of a submission's on-chain commitment."""

    bundle_cid_hash: bytes
    result_digest: bytes
    merkle_root: bytes
    seal: bytes

    def as_abi(self) -> tuple[bytes, bytes, bytes, bytes]:
        return (self.bundle_cid_hash, self.result_digest, self.merkle_root, self.seal)


@dataclass(frozen=True)
class Boundary:
    """A revealed checkpoint boundary with its Merkle proof."""

    index: int
    checkpoint_digest: bytes
    trace_digest: bytes
    proof: list[bytes]

    def as_abi(self) -> tuple[object, ...]:
        return (self.index, self.checkpoint_digest, self.trace_digest, self.proof)


@dataclass(frozen=True)
class Timeline:
    seed_block: int
    reveal_deadline: int
    commit_end: int
    reveal_end: int
    unseal_end: int
    dispute_seed_block: int
    dispute_commit_end: int
    dispute_reveal_end: int


@dataclass(frozen=True)
class SubjectView:
    key: bytes
    status: SlotStatus
    outcome: Outcome
    miner: str
    deadline_or_submitted_at: int
    commitment: bytes
    audit_seed: bytes
    audit_pass: int
    audit_fail: int
    committee_pass: int
    committee_fail: int
    planted: bool
    committee_pass_weight: int
    committee_fail_weight: int
    pending_losers: int
    winners: int
    winners_paid: int
    pool_balance: int

    @classmethod
    def from_abi(cls, raw: tuple[object, ...]) -> SubjectView:
        values = list(raw)
        values[1] = SlotStatus(values[1])
        values[2] = Outcome(values[2])
        return cls(*values)  # type: ignore[arg-type]
