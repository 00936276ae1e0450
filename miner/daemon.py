"""The miner process: finds open slots, trains, pins, submits, answers audits, settles and claims its pay.

Each slot is a journal entry that walks a small state machine (SlotState):

    CLAIMING --claim tx--> CLAIMED --train--> TRAINED --journal the run--> SUBMITTING --submit tx--> SUBMITTED --> DONE
        \\--slot taken--> LOST        \\--deadline passed--> EXPIRED            \\--too late--> EXPIRED
    SUBMITTED: records the randomness of its own seed blocks, reveals the sampled checkpoints when audited, settles.

Every step first reads the chain (the truth) and then acts, and every finished artifact is in the journal before the
transaction that commits to it: a crash at any point resumes without training twice, submitting twice, or losing a
reveal. Aggregation is a slot too: once every work slot of a round is settled, a miner claims the aggregation slot,
averages the accepted results (bit-exactly reproducible) and submits the next round's base.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import torch
from eth_utils import keccak

from crucible.engine.aggregate import aggregate, aggregate_digest
from crucible.engine.bundle import DatasetRef, publish
from crucible.engine.checkpoint import digest, to_bytes
from crucible.engine.determinism import configure, fingerprint
from crucible.engine.segment import HONEST, SegmentRun, SegmentSpec, run_segment
from crucible.errors import (
    ContractError,
    LedgerDeadlinePassed,
    LedgerMinerStakeTooLow,
    LedgerRoundNotOpen,
    LedgerRoundNotReadyForAggregation,
    LedgerSlotOutOfRange,
    LedgerSlotTaken,
    StakeInsufficientFree,
)
from crucible.journal import Entry, Lifecycle
from crucible.node import Node
from crucible.protocol import ledger
from crucible.protocol.events import SubmissionSettled, fetch
from crucible.protocol.jobs import LoadedJob, accepted_results, round_base
from crucible.protocol.types import Commitment, JobStatus, SlotStatus, SubjectView, Timeline
from crucible.storage import writing
from crucible.units import cru
from miner.runs import load_run, save_run
from miner.windows import WindowSource
from miner.work import reveal_sampled

KIND = "slot"


class SlotState(str, Enum):
    CLAIMING = "claiming"
    CLAIMED = "claimed"
    TRAINED = "trained"
    SUBMITTING = "submitting"
    SUBMITTED = "submitted"
    DONE = "done"
    LOST = "lost"
    EXPIRED = "expired"


# Which states a slot may move to from each state (the journal refuses nothing; the daemon checks its own moves).
TRANSITIONS: dict[SlotState, frozenset[SlotState]] = {
    SlotState.CLAIMING: frozenset({SlotState.CLAIMED, SlotState.LOST}),
    SlotState.CLAIMED: frozenset({SlotState.TRAINED, SlotState.EXPIRED}),
    SlotState.TRAINED: frozenset({SlotState.SUBMITTING}),
    SlotState.SUBMITTING: frozenset({SlotState.SUBMITTED, SlotState.EXPIRED}),
    SlotState.SUBMITTED: frozenset({SlotState.SUBMITTED, SlotState.DONE}),
    SlotState.DONE: frozenset(),
    SlotState.LOST: frozenset(),
    SlotState.EXPIRED: frozenset(),
}
LIFECYCLE = Lifecycle.of(KIND, {SlotState.CLAIMING}, TRANSITIONS)
FINAL = LIFECYCLE.final


@dataclass
class MinerConfig:
    work_dir: Path
    jobs: frozenset[int] | None = None  # only these jobs (default: every job on the deployment)
    slots_per_round: int | None = None  # at most this many work slots of one round (default: no limit)
    aggregate: bool = True  # also claim aggregation slots
    stake_wei: int = 0  # keep at least this much staked (topped up on start)


ProgressFactory = Callable[[str, int], Callable[[], None]]


class Miner(Node):
    role = "miner"
    entry_kinds = (KIND,)
    final_states = FINAL

    def __init__(self, *args: Any, config: MinerConfig, progress: ProgressFactory | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.config = config
        self.progress = progress
        configure(self.device)

    # ------------------------------------------------------------------ the loop

    def start(self) -> None:
        self.ensure_stake(self.config.stake_wei)

    def tick(self) -> None:
        for entry in self.journal.entries(KIND, exclude_states=FINAL):
            self.isolated(entry.key, lambda e=entry: self.advance(e))
        if not self.journal.entries(KIND, exclude_states=(*FINAL, SlotState.SUBMITTED.value)):
            self.claim_next()
        self.claim_rewards()

    def advance(self, entry: Entry) -> None:
        step = getattr(self, f"_on_{entry.state}")
        step(entry)

    def move(self, entry: Entry, to: SlotState, data: dict[str, Any] | None = None, note: str = "") -> Entry:
        """Journals a state change, refusing one the state machine does not allow (a bug, not bad input)."""
        if not LIFECYCLE.allows(entry.state, to.value):
            raise RuntimeError(f"slot {entry.key}: {entry.state} -> {to.value} is not a valid move")
        return self.journal.put(entry.key, KIND, to.value, data or {}, note=note)

    # ------------------------------------------------------------------ finding work

    def active_jobs(self) -> list[int]:
        ids = [r.job_id for r in self.job_records()]
        if self.config.jobs is not None:
            ids = [i for i in ids if i in self.config.jobs]
        return [i for i in ids if not self.invalid_job(i) and ledger.job_state(self.client, i).status is JobStatus.ACTIVE]

    def claim_next(self) -> None:
        for job_id in self.active_jobs():
            if self.isolated(f"job {job_id}", lambda j=job_id: self._claim_in(j)):
                return

    def _claim_in(self, job_id: int) -> bool:
        round_ = ledger.job_state(self.client, job_id).round
        return any(self._claim(job_id, round_, slot) for slot in self.candidate_slots(job_id, round_))

    def candidate_slots(self, job_id: int, round_: int) -> list[int]:
        """Open slots this miner would claim, in the order it tries them."""
        w = self.job(job_id).record.params.slots_per_round
        r = ledger.round_of(self.client, job_id, round_)
        if r.settled_slots >= w:
            if not self.config.aggregate:
                return []
            slot = w + r.failed_aggregates
            return [slot] if ledger.subject_of(self.client, job_id, round_, slot).status is SlotStatus.OPEN else []
        mine = [e for e in self.journal.entries(KIND) if e.data["job"] == job_id and e.data["round"] == round_
                and e.data["slot"] < w and e.state != SlotState.LOST.value]  # fmt: skip
        if self.config.slots_per_round is not None and len(mine) >= self.config.slots_per_round:
            return []
        # Start from a slot that depends on the address, so miners spread out instead of racing for slot 0.
        offset = int(self.address, 16) % w
        order = [(offset + i) % w for i in range(w)]
        return [s for s in order if ledger.subject_of(self.client, job_id, round_, s).status is SlotStatus.OPEN]

    def _claim(self, job_id: int, round_: int, slot: int) -> bool:
        key = f"{job_id}/{round_}/{slot}"
        if self.journal.get(key) is not None:
            return False
        entry = self.journal.put(key, KIND, SlotState.CLAIMING.value, {"job": job_id, "round": round_, "slot": slot})
        self._on_claiming(entry)
        return self.journal.get(key).state != SlotState.LOST.value  # type: ignore[union-attr]

    # ------------------------------------------------------------------ the slot's states

    def _view(self, entry: Entry) -> SubjectView:
        return ledger.subject_of(self.client, entry.data["job"], entry.data["round"], entry.data["slot"])

    def _mine(self, view: SubjectView) -> bool:
        return view.miner.lower() == self.address.lower()

    def _on_claiming(self, entry: Entry) -> None:
        d = entry.data
        view = self._view(entry)
        if view.status is SlotStatus.OPEN:
            try:
                ledger.claim_slot(self.client, d["job"], d["round"], d["slot"])
            except (LedgerSlotTaken, LedgerRoundNotOpen, LedgerSlotOutOfRange, LedgerRoundNotReadyForAggregation) as exc:
                self.move(entry, SlotState.LOST, note=str(exc))
                self.log.info("slot %s taken before us (%s)", entry.key, type(exc).__name__)
                return
            except LedgerMinerStakeTooLow as exc:
                self.move(entry, SlotState.LOST, note=str(exc))
                self.log.warning("stake below the miner minimum (%s): topping up", exc)
                self.ensure_stake(self.config.stake_wei)
                return
            except StakeInsufficientFree as exc:
                self.move(entry, SlotState.LOST, note=str(exc))
                self.log.warning("cannot lock the collateral for %s: %s", entry.key, exc)
                return
            view = self._view(entry)
        if not self._mine(view):
            self.move(entry, SlotState.LOST, note=f"held by {view.miner}")
            return
        self.move(entry, SlotState.CLAIMED, {"deadline": view.deadline_or_submitted_at})
        self.log.info("claimed slot %s (submit by block %d)", entry.key, view.deadline_or_submitted_at)

    def _on_claimed(self, entry: Entry) -> None:
        d = entry.data
        if self.block() > d["deadline"]:
            self.move(entry, SlotState.EXPIRED, note="submit deadline passed before training finished")
            self.log.warning("slot %s: the submit deadline passed; the collateral will be slashed", entry.key)
            return
        job = self.job(d["job"])
        directory = self.config.work_dir / entry.key.replace("/", "-")
        # A full disk leaves the slot CLAIMED with nothing half-written: the next pass trains again (StorageFull says
        # where and until which block; nothing is pinned or submitted before the run is whole on disk).
        full = writing(f"slot {entry.key}'s run (still claimed, retried next pass; submit by block {d['deadline']})",
                       self.config.work_dir, discard_on_full=directory)  # fmt: skip
        if d["slot"] >= job.record.params.slots_per_round:
            result = self.build_aggregate(job, d["round"])
            with full:
                directory.mkdir(parents=True, exist_ok=True)
                (directory / "aggregate.safetensors").write_bytes(result)
            self.move(entry, SlotState.TRAINED, {"dir": str(directory), "aggregate": True})
            self.log.info("slot %s: aggregate built (%d bytes)", entry.key, len(result))
            return
        base = round_base(self.client, self.store, job, d["round"])
        spec = job.spec.segment(d["job"], d["round"], d["slot"], self.address)
        total = spec.steps_per_interval * spec.intervals
        progress = self.progress(f"training {entry.key}", total) if self.progress else None
        started = time.perf_counter()
        with full:
            run = self.train(spec, base, job, directory / "checkpoints", progress)
            self.compute_seconds += time.perf_counter() - started
            save_run(run, directory)
        self.move(entry, SlotState.TRAINED, {"dir": str(directory), "aggregate": False,
                                              "parent": digest(weights_bytes(base)).hex()})  # fmt: skip
        self.log.info("slot %s: trained %d steps, result %s", entry.key, total, run.result_digest.hex()[:12])

    def _on_trained(self, entry: Entry) -> None:
        d = entry.data
        directory = Path(d["dir"])
        job = self.job(d["job"])
        if d["aggregate"]:
            result = (directory / "aggregate.safetensors").read_bytes()
            cid, result_digest, root = self.store.add(result), digest(result), bytes(32)
        else:
            run = load_run(directory)
            bundle = publish(self.store, run, DatasetRef(job.spec.dataset_cid, bytes.fromhex(job.spec.dataset_sha256)),
                             fingerprint(self.device, run.spec.precision), bytes.fromhex(d["parent"]))  # fmt: skip
            cid, result_digest, root = bundle.cid, run.result_digest, run.merkle_root
        # What the commitment binds is journaled before the transaction that commits it.
        entry = self.move(entry, SlotState.SUBMITTING, {"cid": cid, "result": result_digest.hex(), "root": root.hex()})
        self._on_submitting(entry)

    def _on_submitting(self, entry: Entry) -> None:
        d = entry.data
        view = self._view(entry)
        if view.status is SlotStatus.CLAIMED and self._mine(view):
            try:
                ledger.submit_work(self.client, d["job"], d["round"], d["slot"], bundle_cid=d["cid"],
                                   result_digest=bytes.fromhex(d["result"]), merkle_root=bytes.fromhex(d["root"]))  # fmt: skip
            except LedgerDeadlinePassed as exc:
                self.move(entry, SlotState.EXPIRED, note=str(exc))
                self.log.warning("slot %s: submitted too late (%s)", entry.key, exc)
                return
            view = self._view(entry)
        if view.status in (SlotStatus.SUBMITTED, SlotStatus.CHECKPOINTS_REVEALED, SlotStatus.ACCEPTED,
                           SlotStatus.REJECTED):  # fmt: skip
            entry = self.move(entry, SlotState.SUBMITTED, {"submitted_at": view.deadline_or_submitted_at})
            self.log.info("slot %s: submitted bundle %s", entry.key, d["cid"])
            # The seed block is usually the very next one: record its randomness now rather than leave it to luck.
            self.keep_randomness(self._view(entry), self.job(d["job"]).record.params.windows)
        elif view.status is SlotStatus.VACATED:
            self.move(entry, SlotState.EXPIRED, note="vacated")

    def _on_submitted(self, entry: Entry) -> None:
        d = entry.data
        view = self._view(entry)
        if view.outcome.value:
            self._finish(entry, view)
            return
        job = self.job(d["job"])
        self.keep_randomness(view, job.record.params.windows)
        t = ledger.timeline_of(self.client, d["job"], d["round"], d["slot"])
        block = self.block()
        is_work = d["slot"] < job.record.params.slots_per_round
        # A transaction sent now lands in the next block: that is the one that must fall inside the window.
        if is_work and view.status is SlotStatus.SUBMITTED and t.seed_block <= block and block + 1 <= t.reveal_deadline:
            known, audited = ledger.audit_status(self.client, d["job"], d["round"], d["slot"])
            if known and audited:
                self.answer_audit(entry)
        self.after_submitted(entry, view, t, block)
        if block > t.reveal_deadline:
            fn = self.client.ledger.functions.settleSubmission(d["job"], d["round"], d["slot"])
            if self.would_succeed(fn) and self.send(f"settle {entry.key}", fn):
                self._finish(entry, self._view(entry))

    def _finish(self, entry: Entry, view: SubjectView) -> None:
        settled = fetch(self.client, SubmissionSettled, subject=view.key)
        paid = settled[-1].paid if settled else 0
        slashed = settled[-1].slashed if settled else 0
        self.move(entry, SlotState.DONE, {"outcome": view.outcome.name, "paid": paid, "slashed": slashed})
        self.log.info("slot %s settled: %s (paid %s, slashed %s)", entry.key, view.outcome.name, cru(paid), cru(slashed))

    def answer_audit(self, entry: Entry) -> None:
        """Pins both ends of every sampled interval and reveals them with their Merkle proofs."""
        d = entry.data
        job = self.job(d["job"])
        base = round_base(self.client, self.store, job, d["round"]) if job.spec.kind == "dpo" else None
        try:
            intervals = reveal_sampled(self.client, self.store, d["job"], d["round"], d["slot"],
                                       load_run(Path(d["dir"])), commitment_of(d),
                                       windows=self.window_source(job, base))  # fmt: skip
        except ContractError as exc:
            self.log.warning("slot %s: reveal refused: %s", entry.key, exc)
            return
        self.log.info("slot %s audited: revealed intervals %s", entry.key, intervals)

    # ------------------------------------------------------------------ what a subclass may change

    def train(self, spec: SegmentSpec, base: dict[str, torch.Tensor], job: LoadedJob, work_dir: Path,
              progress: Callable[[], None] | None) -> SegmentRun:  # fmt: skip
        reference = base if job.spec.kind == "dpo" else None
        return run_segment(spec, base, job.dataset, work_dir, self.device, policy=HONEST, reference=reference,
                           progress=progress)  # fmt: skip

    def build_aggregate(self, job: LoadedJob, round_: int) -> bytes:
        base = round_base(self.client, self.store, job, round_)
        merged = aggregate(base, accepted_results(self.client, self.store, job, round_))
        self.log.info("aggregate of round %d: %s", round_, aggregate_digest(merged).hex()[:12])
        return weights_bytes(merged)

    def window_source(self, job: LoadedJob, reference: dict[str, torch.Tensor] | None) -> WindowSource:
        """What the miner recomputes an audit window's states from (the simulation's cheaters serve their own)."""
        return WindowSource(job.dataset, self.device, reference)

    def after_submitted(self, entry: Entry, view: SubjectView, timeline: Timeline, block: int) -> None:
        """A hook for the simulation's sentinel (unsealing a planted error); the shipped miner does nothing here."""

    def waiting_for(self, block: int) -> list[str]:
        """For the status line: what each open slot waits for, in blocks."""
        out = []
        for entry in self.journal.entries(KIND, exclude_states=FINAL):
            d = entry.data
            if entry.state == SlotState.CLAIMED.value:
                out.append(f"slot {entry.key} to train and submit by block {d.get('deadline')}")
            elif entry.state == SlotState.SUBMITTED.value:
                t = ledger.timeline_of(self.client, d["job"], d["round"], d["slot"])
                if block <= t.seed_block:
                    out.append(f"slot {entry.key}: audit randomness at block {t.seed_block}")
                else:
                    out.append(f"slot {entry.key}: {self.settle_wait(d['job'], d['round'], d['slot'])}")
            else:
                out.append(f"slot {entry.key} {entry.state}")
        return out

    def idle_reason(self) -> str:
        jobs = self.active_jobs()
        if not jobs:
            return "no active job; waiting for one to be posted"
        return f"no open slot in active job(s) {', '.join(map(str, jobs))}; waiting for the next round or job"


def commitment_of(data: dict[str, Any]) -> Commitment:
    """The preimage of a journaled submission's on-chain commitment."""
    return Commitment(keccak(text=data["cid"]), bytes.fromhex(data["result"]), bytes.fromhex(data["root"]))


def weights_bytes(weights: dict[str, torch.Tensor]) -> bytes:
    return to_bytes(weights, metadata={"format": "crucible-weights-v1"})
