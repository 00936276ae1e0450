"""Everything a miner or validator needs to know about a job, read from public data alone and checked on the way:
the spec, dataset and tolerance pinned by the sponsor (each against its on-chain digest), and each round's base
weights (round 0: the sponsor's base; later rounds: the accepted aggregate of the previous round)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load

from crucible.artifacts.store import ArtifactStore
from crucible.chain.client import ChainClient
from crucible.engine.bundle import fetch_manifest
from crucible.engine.checkpoint import from_bytes
from crucible.engine.compare import Tolerance
from crucible.engine.jobspec import JobSpec
from crucible.engine.segment import checkpoint_max_bytes, model_spec
from crucible.errors import ArtifactError, JobUnknown, MalformedArtifact
from crucible.protocol import ledger
from crucible.protocol.events import JobCreated, WorkSubmitted, fetch
from crucible.protocol.types import JobParams, Outcome

SPEC_LIMIT = 1 << 20
DATASET_LIMIT = 256 << 20
TOLERANCE_LIMIT = 1 << 20


@dataclass(frozen=True)
class JobRecord:
    """A job as its JobCreated event tells it."""

    job_id: int
    sponsor: str
    spec_cid: str
    params: JobParams
    spec_digest: bytes
    tolerance_digest: bytes
    base_digest: bytes
    plant_root: bytes
    created_at_block: int

    @classmethod
    def from_event(cls, e: JobCreated) -> JobRecord:
        c = e.content
        return cls(e.job_id, e.sponsor, e.spec_cid, e.params, c.spec_digest, c.tolerance_digest,
                   c.initial_checkpoint_digest, c.plant_root, e.block)  # fmt: skip


@dataclass
class LoadedJob:
    record: JobRecord
    spec: JobSpec
    dataset: dict[str, torch.Tensor]
    tolerance: Tolerance


def job_records(client: ChainClient, from_block: int | None = None, to_block: int | str = "latest") -> list[JobRecord]:
    return [JobRecord.from_event(e) for e in fetch(client, JobCreated, from_block=from_block, to_block=to_block)]


def job_record(client: ChainClient, job_id: int) -> JobRecord:
    found = fetch(client, JobCreated, job_id=job_id)
    if not found:
        raise JobUnknown(job_id)
    return JobRecord.from_event(found[-1])


def load_job(client: ChainClient, store: ArtifactStore, job_id: int) -> LoadedJob:
    """Fetches the job's spec, dataset and tolerance, each checked against what the chain commits."""
    record = job_record(client, job_id)
    raw = store.fetch(record.spec_cid, max_bytes=SPEC_LIMIT, sha256_digest=record.spec_digest)
    try:
        spec = JobSpec.from_json(_json(raw))
    except (TypeError, KeyError, ValueError) as exc:  # ValueError: an HF model entry out of bounds (names the field)
        raise MalformedArtifact(f"job {job_id}: the spec does not parse: {exc}") from None
    data = store.fetch(spec.dataset_cid, max_bytes=DATASET_LIMIT, sha256_digest=bytes.fromhex(spec.dataset_sha256))
    dataset = _tensors(data)
    tolerance = Tolerance()
    if spec.tolerance_cid:
        tol = store.fetch(spec.tolerance_cid, max_bytes=TOLERANCE_LIMIT, sha256_digest=record.tolerance_digest)
        tolerance = Tolerance.from_json(_json(tol))
    return LoadedJob(record, spec, dataset, tolerance)


def round_base(client: ChainClient, store: ArtifactStore, job: LoadedJob, round_: int) -> dict[str, torch.Tensor]:
    """The weights every slot of `round_` starts from, checked against the round's on-chain base digest."""
    expected = ledger.round_of(client, job.record.job_id, round_).base_digest
    if round_ == 0:
        cid = job.spec.base_cid
    else:
        cid = accepted_aggregate_cid(client, job.record, round_ - 1)
    return fetch_weights(store, cid, expected, job.spec)


def accepted_aggregate_cid(client: ChainClient, record: JobRecord, round_: int) -> str:
    """The CID of the aggregate accepted for `round_` (the last aggregation slot, all earlier ones were rejected)."""
    slot = record.params.slots_per_round + ledger.round_of(client, record.job_id, round_).failed_aggregates
    return submission(client, record.job_id, round_, slot).bundle_cid


def submission(client: ChainClient, job_id: int, round_: int, slot: int) -> WorkSubmitted:
    """What a slot's miner submitted (its WorkSubmitted event)."""
    found = fetch(client, WorkSubmitted, subject=ledger.subject_key(client, job_id, round_, slot))
    if not found:
        raise ArtifactError(f"job {job_id} round {round_} slot {slot}: nothing was submitted")
    return found[-1]


def accepted_results(
    client: ChainClient, store: ArtifactStore, job: LoadedJob, round_: int
) -> list[tuple[int, dict[str, torch.Tensor]]]:
    """(slot, result weights) of every accepted work slot of `round_`, fetched through the committed digests."""
    out = []
    for slot in range(job.record.params.slots_per_round):
        if ledger.subject_of(client, job.record.job_id, round_, slot).outcome is not Outcome.ACCEPTED:
            continue
        sub = submission(client, job.record.job_id, round_, slot)
        c = sub.commitment
        manifest = fetch_manifest(store, sub.bundle_cid, merkle_root=c.merkle_root, result_digest=c.result_digest)
        out.append((slot, fetch_weights(store, manifest["artifacts"]["result"]["cid"], c.result_digest, job.spec)))
    return out


def fetch_weights(store: ArtifactStore, cid: str, sha256_digest: bytes, spec: JobSpec) -> dict[str, torch.Tensor]:
    data = store.fetch(cid, max_bytes=checkpoint_max_bytes(spec.model), sha256_digest=sha256_digest)
    return from_bytes(data, model_spec(spec.model))


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedArtifact(f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise MalformedArtifact("expected a JSON object")
    return value


def _tensors(data: bytes) -> dict[str, torch.Tensor]:
    try:
        return load(data)
    except (SafetensorError, ValueError) as exc:
        raise MalformedArtifact(f"the dataset is not valid safetensors: {exc}") from None
