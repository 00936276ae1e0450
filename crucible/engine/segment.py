"""One work slot: K = intervals x c inner steps from the round's base checkpoint, a checkpoint every c steps
(hashed, kept locally), a per-step trace, and the Merkle root the miner commits on-chain.

The same Trainer replays intervals for validators, so miner and validator run literally the same step code.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.nn.utils import clip_grad_norm_

from crucible.chain.merkle import MerkleTree, checkpoint_leaf
from crucible.engine import tasks
from crucible.engine.checkpoint import digest, from_bytes, to_bytes
from crucible.engine.data import BatchKey, batch_digest, batch_indices, select
from crucible.engine.determinism import PRECISIONS
from crucible.engine.model import GPT, GPTConfig, build_model

JOB_KINDS = ("pretrain", "sft", "dpo", "grpo")


@dataclass(frozen=True)
class SegmentSpec:
    """Everything that determines a slot's work; recorded in the manifest."""

    job_id: int
    round: int
    slot: int
    miner: str
    kind: str
    model: GPTConfig
    precision: str = "fp32"
    job_seed: int = 0
    steps_per_interval: int = 4  # c
    intervals: int = 4  # K / c
    batch_size: int = 8
    lr: float = 3e-3
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    dpo_beta: float = 0.1
    grpo_group: int = 4
    grpo_max_new: int = 4

    def __post_init__(self) -> None:
        if self.kind not in JOB_KINDS:
            raise ValueError(f"unknown job kind {self.kind!r}; use one of {JOB_KINDS}")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["model"] = self.model.to_json()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SegmentSpec:
        return cls(**{**data, "model": GPTConfig(**data["model"])})


class StepPolicy:
    """How each step is run. The honest policy follows the spec; the adversary harness overrides hooks."""

    def lr_scale(self, step: int) -> float:
        return 1.0

    def batch_size(self, step: int, spec: SegmentSpec) -> int:
        return spec.batch_size

    def skip_update(self, step: int) -> bool:
        return False

    def data_key(self, key: BatchKey) -> BatchKey:
        return key

    def autocast_dtype(self, spec: SegmentSpec) -> torch.dtype | None:
        return torch.bfloat16 if spec.precision == "bf16" else None

    def after_interval(self, trainer: Trainer, interval: int) -> None:
        """Called after each interval's last step (a noisy cheat perturbs weights here)."""


HONEST = StepPolicy()


def model_spec(cfg: GPTConfig) -> dict[str, tuple[tuple[int, ...], torch.dtype]]:
    """Names, shapes and dtypes of a model's parameters (what a checkpoint must contain)."""
    with torch.device("meta"):
        model = GPT(cfg)
    return {f"model.{n}": (tuple(p.shape), torch.float32) for n, p in model.named_parameters()}


def checkpoint_spec(cfg: GPTConfig) -> dict[str, tuple[tuple[int, ...], torch.dtype]]:
    """Names, shapes and dtypes of a full training checkpoint (model + AdamW state)."""
    spec = dict(model_spec(cfg))
    for name, (shape, dtype) in model_spec(cfg).items():
        short = name.removeprefix("model.")
        spec[f"opt.exp_avg.{short}"] = (shape, dtype)
        spec[f"opt.exp_avg_sq.{short}"] = (shape, dtype)
    spec["opt.step"] = ((), torch.float32)
    return spec


def checkpoint_max_bytes(cfg: GPTConfig) -> int:
    """The largest a valid checkpoint of this model can be: float32 data plus header slack (a download limit)."""
    elements = sum(max(1, int(torch.Size(shape).numel())) for shape, _ in checkpoint_spec(cfg).values())
    return elements * 4 + (1 << 20)


class Trainer:
    """A model, its AdamW optimizer and the step function of one job kind."""

    def __init__(
        self,
        spec: SegmentSpec,
        dataset: dict[str, torch.Tensor],
        device: torch.device,
        reference: dict[str, torch.Tensor] | None = None,
    ) -> None:
        self.spec = spec
        self.device = device
        self.dataset = dataset
        self.n_examples = next(iter(dataset.values())).shape[0]
        self.model = build_model(spec.model, seed=0, device=device)
        self.params = dict(self.model.named_parameters())
        self.opt = torch.optim.AdamW(
            self.model.parameters(), lr=spec.lr, betas=(0.9, 0.95), weight_decay=spec.weight_decay, foreach=False
        )
        self.reference: GPT | None = None
        if spec.kind == "dpo":
            if reference is None:
                raise ValueError("a dpo segment needs its frozen reference checkpoint")
            self.reference = build_model(spec.model, seed=0, device=device)
            self.reference.load_state_dict({k.removeprefix("model."): v for k, v in reference.items()})
            self.reference.requires_grad_(False)

    # ------------------------------------------------------------ state

    def load_model(self, tensors: dict[str, torch.Tensor]) -> None:
        """Round start: weights from the base checkpoint, fresh optimizer state."""
        self.model.load_state_dict({k.removeprefix("model."): v.to(self.device) for k, v in tensors.items()})

    def load(self, tensors: dict[str, torch.Tensor]) -> None:
        """A full training checkpoint (weights and optimizer moments)."""
        self.load_model({k: v for k, v in tensors.items() if k.startswith("model.")})
        step = tensors["opt.step"].to(torch.float32)
        for name, param in self.params.items():
            self.opt.state[param] = {
                "step": step.clone(),
                "exp_avg": tensors[f"opt.exp_avg.{name}"].to(self.device).clone(),
                "exp_avg_sq": tensors[f"opt.exp_avg_sq.{name}"].to(self.device).clone(),
            }

    def state_tensors(self) -> dict[str, torch.Tensor]:
        out = {f"model.{n}": p.detach() for n, p in self.params.items()}
        step = torch.zeros((), dtype=torch.float32)
        for name, param in self.params.items():
            state = self.opt.state.get(param)
            if state:
                out[f"opt.exp_avg.{name}"] = state["exp_avg"]
                out[f"opt.exp_avg_sq.{name}"] = state["exp_avg_sq"]
                step = state["step"].detach().to("cpu", torch.float32).reshape(())
            else:
                out[f"opt.exp_avg.{name}"] = torch.zeros_like(param)
                out[f"opt.exp_avg_sq.{name}"] = torch.zeros_like(param)
        out["opt.step"] = step
        return out

    def checkpoint_bytes(self) -> bytes:
        return to_bytes(self.state_tensors(), metadata={"format": "crucible-checkpoint-v1"})

    # ------------------------------------------------------------ one step

    def step(self, step: int, policy: StepPolicy = HONEST, rollouts: tasks.Rollouts | None = None) -> dict[str, Any]:
        spec = self.spec
        key = policy.data_key(BatchKey(spec.job_seed, spec.round, spec.slot, step))
        batch = select(self.dataset, batch_indices(key, policy.batch_size(step, spec), self.n_examples))
        record: dict[str, Any] = {"step": step, "batch_digest": batch_digest(batch)}
        batch = {k: v.to(self.device) for k, v in batch.items()}
        if spec.kind == "grpo" and rollouts is None:
            generator = BatchKey(spec.job_seed ^ 0x5EED, spec.round, spec.slot, step).generator()
            rollouts = tasks.sample_rollouts(
                self.model, batch["prompts"], batch["answers"], spec.grpo_group, spec.grpo_max_new, generator
            )
        if rollouts is not None:
            record["rollouts"] = rollouts.to_json()
        autocast = policy.autocast_dtype(spec)
        with torch.autocast(self.device.type, dtype=autocast, enabled=autocast is not None):
            loss = self._loss(batch, rollouts)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = clip_grad_norm_(self.model.parameters(), spec.grad_clip)
        for group in self.opt.param_groups:
            group["lr"] = spec.lr * policy.lr_scale(step)
        if not policy.skip_update(step):
            self.opt.step()
        record["loss"] = float(loss.detach())
        record["grad_norm"] = float(grad_norm)
        return record

    def _loss(self, batch: dict[str, torch.Tensor], rollouts: tasks.Rollouts | None) -> torch.Tensor:
        kind = self.spec.kind
        if kind == "pretrain":
            return tasks.pretrain_loss(self.model, batch)
        if kind == "sft":
            return tasks.sft_loss(self.model, batch)
        if kind == "dpo":
            assert self.reference is not None
            return tasks.dpo_loss(self.model, self.reference, batch, self.spec.dpo_beta)
        assert rollouts is not None
        return tasks.grpo_loss(self.model, rollouts, self.spec.grpo_group, self.device)


def trace_digest(records: list[dict[str, Any]]) -> bytes:
    """Digest of one interval's trace records (canonical JSON)."""
    return digest(json.dumps(records, sort_keys=True, separators=(",", ":")).encode())


@dataclass
class SegmentRun:
    """What a miner produced for one slot."""

    spec: SegmentSpec
    checkpoint_paths: list[Path]
    checkpoint_digests: list[bytes]
    traces: list[list[dict[str, Any]]]  # traces[i] = records of the interval ending at boundary i (traces[0] = [])
    trace_digests: list[bytes]
    merkle_root: bytes
    result_bytes: bytes
    result_digest: bytes
    leaves: list[bytes] = field(default_factory=list)

    def tree(self) -> MerkleTree:
        return MerkleTree.build(self.leaves)


def run_segment(
    spec: SegmentSpec,
    base: dict[str, torch.Tensor],
    dataset: dict[str, torch.Tensor],
    work_dir: Path,
    device: torch.device,
    *,
    policy: StepPolicy = HONEST,
    reference: dict[str, torch.Tensor] | None = None,
    progress: Any = None,
) -> SegmentRun:
    """Runs the slot's K steps from `base`, writing a checkpoint file every c steps into `work_dir`."""
    if spec.precision not in PRECISIONS:
        raise ValueError(f"unknown precision {spec.precision!r}")
    work_dir.mkdir(parents=True, exist_ok=True)
    trainer = Trainer(spec, dataset, device, reference)
    trainer.load_model(base)
    paths, digests_, traces = [], [], [[]]  # type: ignore[var-annotated]
    first = trainer.checkpoint_bytes()
    paths.append(_write(work_dir / "checkpoint-0000.safetensors", first))
    digests_.append(digest(first))
    for interval in range(spec.intervals):
        records = []
        for k in range(spec.steps_per_interval):
            records.append(trainer.step(interval * spec.steps_per_interval + k, policy))
            if progress:
                progress()
        policy.after_interval(trainer, interval)
        data = trainer.checkpoint_bytes()
        paths.append(_write(work_dir / f"checkpoint-{interval + 1:04d}.safetensors", data))
        digests_.append(digest(data))
        traces.append(records)
    trace_digests = [trace_digest(t) for t in traces]
    leaves = [
        checkpoint_leaf(spec.job_id, spec.round, spec.slot, spec.miner, i, digests_[i], trace_digests[i])
        for i in range(len(digests_))
    ]
    result = to_bytes({f"model.{n}": p.detach() for n, p in trainer.params.items()}, metadata={"format": "crucible-weights-v1"})
    return SegmentRun(
        spec=spec,
        checkpoint_paths=paths,
        checkpoint_digests=digests_,
        traces=traces,
        trace_digests=trace_digests,
        merkle_root=MerkleTree.build(leaves).root,
        result_bytes=result,
        result_digest=digest(result),
        leaves=leaves,
    )


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def load_checkpoint(data: bytes, cfg: GPTConfig) -> dict[str, torch.Tensor]:
    """Untrusted checkpoint bytes -> tensors, checked against the model spec (names, shapes, dtypes, finite)."""
    return from_bytes(data, checkpoint_spec(cfg))
