"""Everything a miner or validator needs to know about a job, read from public data alone and checked on the way:
the spec, dataset and tolerance pinned by the sponsor (each against its on-chain digest), and each round's base
weights (round 0: the sponsor's base; later rounds: the accepted aggregate of the previous round)."""

from __future__ import annotations

import json
from collections.abc import Mapping
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
from crucible.protocol.types import JobParams, Outcome, Windows

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
    created_at_block: int


@dataclass
class LoadedJob:
    record: JobRecord
    spec: JobSpec
    dataset: dict[str, torch.Tensor]
    tolerance: Tolerance


def _fields(raw: Any) -> list[Any]:
    """An ABI tuple as its list of fields, whether a call returned it (tuple) or an event decoded it (named)."""
    return list(raw.values()) if isinstance(raw, Mapping) else list(raw)


def params_from_abi(raw: Any) -> JobParams:
    values = _fields(raw)
    return JobParams(*values[:-1], windows=Windows(*_fields(values[-1])))  # type: ignore[arg-type]


def job_records(client: ChainClient, from_block: int | None = None, to_block: int | str = "latest") -> list[JobRecord]:
    start = client.deployment.deployed_at_block if from_block is None else from_block
    logs = client.registry.events.JobCreated().get_logs(from_block=start, to_block=to_block)
    return [_record(log) for log in logs]


def job_record(client: ChainClient, job_id: int) -> JobRecord:
    logs = client.registry.events.JobCreated().get_logs(
        from_block=client.deployment.deployed_at_block, argument_filters={"jobId": job_id}
    )
    if not logs:
        raise JobUnknown(job_id)
    return _record(logs[-1])


def _record(log: Any) -> JobRecord:
    a = log["args"]
    content = _fields(a["content"])
    return JobRecord(int(a["jobId"]), str(a["sponsor"]), str(a["specCid"]), params_from_abi(a["params"]),
                     bytes(content[0]), bytes(content[1]), bytes(content[2]), int(log["blockNumber"]))  # fmt: skip


def load_job(client: ChainClient, store: ArtifactStore, job_id: int) -> LoadedJob:
    """Fetches the job's spec, dataset and tolerance, each checked against what the chain commits."""
    record = job_record(client, job_id)
    raw = store.fetch(record.spec_cid, max_bytes=SPEC_LIMIT, sha256_digest=record.spec_digest)
    try:
        spec = JobSpec.from_json(_json(raw))
    except (TypeError, KeyError) as exc:
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
    expected = bytes(client.call(client.ledger.functions.roundOf(job.record.job_id, round_))[5])
    if round_ == 0:
        cid = job.spec.base_cid
    else:
        cid = accepted_aggregate_cid(client, job.record, round_ - 1)
    return fetch_weights(store, cid, expected, job.spec)


def accepted_aggregate_cid(client: ChainClient, record: JobRecord, round_: int) -> str:
    """The CID of the aggregate accepted for `round_` (the last aggregation slot, all earlier ones were rejected)."""
    failed = int(client.call(client.ledger.functions.roundOf(record.job_id, round_))[3])
    slot = record.params.slots_per_round + failed
    return submission(client, record.job_id, round_, slot)[0]


def submission(client: ChainClient, job_id: int, round_: int, slot: int) -> tuple[str, dict[str, bytes]]:
    """The bundle CID and commitment a slot's miner submitted (from its WorkSubmitted event)."""
    key = bytes(client.call(client.ledger.functions.subjectKey(job_id, round_, slot)))
    logs = client.ledger.events.WorkSubmitted().get_logs(
        from_block=client.deployment.deployed_at_block, argument_filters={"subject": key}
    )
    if not logs:
        raise ArtifactError(f"job {job_id} round {round_} slot {slot}: nothing was submitted")
    c = logs[-1]["args"]["commitment"]
    return str(logs[-1]["args"]["bundleCid"]), {k: bytes(c[k]) for k in ("resultDigest", "merkleRoot", "seal")}


def accepted_results(
    client: ChainClient, store: ArtifactStore, job: LoadedJob, round_: int
) -> list[tuple[int, dict[str, torch.Tensor]]]:
    """(slot, result weights) of every accepted work slot of `round_`, fetched through the committed digests."""
    out = []
    for slot in range(job.record.params.slots_per_round):
        if ledger.subject_of(client, job.record.job_id, round_, slot).outcome is not Outcome.ACCEPTED:
            continue
        cid, commitment = submission(client, job.record.job_id, round_, slot)
        manifest = fetch_manifest(store, cid, merkle_root=commitment["merkleRoot"],
                                  result_digest=commitment["resultDigest"])  # fmt: skip
        out.append((slot, fetch_weights(store, manifest["artifacts"]["result"]["cid"], commitment["resultDigest"], job.spec)))
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
