"""The validator process: follows submissions on-chain, works out its own seats from on-chain randomness, replays
what it was drawn for, commits and reveals verdicts, serves on dispute committees, and settles whatever has expired.

Subjects and seats are journal entries. A seat walks drawn -> decided -> committed -> revealed; the verdict, its salt
and its evidence are journaled in `decided`, before the commit transaction, so a restart always reveals what it
committed and never commits twice (it reads the seat's on-chain record first). The event cursor is journaled too: a
restart re-reads the chain from where it stopped and misses nothing.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from crucible.artifacts.store import sha256
from crucible.engine.determinism import configure
from crucible.errors import TransactionReverted
from crucible.journal import Entry
from crucible.node import Node
from crucible.protocol import ledger
from crucible.protocol.jobs import round_base
from crucible.protocol.types import Outcome, Panel, SlotStatus, Verdict
from validator.aggregate_audit import audit_aggregate
from validator.audit import AuditReport, audit_slot

SUBJECT = "subject"
SEAT = "seat"
SEAT_COMMITTED, SEAT_PASS, SEAT_FAIL, SEAT_SETTLED = 1, 2, 4, 8
LOG_CHUNK = 2_000


@dataclass
class ValidatorConfig:
    stake_wei: int = 0  # keep at least this much staked (topped up on start)
    settle: bool = True  # act as a keeper: settle expired submissions and seats, vacate abandoned slots


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

    def tick(self) -> None:
        self.follow()
        subjects = self.journal.entries(SUBJECT, exclude_states=("done",))
        block = self.block()
        for entry in subjects:
            self.isolated(entry.key, lambda e=entry: self.draw_seats(e, block))
        # Votes first: their windows are short; settling (anyone's job, any time later) can wait for them.
        for entry in self.journal.entries(SEAT, exclude_states=("revealed", "missed", "lost", "skipped")):
            self.isolated(entry.key, lambda e=entry: getattr(self, f"_seat_{e.state}")(e))
        block = self.block()
        for entry in subjects:
            self.isolated(entry.key, lambda e=entry: self.keep(e, block))
        self.claim_rewards()

    # ------------------------------------------------------------------ following the chain

    def follow(self) -> None:
        """Reads SlotClaimed and WorkSubmitted events since the journaled cursor into subject entries."""
        head = self.block()
        start = int(self.journal.meta("cursor", str(self.client.deployment.deployed_at_block - 1))) + 1  # type: ignore[arg-type]
        while start <= head:
            end = min(head, start + LOG_CHUNK - 1)
            for event in (self.client.ledger.events.SlotClaimed, self.client.ledger.events.WorkSubmitted):
                for log in event().get_logs(from_block=start, to_block=end):
                    a = log["args"]
                    key = f"{a['jobId']}/{a['round']}/{a['slot']}"
                    if self.journal.get(key) is None:
                        self.journal.put(key, SUBJECT, "watching", {"job": int(a["jobId"]), "round": int(a["round"]),
                                         "slot": int(a["slot"]), "subject": bytes(a["subject"]).hex()})  # fmt: skip
            self.journal.set_meta("cursor", str(end))
            start = end + 1

    # ------------------------------------------------------------------ subjects

    def draw_seats(self, entry: Entry, block: int) -> None:
        """Journals every seat of the subject's open panels that the chain's randomness gives this validator."""
        d = entry.data
        job_id, round_, slot = d["job"], d["round"], d["slot"]
        view = ledger.subject_of(self.client, job_id, round_, slot)
        if view.status not in (SlotStatus.SUBMITTED, SlotStatus.CHECKPOINTS_REVEALED):
            return
        t = ledger.timeline_of(self.client, job_id, round_, slot)
        params = self.job(job_id).record.params
        if t.seed_block < block <= t.commit_end:
            known, audited = self.client.call(self.client.lens.functions.auditStatus(job_id, round_, slot))
            if known and audited:
                self._take_seats(entry, Panel.AUDIT, params.seats_per_audit)
        if view.audit_fail and not view.planted and t.dispute_seed_block < block <= t.dispute_commit_end:
            self._take_seats(entry, Panel.COMMITTEE, params.committee_size)

    def keep(self, entry: Entry, block: int) -> None:
        """The keeper's part (anyone's): vacate abandoned claims, settle expired submissions and their seats."""
        d = entry.data
        job_id, round_, slot = d["job"], d["round"], d["slot"]
        view = ledger.subject_of(self.client, job_id, round_, slot)
        if view.status is SlotStatus.VACATED:
            self.journal.put(entry.key, SUBJECT, "done", {"outcome": "VACATED"})
            return
        if view.status is SlotStatus.CLAIMED:
            if self.config.settle and block > view.deadline_or_submitted_at:
                self._keeper(f"vacate {entry.key}", self.client.ledger.functions.vacateSlot(job_id, round_, slot))
            return
        if view.outcome.value:
            if not self.config.settle or self._settle_seats(entry, view):
                self.journal.put(entry.key, SUBJECT, "done", {"outcome": view.outcome.name})
            return
        t = ledger.timeline_of(self.client, job_id, round_, slot)
        if self.config.settle and block > t.reveal_deadline:
            self._keeper(f"settle {entry.key}", self.client.ledger.functions.settleSubmission(job_id, round_, slot))

    def _take_seats(self, entry: Entry, panel: Panel, seats: int) -> None:
        d = entry.data
        for seat in range(seats):
            key = f"{entry.key}/{panel.name.lower()}/{seat}"
            if self.journal.get(key) is not None:
                continue
            holder = ledger.seat_holder(self.client, d["job"], d["round"], d["slot"], panel, seat)
            if holder.lower() == self.address.lower():
                self.journal.put(key, SEAT, "drawn", {**d, "panel": int(panel), "seat": seat})
                self.log.info("drawn for %s seat %d of %s", panel.name.lower(), seat, entry.key)

    def _settle_seats(self, entry: Entry, view: Any) -> bool:
        """Settles every committed seat of a settled subject, losers first (winners' bounties wait for them).
        Returns True when none is left."""
        d = entry.data
        committed = self.client.ledger.events.VerdictCommitted().get_logs(
            from_block=self.client.deployment.deployed_at_block, argument_filters={"subject": view.key})
        pending = []
        for log in committed:
            panel, seat = Panel(int(log["args"]["panel"])), int(log["args"]["seat"])
            flags = int(self.client.call(self.client.ledger.functions.seatOf(view.key, panel, seat))[1])
            if flags & SEAT_SETTLED:
                continue
            won = flags & (SEAT_PASS | SEAT_FAIL) != 0 and bool(flags & SEAT_PASS) == (view.outcome is Outcome.ACCEPTED)
            pending.append((won, panel, seat))
        for won, panel, seat in sorted(pending):
            fn = self.client.ledger.functions.settleSeat(d["job"], d["round"], d["slot"], panel, seat)
            self._keeper(f"settle {panel.name.lower()} seat {seat} of {entry.key}", fn)
        return all(
            int(self.client.call(self.client.ledger.functions.seatOf(view.key, p, s))[1]) & SEAT_SETTLED
            for _, p, s in pending
        )

    def _keeper(self, what: str, fn: Any) -> None:
        if self.would_succeed(fn):
            self.send(what, fn)

    # ------------------------------------------------------------------ seats

    def _seat_record(self, d: dict[str, Any]) -> tuple[str, int]:
        subject = bytes.fromhex(d["subject"])
        validator, flags, _ = self.client.call(self.client.ledger.functions.seatOf(subject, Panel(d["panel"]), d["seat"]))
        return str(validator), int(flags)

    def _window(self, d: dict[str, Any]) -> tuple[int, int, int]:
        """(commit opens after, commit closes at, reveal closes at) for the seat's panel."""
        t = ledger.timeline_of(self.client, d["job"], d["round"], d["slot"])
        if d["panel"] == Panel.AUDIT:
            return t.seed_block, t.commit_end, t.reveal_end
        return t.dispute_seed_block, t.dispute_commit_end, t.dispute_reveal_end

    def _seat_drawn(self, entry: Entry) -> None:
        d = entry.data
        view = ledger.subject_of(self.client, d["job"], d["round"], d["slot"])
        is_aggregate = d["slot"] >= self.job(d["job"]).record.params.slots_per_round
        _, commit_end, _ = self._window(d)
        block = self.block()
        if block > commit_end:
            self.journal.put(entry.key, SEAT, "missed", {}, note="the commit window closed before we could judge")
            self.log.warning("%s: commit window closed before a verdict", entry.key)
            return
        if d["panel"] == Panel.AUDIT and not is_aggregate and view.status is SlotStatus.SUBMITTED:
            t = ledger.timeline_of(self.client, d["job"], d["round"], d["slot"])
            if block > t.reveal_deadline:
                self.journal.put(entry.key, SEAT, "skipped", {}, note="the miner withheld its checkpoints")
            return  # waiting for the miner to reveal its sampled checkpoints
        started = time.perf_counter()
        report = self.judge(d, is_aggregate)
        self.compute_seconds += time.perf_counter() - started
        evidence = report.evidence()
        evidence_cid = self.store.add(evidence)
        salt = os.urandom(32)
        entry = self.journal.put(entry.key, SEAT, "decided", {"verdict": int(report.verdict), "reason": report.reason,
                                 "evidence_digest": sha256(evidence).hex(), "evidence_cid": evidence_cid,
                                 "salt": salt.hex()})  # fmt: skip
        self.log.info("%s: verdict %s (%s)", entry.key, report.verdict.name, report.reason)
        self._seat_decided(entry)

    def _seat_decided(self, entry: Entry) -> None:
        d = entry.data
        validator, flags = self._seat_record(d)
        if flags:
            mine = validator.lower() == self.address.lower()
            self.journal.put(entry.key, SEAT, "committed" if mine else "lost", {})
            return
        holder = ledger.seat_holder(self.client, d["job"], d["round"], d["slot"], Panel(d["panel"]), d["seat"])
        if holder.lower() != self.address.lower():
            self.journal.put(entry.key, SEAT, "lost", {}, note=f"the seat now draws {holder}")
            return
        subject = bytes.fromhex(d["subject"])
        commit_hash = ledger.verdict_commitment(self.client, subject, Panel(d["panel"]), d["seat"], Verdict(d["verdict"]),
                                                bytes.fromhex(d["evidence_digest"]), bytes.fromhex(d["salt"]),
                                                self.address)  # fmt: skip
        try:
            ledger.commit_verdict(self.client, d["job"], d["round"], d["slot"], Panel(d["panel"]), d["seat"], commit_hash)
        except TransactionReverted as exc:  # a decoded contract error, or a revert only the mined block saw
            _, commit_end, _ = self._window(d)
            if self.block() > commit_end:
                self.journal.put(entry.key, SEAT, "missed", {}, note=str(exc))
            self.log.warning("%s: commit refused: %s", entry.key, exc)
            return
        self.journal.put(entry.key, SEAT, "committed", {})
        self.log.info("%s: committed", entry.key)

    def _seat_committed(self, entry: Entry) -> None:
        d = entry.data
        _, flags = self._seat_record(d)
        if flags & (SEAT_PASS | SEAT_FAIL):
            self.journal.put(entry.key, SEAT, "revealed", {})
            return
        _, opens_after, closes = self._window(d)
        block = self.block()
        if block <= opens_after:
            return
        if block > closes:
            self.journal.put(entry.key, SEAT, "missed", {}, note="the reveal window closed")
            self.log.warning("%s: missed the reveal window", entry.key)
            return
        ledger.reveal_verdict(self.client, d["job"], d["round"], d["slot"], Panel(d["panel"]), d["seat"],
                              verdict=Verdict(d["verdict"]), evidence_digest=bytes.fromhex(d["evidence_digest"]),
                              salt=bytes.fromhex(d["salt"]), evidence_cid=d["evidence_cid"])  # fmt: skip
        self.journal.put(entry.key, SEAT, "revealed", {})
        self.log.info("%s: revealed %s", entry.key, Verdict(d["verdict"]).name)

    def waiting_for(self, block: int) -> list[str]:
        """For the status line: each open seat's window, and when each followed submission settles (in blocks)."""
        out = []
        for entry in self.journal.entries(SEAT, exclude_states=("revealed", "missed", "lost", "skipped")):
            opens_after, commit_end, reveal_end = self._window(entry.data)
            if entry.state == "committed":
                out.append(f"seat {entry.key}: reveal window blocks {commit_end + 1}-{reveal_end}")
            else:
                out.append(f"seat {entry.key} {entry.state}: commit window blocks {opens_after + 1}-{commit_end}")
        for entry in self.journal.entries(SUBJECT, exclude_states=("done",)):
            d = entry.data
            view = ledger.subject_of(self.client, d["job"], d["round"], d["slot"])
            if view.status is SlotStatus.CLAIMED:
                out.append(f"{entry.key}: claimed, submit deadline block {view.deadline_or_submitted_at}")
            elif not view.outcome.value:
                out.append(f"{entry.key}: {self.settle_wait(d['job'], d['round'], d['slot'])}")
        return out

    def idle_reason(self) -> str:
        return "no submission to follow; waiting for miners"

    # ------------------------------------------------------------------ judging (the harness overrides this)

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

