"""Adversaries for tests and benchmarks, built on the shipped daemons (which never import this package):

- CheatingMiner: trains with one cheat of the catalog (crucible.adversary.CHEATS) and commits it as a real cheater would;
- Sentinel: the sponsor's planted forced error (Truebit's idea): wrong work under a sealed seal, unsealed after the
  audit verdicts are public, so validators who passed it without replaying are caught;
- LazyValidator: says Pass without replaying anything;
- FalseAccuser: says Fail whatever it sees.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from crucible.adversary import run_cheat
from crucible.engine.segment import SegmentRun, SegmentSpec
from crucible.journal import Entry
from crucible.protocol.jobs import LoadedJob, round_base
from crucible.protocol.types import Verdict
from miner.daemon import KIND, Miner, commitment_of, weights_bytes
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

    def build_aggregate(self, job: LoadedJob, round_: int) -> bytes:
        """A cheating aggregator skips the averaging and re-submits the round's base."""
        return weights_bytes(round_base(self.client, self.store, job, round_))


class Sentinel(CheatingMiner):
    """Plants a forced error: noisy weights under a sealed seal, unsealed once the audit verdicts are revealed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, cheat="noisy weights", **kwargs)
        self.config.aggregate = False

    def make_seal(self, subject_key: bytes) -> tuple[bytes, dict[str, Any]]:
        salt = os.urandom(32)
        seal = bytes(self.client.call(self.client.lens.functions.forcedErrorSeal(subject_key, salt)))
        return seal, {"planted_salt": salt.hex()}

    def after_submitted(self, entry: Entry, view: Any, timeline: Any, block: int) -> None:
        d = entry.data
        if view.planted or "planted_salt" not in d or not (timeline.reveal_end < block <= timeline.unseal_end):
            return
        fn = self.client.ledger.functions.unsealForcedError(d["job"], d["round"], d["slot"], commitment_of(d).as_abi(),
                                                             bytes.fromhex(d["planted_salt"]))  # fmt: skip
        if self.send(f"unseal planted error {entry.key}", fn):
            self.journal.put(entry.key, KIND, entry.state, {"unsealed": True})
            self.log.info("unsealed the planted error of %s", entry.key)


class LazyValidator(Validator):
    def judge(self, d: dict[str, Any], is_aggregate: bool) -> AuditReport:
        return AuditReport(Verdict.PASS, "did not replay (lazy)")


class FalseAccuser(Validator):
    def judge(self, d: dict[str, Any], is_aggregate: bool) -> AuditReport:
        return AuditReport(Verdict.FAIL, "accuses without evidence")
