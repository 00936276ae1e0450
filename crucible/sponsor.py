"""What a sponsor does to post a job: pin the data, the spec, the tolerance profile and the base checkpoint on IPFS,
check that cheating cannot pay under the job's parameters, and fund the job on-chain."""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from crucible.artifacts.store import ArtifactStore, sha256
from crucible.chain.client import ChainClient
from crucible.engine.checkpoint import to_bytes
from crucible.engine.compare import Tolerance
from crucible.engine.data import dataset_bytes, make_dataset
from crucible.engine.jobspec import JobSpec
from crucible.engine.model import PRESETS, build_model
from crucible.errors import ConfigError
from crucible.protocol import ledger
from crucible.protocol.economics import SamplingCheck, sampling_check
from crucible.protocol.plants import Plant, PlantSet
from crucible.protocol.types import JobContent, JobKind, JobParams


@dataclass(frozen=True)
class PostedJob:
    job_id: int
    spec_cid: str
    dataset_cid: str
    tolerance_cid: str
    base_cid: str
    check: SamplingCheck
    plants: PlantSet = PlantSet((), ())


def post_job(
    client: ChainClient,
    store: ArtifactStore,
    *,
    kind: str,
    model: str,
    params: JobParams,
    compute_cost_wei: int,
    collusion: float,
    dataset_size: int = 512,
    seed: int = 0,
    tolerance: Tolerance | None = None,
    base: dict[str, torch.Tensor] | None = None,
    steps_per_interval: int = 4,
    lr: float = 3e-3,
    plants: list[Plant] | None = None,
) -> PostedJob:
    """Refuses (ConfigError) before pinning or sending anything when cheating would pay. `base` (default: a fresh
    model from `seed`) is the round-0 weights, e.g. the result of an earlier pretraining job for post-training.
    `plants` are the sponsor's planted errors (each a slot its sentinel will hold); only their root goes on-chain."""
    check = sampling_check(params, compute_saved_wei=compute_cost_wei, collusion=collusion)
    if not check.ok:
        raise ConfigError(f"refusing the job: {check.explain()}")
    if model not in PRESETS:
        raise ConfigError(f"unknown model preset {model!r}; use one of {sorted(PRESETS)}")
    cfg = PRESETS[model]
    data = dataset_bytes(make_dataset(kind, dataset_size, cfg.block_size, seed=seed))
    dataset_cid = store.add(data)
    tolerance_bytes = (tolerance or Tolerance(model=model)).to_bytes()
    tolerance_cid = store.add(tolerance_bytes)
    if base is None:
        base = {f"model.{n}": p.detach() for n, p in build_model(cfg, seed, torch.device("cpu")).named_parameters()}
    base_bytes = to_bytes(base, metadata={"format": "crucible-weights-v1"})
    base_cid = store.add(base_bytes)
    spec = JobSpec(kind, cfg, dataset_cid, sha256(data).hex(), job_seed=seed, intervals=params.intervals_per_slot,
                   steps_per_interval=steps_per_interval, lr=lr, base_cid=base_cid,
                   tolerance_cid=tolerance_cid)  # fmt: skip
    spec_cid = store.add(spec.to_bytes())
    plant_set = PlantSet.build(plants or [])
    content = JobContent(spec.digest(), sha256(tolerance_bytes), sha256(base_bytes), plant_set.root)
    job_id = ledger.create_job(client, replace(params, kind=JobKind[kind.upper()]), content, spec_cid)
    return PostedJob(job_id, spec_cid, dataset_cid, tolerance_cid, base_cid, check, plant_set)
