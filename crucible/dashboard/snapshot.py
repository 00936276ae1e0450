"""What the dashboard shows, built from public data alone: the chain's typed events and views (crucible.protocol,
crucible.reports) and the artifacts they commit to on IPFS (each fetched through its on-chain digest).

A `Snapshot` is rebuilt when a new block arrives. Held-out losses are the expensive part (a model evaluated per
aggregated round), and a round's weights never change once aggregated, so each is computed once and cached; one that
cannot be fetched yet (IPFS slow, a pin missing) is retried at the next block.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from crucible.artifacts.store import ArtifactStore
from crucible.chain.client import ChainClient
from crucible.errors import CrucibleError
from crucible.protocol import ledger
from crucible.protocol.events import JobCompleted, RoundAggregated, fetch
from crucible.protocol.jobs import (
    DATASET_LIMIT,
    JobRecord,
    LoadedJob,
    accepted_aggregate_cid,
    fetch_weights,
    job_records,
    load_job,
)
from crucible.protocol.types import JobKind
from crucible.reports import TABLES

log = logging.getLogger("crucible.dashboard")


@dataclass
class LossCache:
    """Held-out loss per (job, point): point "base" is round 0's base, point r the aggregate accepted for round r."""

    values: dict[tuple[int, str], float | None] = field(default_factory=dict)
    jobs: dict[int, LoadedJob] = field(default_factory=dict)
    heldout: dict[int, Any] = field(default_factory=dict)


def build_snapshot(client: ChainClient, store: ArtifactStore | None, cache: LossCache) -> dict[str, Any]:
    """The whole page's data as JSON-ready values (amounts in wei as strings: JavaScript numbers lose them)."""
    started = time.monotonic()
    block = client.block_number()
    jobs = [_job_row(client, store, record, cache) for record in job_records(client)]
    tables = {name: [_jsonable(row) for row in fn(client)] for name, fn in TABLES.items()}  # type: ignore[operator]
    return {
        "chain": {"chain_id": client.deployment.chain_id, "block": block, "rpc_url": client.rpc_url,
                  "ledger": client.deployment.address("WorkLedger"), "ipfs": store.api_multiaddr if store else None},
        "jobs": jobs, **tables, "built_in_s": round(time.monotonic() - started, 3),
    }  # fmt: skip


def _job_row(client: ChainClient, store: ArtifactStore | None, record: JobRecord, cache: LossCache) -> dict[str, Any]:
    sponsor, status, current = ledger.job_state(client, record.job_id)
    params = record.params
    aggregated = sorted({e.round for e in fetch(client, RoundAggregated, job_id=record.job_id)})
    completed = bool(fetch(client, JobCompleted, job_id=record.job_id))
    losses = []
    if store is not None:
        for point in ["base", *[str(r) for r in aggregated]]:
            losses.append({"point": point, "loss": _loss(client, store, record, point, cache)})
    return {"job": record.job_id, "kind": JobKind(params.kind).name.lower(), "status": status.name, "round": int(current),
            "rounds": params.num_rounds, "slots": params.slots_per_round, "sponsor": sponsor, "spec": record.spec_cid,
            "escrow_wei": str(client.call(client.vault.functions.escrowOf(record.job_id))),
            "miner_reward_wei": str(params.miner_reward), "audit_bps": params.audit_bps,
            "aggregated_rounds": aggregated, "completed": completed, "created_at_block": record.created_at_block,
            "heldout_loss": losses}  # fmt: skip


def _loss(client: ChainClient, store: ArtifactStore, record: JobRecord, point: str, cache: LossCache) -> float | None:
    key = (record.job_id, point)
    if key in cache.values:
        return cache.values[key]
    try:
        job = cache.jobs.get(record.job_id) or load_job(client, store, record.job_id)
        cache.jobs[record.job_id] = job
        if point == "base":
            weights = fetch_weights(store, job.spec.base_cid, record.base_digest, job.spec)
        else:
            round_ = int(point)
            digest = next(e.aggregate_digest for e in fetch(client, RoundAggregated, job_id=record.job_id)
                          if e.round == round_)  # fmt: skip
            weights = fetch_weights(store, accepted_aggregate_cid(client, record, round_), digest, job.spec)
        value = _heldout_loss(store, job, weights, cache)
    except (CrucibleError, StopIteration, KeyError, ValueError) as exc:
        log.warning("job %s %s: held-out loss not available yet (%s)", record.job_id, point, exc)
        return None  # not cached: retried at the next block
    cache.values[key] = value
    return value


def _heldout_loss(store: ArtifactStore, job: LoadedJob, weights: Any, cache: LossCache) -> float | None:
    """The sponsor's held-out split when the job has one, else the generated held-out examples (built-in data)."""
    from crucible.engine.evaluate import eval_loss, heldout_loss  # noqa: PLC0415 - torch loads with the first loss

    spec = job.spec
    if spec.heldout_cid:
        if job.record.job_id not in cache.heldout:
            from safetensors.torch import load  # noqa: PLC0415

            raw = store.fetch(
                spec.heldout_cid, max_bytes=DATASET_LIMIT, sha256_digest=bytes.fromhex(spec.heldout_sha256)
            )
            cache.heldout[job.record.job_id] = load(raw)
        return heldout_loss(spec.kind, spec.model, weights, cache.heldout[job.record.job_id])
    if spec.kind in ("pretrain", "sft"):
        return eval_loss(spec.kind, spec.model, weights)
    return None  # dpo and grpo on generated data: no held-out loss defined


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if k.endswith("_wei") else v) for k, v in row.items()}
