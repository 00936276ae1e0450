"""One slot's work, from claim to answering the audit: what an honest miner does (the adversary harness reuses it
with a cheating policy in tests and benchmarks)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from crucible.artifacts.store import ArtifactStore
from crucible.chain.client import ChainClient
from crucible.engine.bundle import DatasetRef, PublishedBundle, pin_checkpoints, publish
from crucible.engine.checkpoint import digest, to_bytes
from crucible.engine.determinism import fingerprint
from crucible.engine.jobspec import JobSpec
from crucible.engine.segment import HONEST, SegmentRun, StepPolicy, run_segment
from crucible.protocol import ledger
from crucible.protocol.types import Boundary, Commitment
from miner.windows import WindowSource, audit_cids


@dataclass
class MinedSlot:
    job_id: int
    round: int
    slot: int
    run: SegmentRun
    bundle: PublishedBundle
    commitment: Commitment


def mine_slot(
    client: ChainClient,
    store: ArtifactStore,
    job_id: int,
    round_: int,
    slot: int,
    job: JobSpec,
    dataset: dict[str, torch.Tensor],
    base: dict[str, torch.Tensor],
    work_dir: Path,
    device: torch.device,
    *,
    policy: StepPolicy = HONEST,
    run: SegmentRun | None = None,
) -> MinedSlot:
    """Claims the slot, trains (unless `run` is given), pins the bundle and submits its commitment."""
    ledger.claim_slot(client, job_id, round_, slot)
    spec = job.segment(job_id, round_, slot, client.sender)
    reference = base if job.kind == "dpo" else None
    if run is None:
        run = run_segment(spec, base, dataset, work_dir, device, policy=policy, reference=reference)
    parent = digest(to_bytes(base, metadata={"format": "crucible-weights-v1"}))
    bundle = publish(store, run, DatasetRef(job.dataset_cid, bytes.fromhex(job.dataset_sha256)),
                     fingerprint(device, spec.precision), parent)  # fmt: skip
    commitment, _ = ledger.submit_work(
        client, job_id, round_, slot, bundle_cid=bundle.cid, result_digest=run.result_digest,
        merkle_root=run.merkle_root,
    )  # fmt: skip
    return MinedSlot(job_id, round_, slot, run, bundle, commitment)


def answer_audit(
    client: ChainClient, store: ArtifactStore, mined: MinedSlot, *, windows: WindowSource | None = None
) -> list[int]:
    """Pins both ends of every sampled interval (and, given `windows`, the audit windows' states) and reveals them
    with Merkle proofs. Returns the intervals."""
    return reveal_sampled(client, store, mined.job_id, mined.round, mined.slot, mined.run, mined.commitment,
                          windows=windows)  # fmt: skip


def reveal_sampled(
    client: ChainClient,
    store: ArtifactStore,
    job_id: int,
    round_: int,
    slot: int,
    run: SegmentRun,
    commitment: Commitment,
    *,
    windows: WindowSource | None = None,
) -> list[int]:
    intervals = ledger.sampled_intervals(client, job_id, round_, slot)
    indices = [i for start in intervals for i in (start, start + 1)]
    if windows is None:
        cids = pin_checkpoints(store, run, indices)
    else:
        # Two more CIDs per sampled interval, after the 2m boundary CIDs: the states at the ends of its audit window.
        # The window is placed by the audit seed, which the ledger stores the first time anyone resolves it.
        seed = ledger.subject_of(client, job_id, round_, slot).audit_seed
        if seed == bytes(32):
            ledger.record_seed(client, job_id, round_, slot)
            seed = ledger.subject_of(client, job_id, round_, slot).audit_seed
        cids = audit_cids(store, run, bytes(seed), intervals, windows)
    tree = run.tree()
    boundaries = [Boundary(i, run.checkpoint_digests[i], run.trace_digests[i], tree.proof(i)) for i in indices]
    ledger.reveal_checkpoints(client, job_id, round_, slot, commitment, boundaries, cids)
    return intervals
