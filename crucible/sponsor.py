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
from crucible.engine.model import PRESETS, GPTConfig, build_model
from crucible.engine.userdata import DatasetInfo, describe_dataset
from crucible.errors import ConfigError
from crucible.protocol import ledger
from crucible.protocol.economics import SamplingCheck, sampling_check
from crucible.protocol.jobs import DATASET_LIMIT
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
    dataset_cid: str | None = None,
) -> PostedJob:
    """Refuses (ConfigError) before pinning or sending anything when cheating would pay. `base` (default: a fresh
    model from `seed`) is the round-0 weights, e.g. the result of an earlier pretraining job for post-training.
    `plants` are the sponsor's planted errors (each a slot its sentinel will hold); only their root goes on-chain.
    `dataset_cid`: the sponsor's own data (`crucible data add`) instead of a generated dataset; it must be of the
    job's kind and block size, and the model's vocabulary grows to cover its tokenizer."""
    check = sampling_check(params, compute_saved_wei=compute_cost_wei, collusion=collusion)
    if not check.ok:
        raise ConfigError(f"refusing the job: {check.explain()}")
    if model not in PRESETS:
        raise ConfigError(f"unknown model preset {model!r}; use one of {sorted(PRESETS)}")
    cfg = PRESETS[model]
    if dataset_cid:
        data = store.fetch(dataset_cid, max_bytes=DATASET_LIMIT)
        info = _checked_dataset(store, dataset_cid, data, kind, cfg)
        cfg = GPTConfig(**{**cfg.to_json(), "vocab_size": max(cfg.vocab_size, -(-info.vocab_size // 64) * 64)})
        for cid in (dataset_cid, info.heldout_cid):
            store.pin(cid)
        data_fields = {"tokenizer": info.tokenizer, "tokenizer_digest": info.tokenizer_digest,
                       "heldout_cid": info.heldout_cid, "heldout_sha256": info.heldout_sha256}  # fmt: skip
    else:
        data = dataset_bytes(make_dataset(kind, dataset_size, cfg.block_size, seed=seed))
        dataset_cid = store.add(data)
        data_fields = {}
    tolerance_bytes = (tolerance or Tolerance(model=model)).to_bytes()
    tolerance_cid = store.add(tolerance_bytes)
    if base is None:
        base = {f"model.{n}": p.detach() for n, p in build_model(cfg, seed, torch.device("cpu")).named_parameters()}
    base_bytes = to_bytes(base, metadata={"format": "crucible-weights-v1"})
    base_cid = store.add(base_bytes)
    spec = JobSpec(kind, cfg, dataset_cid, sha256(data).hex(), job_seed=seed, intervals=params.intervals_per_slot,
                   steps_per_interval=steps_per_interval, lr=lr, base_cid=base_cid,
                   tolerance_cid=tolerance_cid, **data_fields)  # fmt: skip
    spec_cid = store.add(spec.to_bytes())
    plant_set = PlantSet.build(plants or [])
    content = JobContent(spec.digest(), sha256(tolerance_bytes), sha256(base_bytes), plant_set.root)
    job_id = ledger.create_job(client, replace(params, kind=JobKind[kind.upper()]), content, spec_cid)
    return PostedJob(job_id, spec_cid, dataset_cid, tolerance_cid, base_cid, check, plant_set)


def _checked_dataset(store: ArtifactStore, cid: str, data: bytes, kind: str, cfg: GPTConfig) -> DatasetInfo:
    """The sponsor's dataset at `cid`, refused (ConfigError) unless it fits the job: kind, block size, held-out split."""
    info = describe_dataset(data, source=cid)
    if info.kind != kind:
        raise ConfigError(f"--dataset {cid} holds {info.kind} rows, the job is --kind {kind}")
    if info.block_size != cfg.block_size:
        raise ConfigError(f"--dataset {cid} was cut for a block of {info.block_size} tokens, the model's block is "
                          f"{cfg.block_size}: rerun `crucible data add` with this job's --model")  # fmt: skip
    store.fetch(info.heldout_cid, max_bytes=DATASET_LIMIT, sha256_digest=bytes.fromhex(info.heldout_sha256))
    return info
