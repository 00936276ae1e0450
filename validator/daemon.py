"""The validator process: follows submissions on-chain, keeps the randomness their audits need, draws panels as a
keeper, replays what it was drawn for, commits and reveals verdicts, serves on committees, and settles whatever has
expired.

Subjects and seats are journal entries (SubjectState, SeatState; their transition tables below). A subject comes from
a SlotClaimed or WorkSubmitted event:

    WATCHING --vacated, or settled with every one of its seats settled--> DONE

A seat comes from a SeatDrawn event naming this validator and walks:

    DRAWN --replay, journal verdict + salt + evidence--> DECIDED --commit tx--> COMMITTED --reveal tx--> REVEALED
      \\--commit window closed--> MISSED                     \\--commit window closed--> MISSED  \\--reveal window closed--> MISSED

The verdict, its salt and its evidence are journaled in DECIDED, before the commit transaction, so a restart always
reveals what it committed and never commits twice (it reads the seat's on-chain record first). The event cursor is
journaled too: a restart re-reads the chain from where it stopped and misses nothing.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from enum import Enum
from typing import Any

from crucible.artifacts.store import sha256
from crucible.engine.determinism import configure, declared_classes
from crucible.errors import TransactionReverted
from crucible.journal import Entry, Lifecycle
from crucible.node import Node
from crucible.protocol import ledger
from crucible.protocol.events import SeatDrawn, SlotClaimed, WorkSubmitted, fetch
from crucible.protocol.jobs import round_base
from crucible.protocol.types import JobStatus, Panel, Seat, SeatFlags, SlotStatus, SubjectView, Verdict
from validator.aggregate_audit import audit_aggregate
from validator.audit import AuditReport, audit_slot

SUBJECT = "subject"
SEAT = "seat"
LOG_CHUNK = 2_000


class SubjectState(str, Enum):
    WATCHING = "watching"
    DONE = "done"


class SeatState(str, Enum):
    DRAWN = "drawn"
    DECIDED = "decided"
    COMMITTED = "committed"
    REVEALED = "revealed"
    MISSED = "missed"


SUBJECT_TRANSITIONS: dict[SubjectState, frozenset[SubjectState]] = {
    SubjectState.WATCHING: frozenset({SubjectState.DONE}),
    SubjectState.DONE: frozenset(),
}
SEAT_TRANSITIONS: dict[SeatState, frozenset[SeatState]] = {
    SeatState.DRAWN: frozenset({SeatState.DECIDED, SeatState.MISSED}),
    SeatState.DECIDED: frozenset({SeatState.COMMITTED, SeatState.MISSED}),
    SeatState.COMMITTED: frozenset({SeatState.REVEALED, SeatState.MISSED}),
    SeatState.REVEALED: frozenset(),
    SeatState.MISSED: frozenset(),
}
SUBJECT_LIFECYCLE = Lifecycle.of(SUBJECT, {SubjectState.WATCHING}, SUBJECT_TRANSITIONS)
SEAT_LIFECYCLE = Lifecycle.of(SEAT, {SeatState.DRAWN}, SEAT_TRANSITIONS)
SEAT_FINAL = SEAT_LIFECYCLE.final


@dataclass
class ValidatorConfig:
    stake_wei: int = 0  # keep at least this much staked (topped up on start)
    settle: bool = True  # act as a keeper: draw panels, settle expired submissions and seats, vacate abandoned slots


class Validator(Node):
    role = "validator"
    entry_kinds = (SUBJECT, SEAT)

    def __init__(self, *args: Any, config: ValidatorConfig | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config = config or ValidatorConfig()
        self._reports: dict[str, AuditReport] = {}
        configure(self.device)  # replays run under the same deterministic settings the miners record

    def start(self) -> None:
        self.ensure_stake(self.config.stake_wei, validator=True)

    def device_classes(self) -> list[int]:
        """The classes whose runs this validator replays bit for bit (declared on registration)."""
        return [c.class_id for c in declared_classes(self.device)]

    def tick(self) -> None:
        self.follow()
        subjects = self.journal.entries(SUBJECT, exclude_states=(SubjectState.DONE.value,))
        for entry in subjects:
            self.isolated(entry.key, lambda e=entry: self.prepare(e))
        # Votes first: their windows are short; settling (anyone's job, any time later) can wait for them.
        for entry in self.journal.entries(SEAT, exclude_states=SEAT_FINAL):
            self.isolated(entry.key, lambda e=entry: getattr(self, f"_seat_{e.state}")(e))
        if self.config.settle:
            for entry in subjects:
                self.isolated(entry.key, lambda e=entry: self.keep(e))
            self.isolated("rounds", self.keep_rounds)
        self.claim_rewards()

    def move(self, entry: Entry, to: SeatState, data: dict[str, Any] | None = None, note: str = "") -> Entry:
        """Journals a seat's state change, refusing one its table does not allow (a bug, not bad input)."""
        if not SEAT_LIFECYCLE.allows(entry.state, to.value):
            raise RuntimeError(f"seat {entry.key}: {entry.state} -> {to.value} is not a valid move")
        return self.journal.put(entry.key, SEAT, to.value, data or {}, note=note)

    def finish_subject(self, entry: Entry, outcome: str) -> None:
        if not SUBJECT_LIFECYCLE.allows(entry.state, SubjectState.DONE.value):
            raise RuntimeError(f"subject {entry.key}: {entry.state} -> done is not a valid move")
        self.journal.put(entry.key, SUBJECT, SubjectState.DONE.value, {"outcome": outcome})

    # ------------------------------------------------------------------ following the chain

    def follow(self) -> None:
        """Reads claims, submissions and the seats drawn for this validator since the journaled cursor."""
        head = self.block()
        start = int(self.journal.meta("cursor", str(self.client.deployment.deployed_at_block - 1))) + 1  # type: ignore[arg-type]
        while start <= head:
            end = min(head, start + LOG_CHUNK - 1)
            for event in fetch(self.client, SlotClaimed, from_block=start, to_block=end) + fetch(
                self.client, WorkSubmitted, from_block=start, to_block=end
            ):
                key = f"{event.job_id}/{event.round}/{event.slot}"
                if self.journal.get(key) is None:
                    self.journal.put(key, SUBJECT, SubjectState.WATCHING.value, {
                        "job": event.job_id, "round": event.round, "slot": event.slot,
                        "subject": event.subject.hex()})  # fmt: skip
                    self.journal.set_meta(f"subject/{event.subject.hex()}", key)
            for drawn in fetch(self.client, SeatDrawn, from_block=start, to_block=end, validator=self.address):
                self._take_seat(drawn)
            self.journal.set_meta("cursor", str(end))
            start = end + 1

    def _take_seat(self, drawn: SeatDrawn) -> None:
        subject_key = self.journal.meta(f"subject/{drawn.subject.hex()}")
        subject = self.journal.get(subject_key) if subject_key else None
        if subject is None:
            return
        key = f"{subject.key}/{drawn.panel.name.lower()}/{drawn.seat}"
        if self.journal.get(key) is not None:
            return
        record = ledger.seat_of(self.client, drawn.subject, drawn.panel, drawn.seat)
        self.journal.put(key, SEAT, SeatState.DRAWN.value, {**subject.data, "panel": int(drawn.panel),
                         "seat": drawn.seat, "commit_end": record.commit_end, "reveal_end": record.reveal_end})  # fmt: skip
        self.log.info("drawn for %s seat %d of %s (attempt %d)", drawn.panel.name.lower(), drawn.seat, subject.key,
                      drawn.attempt)  # fmt: skip

    # ------------------------------------------------------------------ subjects: randomness and panels

    def prepare(self, entry: Entry) -> None:
        """Keeps the randomness the subject's audit needs and, as a keeper, draws its panels when they are due."""
        d = entry.data
        view = ledger.subject_of(self.client, d["job"], d["round"], d["slot"])
        if not view.status.live:
            return
        params = self.job(d["job"]).record.params
        self.keep_randomness(view, params.windows)
        if self.config.settle:
            self._draw_due_panels(d, view, d["slot"] >= params.slots_per_round)

    def _draw_due_panels(self, d: dict[str, Any], view: SubjectView, is_aggregate: bool) -> None:
        job_id, round_, slot = d["job"], d["round"], d["slot"]
        known, audited = ledger.audit_status(self.client, job_id, round_, slot)
        if not (known and audited) or not (is_aggregate or view.status is SlotStatus.CHECKPOINTS_REVEALED):
            return
        _, audit_attempt, committee_attempt = ledger.attempts_of(self.client, job_id, round_, slot)
        t = ledger.timeline_of(self.client, job_id, round_, slot)
        block = self.block() + 1  # the block a draw sent now lands in
        windows = self.job(job_id).record.params.windows
        if view.audit_drawn <= audit_attempt and t.panel_seed_block < block <= windows.draw_deadline(t.commit_end):
            self._keeper(f"draw audit panel {audit_attempt} of {job_id}/{round_}/{slot}",
                         self.client.ledger.functions.drawSeats(job_id, round_, slot, Panel.AUDIT))  # fmt: skip
        if (view.contested and block > t.unseal_end and view.committee_drawn <= committee_attempt
                and t.committee_seed_block < block <= windows.draw_deadline(t.dispute_commit_end)):  # fmt: skip
            self._keeper(f"draw committee {committee_attempt} of {job_id}/{round_}/{slot}",
                         self.client.ledger.functions.drawSeats(job_id, round_, slot, Panel.COMMITTEE))  # fmt: skip

    # ------------------------------------------------------------------ the keeper's part (anyone's)

    def keep(self, entry: Entry) -> None:
        """Vacates abandoned claims, settles expired submissions and then every seat of them."""
        d = entry.data
        job_id, round_, slot = d["job"], d["round"], d["slot"]
        view = ledger.subject_of(self.client, job_id, round_, slot)
        block = self.block()
        if view.status is SlotStatus.VACATED:
            self.finish_subject(entry, "VACATED")
            return
        if view.status is SlotStatus.CLAIMED:
            if block > view.deadline_or_submitted_at:
                self._keeper(f"vacate {entry.key}", self.client.ledger.functions.vacateSlot(job_id, round_, slot))
            return
        if view.outcome.value:
            if self._settle_seats(entry, view):
                self.finish_subject(entry, view.outcome.name)
            return
        self._keeper(f"settle {entry.key}", self.client.ledger.functions.settleSubmission(job_id, round_, slot))

    def _settle_seats(self, entry: Entry, view: SubjectView) -> bool:
        """Settles every drawn seat of a settled subject, losers and silent seats first (winners' bounties wait for
        them). Returns True when none is left."""
        d = entry.data
        pending: list[tuple[bool, Panel, Seat]] = []
        for panel in (Panel.AUDIT, Panel.COMMITTEE):
            for seat in ledger.seats_of(self.client, d["job"], d["round"], d["slot"], panel):
                if not seat.settled:
                    pending.append((seat.won(view.outcome), panel, seat))
        for _, panel, seat in sorted(pending, key=lambda p: (p[0], p[1], p[2].number)):
            fn = self.client.ledger.functions.settleSeat(d["job"], d["round"], d["slot"], panel, seat.number)
            self._keeper(f"settle {panel.name.lower()} seat {seat.number} of {entry.key}", fn)
        return all(
            seat.settled
            for panel in (Panel.AUDIT, Panel.COMMITTEE)
            for seat in ledger.seats_of(self.client, d["job"], d["round"], d["slot"], panel)
        )

    def keep_rounds(self) -> None:
        """Vacates the open slots nobody claimed in time (an unclaimed aggregation slot abandons the job)."""
        block = self.block()
        for record in self.job_records():
            _, status, round_ = ledger.job_state(self.client, record.job_id)
            if status is not JobStatus.ACTIVE:
                continue
            r = ledger.round_of(self.client, record.job_id, round_)
            window = record.params.windows.round_claim_window
            w = record.params.slots_per_round
            if r.settled_slots < w and block > r.opened_at + window:
                for slot in range(w):
                    if ledger.subject_of(self.client, record.job_id, round_, slot).status is SlotStatus.OPEN:
                        self._keeper(f"vacate {record.job_id}/{round_}/{slot}",
                                     self.client.ledger.functions.vacateSlot(record.job_id, round_, slot))  # fmt: skip
            elif r.settled_slots >= w and r.aggregation_opened_at and block > r.aggregation_opened_at + window:
                slot = w + r.failed_aggregates
                if ledger.subject_of(self.client, record.job_id, round_, slot).status is SlotStatus.OPEN:
                    self._keeper(f"vacate aggregation slot {record.job_id}/{round_}/{slot}",
                                 self.client.ledger.functions.vacateSlot(record.job_id, round_, slot))  # fmt: skip

    def _keeper(self, what: str, fn: Any) -> bool:
        return self.would_succeed(fn) and self.send(what, fn)

    # ------------------------------------------------------------------ seats

    def _seat_record(self, d: dict[str, Any]) -> Seat:
        return ledger.seat_of(self.client, bytes.fromhex(d["subject"]), Panel(d["panel"]), d["seat"])

    def _seat_drawn(self, entry: Entry) -> None:
        d = entry.data
        if self.block() + 1 > d["commit_end"]:  # a commit sent now lands in the next block
            self.move(entry, SeatState.MISSED, note="the commit window closed before we could judge")
            self.log.warning("%s: commit window closed before a verdict", entry.key)
            return
        is_aggregate = d["slot"] >= self.job(d["job"]).record.params.slots_per_round
        started = time.perf_counter()
        report = self.judge(d, is_aggregate)
        self.compute_seconds += time.perf_counter() - started
        evidence = report.evidence()
        evidence_cid = self.store.add(evidence)
        salt = os.urandom(32)
        entry = self.move(entry, SeatState.DECIDED, {"verdict": int(report.verdict), "reason": report.reason,
                          "evidence_digest": sha256(evidence).hex(), "evidence_cid": evidence_cid,
                          "salt": salt.hex()})  # fmt: skip
        self.log.info("%s: verdict %s (%s)", entry.key, report.verdict.name, report.reason)
        self._seat_decided(entry)

    def _seat_decided(self, entry: Entry) -> None:
        d = entry.data
        if self._seat_record(d).flags & SeatFlags.COMMITTED:
            self.move(entry, SeatState.COMMITTED)
            return
        subject = bytes.fromhex(d["subject"])
        commit_hash = ledger.verdict_commitment(self.client, subject, Panel(d["panel"]), d["seat"], Verdict(d["verdict"]),
                                                bytes.fromhex(d["evidence_digest"]), bytes.fromhex(d["salt"]),
                                                self.address)  # fmt: skip
        try:
            ledger.commit_verdict(self.client, d["job"], d["round"], d["slot"], Panel(d["panel"]), d["seat"], commit_hash)
        except TransactionReverted as exc:  # a decoded contract error, or a revert only the mined block saw
            if self.block() + 1 > d["commit_end"]:
                self.move(entry, SeatState.MISSED, note=str(exc))
            self.log.warning("%s: commit refused: %s", entry.key, exc)
            return
        self.move(entry, SeatState.COMMITTED)
        self.log.info("%s: committed", entry.key)

    def _seat_committed(self, entry: Entry) -> None:
        d = entry.data
        if self._seat_record(d).revealed:
            self.move(entry, SeatState.REVEALED)
            return
        head = self.block()
        # Wait until the head itself is past the commit window: a transaction's gas is estimated on the head, and on
        # a chain that mines on its own the next block is not the head's plus one transaction (it lands in head + 1).
        if head <= d["commit_end"]:
            return
        if head + 1 > d["reveal_end"]:
            self.move(entry, SeatState.MISSED, note="the reveal window closed")
            self.log.warning("%s: missed the reveal window", entry.key)
            return
        ledger.reveal_verdict(self.client, d["job"], d["round"], d["slot"], Panel(d["panel"]), d["seat"],
                              verdict=Verdict(d["verdict"]), evidence_digest=bytes.fromhex(d["evidence_digest"]),
                              salt=bytes.fromhex(d["salt"]), evidence_cid=d["evidence_cid"])  # fmt: skip
        self.move(entry, SeatState.REVEALED)
        self.log.info("%s: revealed %s", entry.key, Verdict(d["verdict"]).name)

    def waiting_for(self, block: int) -> list[str]:
        """For the status line: each open seat's window, and when each followed submission settles (in blocks)."""
        out = []
        for entry in self.journal.entries(SEAT, exclude_states=SEAT_FINAL):
            d = entry.data
            if entry.state == SeatState.COMMITTED.value:
                out.append(f"seat {entry.key}: reveal window blocks {d['commit_end'] + 1}-{d['reveal_end']}")
            else:
                out.append(f"seat {entry.key} {entry.state}: commit by block {d['commit_end']}")
        for entry in self.journal.entries(SUBJECT, exclude_states=(SubjectState.DONE.value,)):
            d = entry.data
            view = ledger.subject_of(self.client, d["job"], d["round"], d["slot"])
            if view.status is SlotStatus.CLAIMED:
                out.append(f"{entry.key}: claimed, submit deadline block {view.deadline_or_submitted_at}")
            elif not view.outcome.value:
                out.append(f"{entry.key}: {self.settle_wait(d['job'], d['round'], d['slot'])}")
        return out

    def idle_reason(self) -> str:
        return "no submission to follow; waiting for miners"

    # ------------------------------------------------------------------ judging (the simulation overrides this)

    def judge(self, d: dict[str, Any], is_aggregate: bool) -> AuditReport:
        """Replays what the seat was drawn for; a committee seat reuses this validator's audit of the subject."""
        subject = d["subject"]
        if subject not in self._reports:
            job = self.job(d["job"])
            if is_aggregate:
                report = audit_aggregate(self.client, self.store, job, d["round"], d["slot"])
            else:
                base = round_base(self.client, self.store, job, d["round"])
                report = audit_slot(self.client, self.store, d["job"], d["round"], d["slot"], job.spec, job.dataset,
                                    base, job.tolerance, self.device)  # fmt: skip
            self._reports[subject] = report
        return self._reports[subject]

