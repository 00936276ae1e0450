"""What a sponsor does to post a job: pin the data, the spec, the tolerance profile and the base checkpoint on IPFS,
check that cheating cannot pay under the job's parameters, and fund the job on-chain."""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from crucible.artifacts.store import ArtifactStore, sha256
from crucible.chain.client import ChainClient
from crucible.engine import hf
from crucible.engine.architecture import ModelConfig, initial_weights, model_label, resolve_model
from crucible.engine.checkpoint import to_bytes
from crucible.engine.compare import Tolerance
from crucible.engine.data import dataset_bytes, make_dataset
from crucible.engine.hf import HFModelSpec
from crucible.engine.jobspec import JobSpec
from crucible.engine.userdata import DatasetInfo, describe_dataset
from crucible.errors import ConfigError, ModelConfigError
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
    weights_cid: str = ""  # the sponsor's own weights file, pinned (HF models started from it)


def post_job(
    client: ChainClient,
    store: ArtifactStore,
    *,
    kind: str,
    model: str | ModelConfig,
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
    weights: bytes | None = None,
    weights_source: str = "the weights file",
) -> PostedJob:
    """Refuses (ConfigError) before pinning or sending anything when cheating would pay. `base` (default: a fresh
    model from `seed`) is the round-0 weights, e.g. the result of an earlier pretraining job for post-training.
    `plants` are the sponsor's planted errors (each a slot its sentinel will hold); only their root goes on-chain.
    `dataset_cid`: the sponsor's own data (`crucible data add`) instead of a generated dataset; it must be of the
    job's kind and block size, and the model's vocabulary grows to cover its tokenizer.
    `model` is a preset name (built-in GPT or "hf-…") or a config (a Hugging Face architecture's, hf.HFModelSpec),
    checked against the job's precision and memory bound before anything is pinned. `weights`: the sponsor's own
    safetensors weights for an HF model (round 0 starts from them; the file is pinned and its CID and sha256 go into
    the spec), refused naming the tensor unless every shape fits the config."""
    check = sampling_check(params, compute_saved_wei=compute_cost_wei, collusion=collusion)
    if not check.ok:
        raise ConfigError(f"refusing the job: {check.explain()}")
    cfg = resolve_model(model)
    if dataset_cid:
        data = store.fetch(dataset_cid, max_bytes=DATASET_LIMIT)
        info = _checked_dataset(store, dataset_cid, data, kind, cfg)
        cfg = _covering_vocabulary(cfg, info.vocab_size, fixed=weights is not None)
    if isinstance(cfg, HFModelSpec):
        cfg = hf.fit_job(cfg, kind=kind, precision="fp32")  # jobs train in fp32 (the tolerance profiles' precision)
        if weights is not None:
            if base is not None:
                raise ConfigError("give the round-0 weights once: `base` or the sponsor's weights file, not both")
            base = hf.load_weights(weights, cfg, source=weights_source)
    elif weights is not None:
        raise ModelConfigError("a weights file needs a Hugging Face model (--model hf-… or --model-config FILE)",
                               field="weights")  # fmt: skip
    # Everything is checked: from here on things are pinned and sent.
    if isinstance(cfg, HFModelSpec) and weights is not None:
        cfg = replace(cfg, init="weights", weights_cid=store.add(weights), weights_sha256=sha256(weights).hex())
    if dataset_cid:
        for cid in (dataset_cid, info.heldout_cid):
            store.pin(cid)
        data_fields = {"tokenizer": info.tokenizer, "tokenizer_digest": info.tokenizer_digest,
                       "heldout_cid": info.heldout_cid, "heldout_sha256": info.heldout_sha256}  # fmt: skip
    else:
        data = dataset_bytes(make_dataset(kind, dataset_size, cfg.block_size, seed=seed))
        dataset_cid = store.add(data)
        data_fields = {}
    tolerance_bytes = (tolerance or Tolerance(model=model_label(model))).to_bytes()
    tolerance_cid = store.add(tolerance_bytes)
    if base is None:
        base = initial_weights(cfg, seed)
    base_bytes = to_bytes(base, metadata={"format": "crucible-weights-v1"})
    base_cid = store.add(base_bytes)
    spec = JobSpec(kind, cfg, dataset_cid, sha256(data).hex(), job_seed=seed, intervals=params.intervals_per_slot,
                   steps_per_interval=steps_per_interval, lr=lr, base_cid=base_cid,
                   tolerance_cid=tolerance_cid, **data_fields)  # fmt: skip
    spec_cid = store.add(spec.to_bytes())
    plant_set = PlantSet.build(plants or [])
    content = JobContent(spec.digest(), sha256(tolerance_bytes), sha256(base_bytes), plant_set.root)
    job_id = ledger.create_job(client, replace(params, kind=JobKind[kind.upper()]), content, spec_cid)
    weights_cid = cfg.weights_cid if isinstance(cfg, HFModelSpec) else ""
    return PostedJob(job_id, spec_cid, dataset_cid, tolerance_cid, base_cid, check, plant_set, weights_cid)


def _covering_vocabulary(cfg: ModelConfig, tokenizer_vocab: int, *, fixed: bool) -> ModelConfig:
    """The model with its vocabulary grown (to a multiple of 64) to cover the dataset's tokenizer; a vocabulary the
    sponsor's weights fix cannot grow."""
    if fixed:
        if tokenizer_vocab > cfg.vocab_size:
            raise ModelConfigError(f"model config 'vocab_size': the dataset's tokenizer has {tokenizer_vocab} ids, the "
                                   f"weights' vocabulary {cfg.vocab_size}", field="vocab_size")  # fmt: skip
        return cfg
    return replace(cfg, vocab_size=max(cfg.vocab_size, -(-tokenizer_vocab // 64) * 64))


def _checked_dataset(store: ArtifactStore, cid: str, data: bytes, kind: str, cfg: ModelConfig) -> DatasetInfo:
    """The sponsor's dataset at `cid`, refused (ConfigError) unless it fits the job: kind, block size, held-out split."""
    info = describe_dataset(data, source=cid)
    if info.kind != kind:
        raise ConfigError(f"--dataset {cid} holds {info.kind} rows, the job is --kind {kind}")
    if info.block_size != cfg.block_size:
        raise ConfigError(f"--dataset {cid} was cut for a block of {info.block_size} tokens, the model's block is "
                          f"{cfg.block_size}: rerun `crucible data add` with this job's --model")  # fmt: skip
    store.fetch(info.heldout_cid, max_bytes=DATASET_LIMIT, sha256_digest=bytes.fromhex(info.heldout_sha256))
    return info
