"""Adversaries for tests and benchmarks, built on the shipped daemons (which never import this package):

- CheatingMiner: trains with one cheat of the catalog (crucible.adversary.CHEATS) and commits it as a real cheater would;
- Sentinel: the sponsor's planted error (Truebit's idea): wrong work in a slot the sponsor sealed into the job's plant
  root at creation, unsealed after the audit verdicts are public, so validators who passed it without replaying are
  caught;
- LazyValidator: says Pass without replaying anything;
- FalseAccuser: says Fail whatever it sees.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from crucible.engine.segment import SegmentRun, SegmentSpec
from crucible.journal import Entry
from crucible.protocol import ledger
from crucible.protocol.jobs import LoadedJob, round_base
from crucible.protocol.plants import Plant, PlantSet
from crucible.protocol.types import SlotStatus, SubjectView, Timeline, Verdict
from crucible.simulation.adversary import CHEATS, run_cheat
from miner.daemon import Miner, weights_bytes
from miner.windows import WindowSource
from validator.audit import AuditReport
from validator.daemon import Validator


class CheatingMiner(Miner):
    def __init__(self, *args: Any, cheat: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cheat = cheat

    def train(self, spec: SegmentSpec, base: dict[str, torch.Tensor], job: LoadedJob, work_dir: Path,
              progress: Callable[[], None] | None) -> SegmentRun:  # fmt: skip
        reference = base if job.spec.kind == "dpo" else None
        return run_cheat(self.cheat, spec, base, job.dataset, work_dir, self.device, reference=reference)

    def window_source(self, job: LoadedJob, reference: dict[str, torch.Tensor] | None) -> WindowSource:
        """A cheater serves the states its cheat produced, consistent with what it committed."""
        make_policy, _ = CHEATS[self.cheat]
        return WindowSource(job.dataset, self.device, reference,
                            policy=make_policy(job.spec.segment(job.record.job_id, 0, 0, self.address)))  # fmt: skip

    def build_aggregate(self, job: LoadedJob, round_: int) -> bytes:
        """A cheating aggregator skips the averaging and re-submits the round's base."""
        return weights_bytes(round_base(self.client, self.store, job, round_))


class Sentinel(CheatingMiner):
    """Plants errors for its sponsor: claims only the slots the sponsor sealed for it, trains them wrong (noisy
    weights), and unseals each plant once the audit verdicts are revealed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, cheat="noisy weights", **kwargs)
        self.config.aggregate = False
        self.plants: dict[tuple[int, int, int], tuple[Plant, list[bytes]]] = {}

    def plant(self, job_id: int, plants: PlantSet) -> None:
        """Takes the sponsor's sealed set for a job (the plants naming this sentinel)."""
        for p in plants.plants:
            if p.sentinel.lower() == self.address.lower():
                self.plants[(job_id, p.round, p.slot)] = (p, plants.proof(p))

    def candidate_slots(self, job_id: int, round_: int) -> list[int]:
        return [slot for (job, r, slot) in self.plants if job == job_id and r == round_
                and ledger.subject_of(self.client, job_id, round_, slot).status is SlotStatus.OPEN]  # fmt: skip

    def after_submitted(self, entry: Entry, view: SubjectView, timeline: Timeline, block: int) -> None:
        d = entry.data
        planted = self.plants.get((d["job"], d["round"], d["slot"]))
        if planted is None or view.planted or not (timeline.reveal_end < block <= timeline.unseal_end):
            return
        plant, proof = planted
        fn = self.client.ledger.functions.unsealPlant(d["job"], d["round"], d["slot"], plant.salt, proof)
        if self.send(f"unseal the plant of {entry.key}", fn):
            self.log.info("unsealed the plant of %s", entry.key)


class LazyValidator(Validator):
    def judge(self, d: dict[str, Any], is_aggregate: bool) -> AuditReport:
        return AuditReport(Verdict.PASS, "did not replay (lazy)")


class FalseAccuser(Validator):
    def judge(self, d: dict[str, Any], is_aggregate: bool) -> AuditReport:
        return AuditReport(Verdict.FAIL, "accuses without evidence")
