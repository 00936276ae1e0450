"""How a validator decides: fetch the bundle and the revealed checkpoints through the digests the chain commits,
replay every sampled interval, compare, and produce a verdict with its evidence.

Every failure of the miner's artifacts (not pinned, oversized, not matching its digest, malformed, a spec that is
not the job's) is a failing verdict with the reason in the evidence: a validator never crashes on bad input, and
never passes what it could not check. Its own Kubo being down is not the miner's fault: IpfsUnavailable propagates
(the validator retries within the commit window) instead of becoming a wrong verdict.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import torch

from crucible.artifacts.store import ArtifactStore
from crucible.chain.client import ChainClient
from crucible.engine.bundle import fetch_checkpoint, fetch_manifest, fetch_traces
from crucible.engine.compare import Tolerance
from crucible.engine.determinism import replay_plan, replaying_in
from crucible.engine.jobspec import JobSpec
from crucible.engine.segment import SegmentSpec, checkpoint_max_bytes, trace_digest
from crucible.errors import ArtifactError, IpfsUnavailable
from crucible.protocol import ledger
from crucible.protocol.events import CheckpointsRevealed, WorkSubmitted, fetch
from crucible.protocol.types import Verdict
from validator.windows import judge_interval


@dataclass
class AuditReport:
    verdict: Verdict
    reason: str
    intervals: list[dict[str, Any]] = field(default_factory=list)

    def evidence(self) -> bytes:
        return json.dumps({"verdict": self.verdict.name, "reason": self.reason, "intervals": self.intervals},
                          sort_keys=True, default=str).encode()  # fmt: skip


def audit_slot(
    client: ChainClient,
    store: ArtifactStore,
    job_id: int,
    round_: int,
    slot: int,
    job: JobSpec,
    dataset: dict[str, torch.Tensor],
    base: dict[str, torch.Tensor],
    tolerance: Tolerance,
    device: torch.device,
) -> AuditReport:
    subject = ledger.subject_of(client, job_id, round_, slot)
    submitted = fetch(client, WorkSubmitted, subject=subject.key)
    revealed = fetch(client, CheckpointsRevealed, subject=subject.key)
    if not submitted or not revealed:
        return AuditReport(Verdict.FAIL, "no submission or no revealed checkpoints on-chain")
    bundle_cid = submitted[-1].bundle_cid
    commitment = submitted[-1].commitment
    boundaries = revealed[-1].boundaries
    cids = revealed[-1].cids
    try:
        manifest = fetch_manifest(store, bundle_cid, merkle_root=commitment.merkle_root,
                                  result_digest=commitment.result_digest)  # fmt: skip
        expected = job.segment(job_id, round_, slot, subject.miner)
        claimed = SegmentSpec.from_json(manifest["spec"])
        if claimed != expected:
            return AuditReport(Verdict.FAIL, "the bundle's segment spec is not the job's")
        traces = fetch_traces(store, manifest)
    except IpfsUnavailable:
        raise
    except (ArtifactError, ValueError, TypeError, KeyError) as exc:
        return AuditReport(Verdict.FAIL, f"bundle rejected: {exc}")
    # Bitwise in the miner's device class where this machine is of the same kind, else within tolerance on short
    # windows; the evidence says which and why (a validator of another class is a reason, never a crash).
    plan = replay_plan(manifest["fingerprint"], device, expected.precision)
    reference = base if job.kind == "dpo" else None
    limit = checkpoint_max_bytes(expected.model)
    m = len(boundaries) // 2
    report = AuditReport(Verdict.PASS, "every sampled interval replays within tolerance")
    report.intervals.append({"replay_plan": plan.to_json()})
    for j in range(m):
        start, end = boundaries[2 * j], boundaries[2 * j + 1]
        interval = start.index
        window_cids = cids[2 * m + 2 * j : 2 * m + 2 * j + 2] if len(cids) >= 2 * m + 2 * j + 2 else None
        try:
            if trace_digest(traces[interval + 1]) != end.trace_digest:
                raise ArtifactError(f"interval {interval}: trace does not match the revealed trace digest")
            start_bytes = fetch_checkpoint(store, cids[2 * j], start.checkpoint_digest, expected, limit)
            end_bytes = fetch_checkpoint(store, cids[2 * j + 1], end.checkpoint_digest, expected, limit)
            with replaying_in(plan.replay_class):
                outcome = judge_interval(
                    store, expected, interval, bytes(subject.audit_seed), traces, start_bytes, end_bytes,
                    window_cids, dataset, device, tolerance, plan, limit, reference=reference,
                )  # fmt: skip
        except IpfsUnavailable:
            raise
        except ArtifactError as exc:
            report.intervals.append({"interval": interval, "passed": False, "reason": str(exc)})
            return AuditReport(Verdict.FAIL, f"interval {interval}: {exc}", report.intervals)
        report.intervals.append({"interval": interval, **outcome})
        if not outcome["passed"]:
            return AuditReport(Verdict.FAIL, f"interval {interval}: {outcome['reason']}", report.intervals)
    return report
