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
from crucible.engine.determinism import fingerprint
from crucible.engine.jobspec import JobSpec
from crucible.engine.replay import replay_interval
from crucible.engine.segment import SegmentSpec, checkpoint_max_bytes, trace_digest
from crucible.errors import ArtifactError, IpfsUnavailable
from crucible.protocol import ledger
from crucible.protocol.events import CheckpointsRevealed, WorkSubmitted, fetch
from crucible.protocol.types import Verdict


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
    same_device = manifest["fingerprint"]["device_class"] == fingerprint(device, expected.precision).device_class
    bitwise = same_device and bool(manifest["fingerprint"]["deterministic"])
    reference = base if job.kind == "dpo" else None
    limit = checkpoint_max_bytes(expected.model)
    report = AuditReport(Verdict.PASS, "every sampled interval replays within tolerance")
    for j in range(0, len(boundaries), 2):
        start, end = boundaries[j], boundaries[j + 1]
        interval = start.index
        try:
            if trace_digest(traces[interval + 1]) != end.trace_digest:
                raise ArtifactError(f"interval {interval}: trace does not match the revealed trace digest")
            start_bytes = fetch_checkpoint(store, cids[j], start.checkpoint_digest, expected, limit)
            end_bytes = fetch_checkpoint(store, cids[j + 1], end.checkpoint_digest, expected, limit)
            result = replay_interval(expected, interval, start_bytes, end_bytes, traces[interval + 1], dataset,
                                     device, tolerance, bitwise=bitwise, reference=reference)  # fmt: skip
            comparison = result.comparison
        except IpfsUnavailable:
            raise
        except ArtifactError as exc:
            report.intervals.append({"interval": interval, "passed": False, "reason": str(exc)})
            return AuditReport(Verdict.FAIL, f"interval {interval}: {exc}", report.intervals)
        report.intervals.append({"interval": interval, **comparison.to_json()})
        if not comparison.passed:
            return AuditReport(Verdict.FAIL, f"interval {interval}: {comparison.reason}", report.intervals)
    return report
