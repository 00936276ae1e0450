"""Dataclasses for the protocol's on-chain structs and enums, with their ABI tuple forms. Daemons and commands read
the chain through these (and crucible.protocol.events), never through ABI tuples indexed by position."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import astuple, dataclass, fields
from enum import IntEnum
from typing import Any

ZERO_ADDRESS = "0x" + "00" * 20


class JobKind(IntEnum):
    PRETRAIN = 0
    SFT = 1
    DPO = 2
    GRPO = 3


class JobStatus(IntEnum):
    NONE = 0
    ACTIVE = 1
    COMPLETED = 2
    ABANDONED = 3

    @property
    def finished(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.ABANDONED)


class SlotStatus(IntEnum):
    OPEN = 0
    CLAIMED = 1
    SUBMITTED = 2
    CHECKPOINTS_REVEALED = 3
    ACCEPTED = 4
    REJECTED = 5
    VACATED = 6

    @property
    def live(self) -> bool:
        """Submitted and not yet settled."""
        return self in (SlotStatus.SUBMITTED, SlotStatus.CHECKPOINTS_REVEALED)


class Outcome(IntEnum):
    NONE = 0
    ACCEPTED = 1
    REJECTED_CHEAT = 2  # the verdict found the work wrong
    REJECTED_PLANTED = 3  # a planted error confirmed wrong: the sentinel is not slashed
    REJECTED_WITHHELD = 4  # audited, and the sampled checkpoints were not revealed in time
    PLANT_REFUTED = 5  # a "planted error" the committee found correct: the sentinel and the plant bond are slashed
    UNVERIFIED = 6  # no randomness or no verdict could be had: nothing paid, nothing slashed, not aggregated

    @property
    def pass_wins(self) -> bool:
        """Whether seats that said Pass are on the winning side."""
        return self in (Outcome.ACCEPTED, Outcome.PLANT_REFUTED)


class Panel(IntEnum):
    AUDIT = 0
    COMMITTEE = 1


class Verdict(IntEnum):
    NONE = 0
    PASS = 1
    FAIL = 2


class SeatFlags:
    """Bits of a seat's `flags` (contracts/src/libraries/SeatFlags.sol; a test holds them to LedgerLens.seatFlags)."""

    DRAWN = 1
    COMMITTED = 2
    PASS = 4
    FAIL = 8
    SETTLED = 16


class SubjectFlags:
    """Bits of a subject's `flags` (LedgerStorage.FLAG_*)."""

    PLANTED = 1
    SEED_KNOWN = 2
    AUDITED = 4
    SEED_FAILED = 8


# The contracts' retry bounds (contracts/src/libraries/Timelines.sol).
MAX_SEED_ATTEMPTS = 3
MAX_PANEL_ATTEMPTS = 3


def _values(raw: Any) -> list[Any]:
    """An ABI tuple as its list of fields, whether a call returned it (tuple) or an event decoded it (mapping)."""
    return list(raw.values()) if isinstance(raw, Mapping) else list(raw)


@dataclass(frozen=True)
class Windows:
    """Deadlines in blocks (see ILedgerTypes's timeline). The defaults suit a local chain (1 s blocks, 100-block
    epochs): every retry included, a submission resolves within 96 blocks of its claim."""

    submit_window: int = 20
    seed_delay: int = 1
    checkpoint_reveal_window: int = 5
    commit_window: int = 5
    reveal_window: int = 5
    unseal_window: int = 3
    round_claim_window: int = 40

    @classmethod
    def from_abi(cls, raw: Any) -> Windows:
        return cls(*(int(v) for v in _values(raw)))

    def draw_deadline(self, commit_end: int) -> int:
        """The last block a panel committing until `commit_end` may be drawn (Timelines.drawDeadline): every drawn
        seat keeps half the commit window to judge and commit."""
        return commit_end - self.commit_window // 2


@dataclass(frozen=True)
class StakeInfo:
    """An account's record in the stake manager (wei)."""

    staked: int  # bonded, the locked part included
    locked: int  # collateral held by open slots
    unbonding: int  # leaving, still slashable
    unbond_ready_at: int  # block from which `unbonding` may be withdrawn
    leaf: int  # 1 + its leaf in the sortition tree (0: never registered)
    registered: bool  # in the validator set

    @classmethod
    def from_abi(cls, raw: Any) -> StakeInfo:
        staked, locked, unbonding, ready, leaf, registered = _values(raw)
        return cls(int(staked), int(locked), int(unbonding), int(ready), int(leaf), bool(registered))


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
    plant_bond: int = 0
    windows: Windows = Windows()

    def as_abi(self) -> tuple[object, ...]:
        values = [getattr(self, f.name) for f in fields(self)]
        return (*values[:-1], astuple(self.windows))

    @classmethod
    def from_abi(cls, raw: Any) -> JobParams:
        values = _values(raw)
        kind = JobKind(int(values[0]))
        return cls(kind, *(int(v) for v in values[1:-1]), windows=Windows.from_abi(values[-1]))  # type: ignore[arg-type]


@dataclass(frozen=True)
class JobContent:
    spec_digest: bytes
    tolerance_digest: bytes
    initial_checkpoint_digest: bytes
    plant_root: bytes = bytes(32)

    def as_abi(self) -> tuple[bytes, bytes, bytes, bytes]:
        return (self.spec_digest, self.tolerance_digest, self.initial_checkpoint_digest, self.plant_root)

    @classmethod
    def from_abi(cls, raw: Any) -> JobContent:
        return cls(*(bytes(v) for v in _values(raw)))


@dataclass(frozen=True)
class Commitment:
    """The preimage of a submission's on-chain commitment."""

    bundle_cid_hash: bytes
    result_digest: bytes
    merkle_root: bytes

    def as_abi(self) -> tuple[bytes, bytes, bytes]:
        return (self.bundle_cid_hash, self.result_digest, self.merkle_root)

    @classmethod
    def from_abi(cls, raw: Any) -> Commitment:
        return cls(*(bytes(v) for v in _values(raw)))


@dataclass(frozen=True)
class Boundary:
    """A revealed checkpoint boundary with its position-bound Merkle proof."""

    index: int
    checkpoint_digest: bytes
    trace_digest: bytes
    proof: list[bytes]

    def as_abi(self) -> tuple[object, ...]:
        return (self.index, self.checkpoint_digest, self.trace_digest, self.proof)

    @classmethod
    def from_abi(cls, raw: Any) -> Boundary:
        index, ckpt, trace, proof = _values(raw)
        return cls(int(index), bytes(ckpt), bytes(trace), [bytes(p) for p in proof])


@dataclass(frozen=True)
class Timeline:
    """The deadlines of a submission for the seed try and panel attempts in effect (LedgerLens.timelineOf)."""

    seed_block: int
    reveal_deadline: int
    panel_seed_block: int
    commit_end: int
    reveal_end: int
    unseal_end: int
    committee_seed_block: int
    dispute_commit_end: int
    dispute_reveal_end: int

    @classmethod
    def from_abi(cls, raw: Any) -> Timeline:
        return cls(*(int(v) for v in _values(raw)))


@dataclass(frozen=True)
class Seat:
    """One drawn seat of a panel (its number is its index across attempts)."""

    number: int
    validator: str
    flags: int
    commit_end: int
    reveal_end: int
    attempt: int

    @property
    def revealed(self) -> bool:
        return bool(self.flags & (SeatFlags.PASS | SeatFlags.FAIL))

    @property
    def settled(self) -> bool:
        return bool(self.flags & SeatFlags.SETTLED)

    def won(self, outcome: Outcome) -> bool:
        """Whether the seat's revealed verdict is on the winning side of `outcome`."""
        return self.revealed and bool(self.flags & SeatFlags.PASS) == outcome.pass_wins

    @classmethod
    def from_abi(cls, number: int, raw: Any) -> Seat:
        validator, flags, commit_end, reveal_end, attempt = _values(raw)
        return cls(int(number), str(validator), int(flags), int(commit_end), int(reveal_end), int(attempt))


@dataclass(frozen=True)
class Round:
    opened_at: int
    settled_slots: int
    accepted_slots: int
    failed_aggregates: int
    aggregated: bool
    aggregation_opened_at: int
    base_digest: bytes

    @classmethod
    def from_abi(cls, raw: Any) -> Round:
        o, settled, accepted, failed, aggregated, agg_at, base = _values(raw)
        return cls(int(o), int(settled), int(accepted), int(failed), bool(aggregated), int(agg_at), bytes(base))


@dataclass(frozen=True)
class SubjectView:
    key: bytes
    status: SlotStatus
    outcome: Outcome
    miner: str
    deadline_or_submitted_at: int
    commitment: bytes
    audit_seed: bytes
    flags: int
    seed_attempt: int
    audit_drawn: int
    committee_drawn: int
    audit_attempt: int
    committee_attempt: int
    audit_pass: int
    audit_fail: int
    committee_pass: int
    committee_fail: int
    pending_losers: int
    winners: int
    winners_paid: int
    bounty_each: int
    reward_each: int
    slashed_into_pool: int
    pool_balance: int

    @property
    def planted(self) -> bool:
        return bool(self.flags & SubjectFlags.PLANTED)

    @property
    def audited(self) -> bool:
        return bool(self.flags & SubjectFlags.AUDITED)

    @property
    def contested(self) -> bool:
        """A committee sits: an audit seat failed the work (for an unsealed plant: an audit seat passed it)."""
        return self.audit_pass > 0 if self.planted else self.audit_fail > 0

    @classmethod
    def from_abi(cls, raw: Any) -> SubjectView:
        values = _values(raw)
        values[1] = SlotStatus(values[1])
        values[2] = Outcome(values[2])
        values[0], values[5], values[6] = bytes(values[0]), bytes(values[5]), bytes(values[6])
        values[3] = str(values[3])
        return cls(*values)
