"""One work slot: K = intervals x c inner steps from the round's base checkpoint, a checkpoint every c steps
(hashed, kept locally), a per-step trace, and the Merkle root the miner commits on-chain.

Inside an interval the trace binds the training state every w = min(c, WINDOW_STEPS) steps: those records carry
`state_digest`, the checkpoint digest the state after the step would have as a file (the last step of an interval
always does, and equals the boundary's checkpoint digest). An audit's replay window is one such block of w steps
(window.py): the miner recomputes its end states bit for bit from its last checkpoint file and the validator checks
the served bytes against the committed digests. A digest every step would bind no more (a window needs committed
ends; a bisection inside it needs none), and at 163M parameters hashing the 2 GB state every step costs about as
much as the step. The states are streamed off the device (stream.py) while training goes on; the boundary
checkpoints are those same snapshots, written to disk.

The same Trainer replays intervals and windows for validators, so miner and validator run literally the same step
code.
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
from crucible.engine.architecture import JobModel, ModelConfig, empty_job_model, model_config_from_json, model_skeleton
from crucible.engine.checkpoint import checkpoint_to_bytes, digest, from_bytes, to_bytes
from crucible.engine.data import BatchKey, batch_digest, batch_indices, select
from crucible.engine.determinism import PRECISIONS, check_attention, default_attention, default_optimizer
from crucible.engine.stream import StateStreamer

JOB_KINDS = ("pretrain", "sft", "dpo", "grpo")
WINDOW_STEPS = 8  # w: honest cross-class drift over 8 steps stays far below a 1% learning-rate cheat (bench_windows)


@dataclass(frozen=True)
class SegmentSpec:
    """Everything that determines a slot's work; recorded in the manifest."""

    job_id: int
    round: int
    slot: int
    miner: str
    kind: str
    model: ModelConfig  # the built-in GPT's config or a Hugging Face architecture's (architecture.py)
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
        return cls(**{**data, "model": model_config_from_json(data["model"])})

    @property
    def digest_stride(self) -> int:
        """Steps between committed states inside an interval: the audit window's length."""
        return min(self.steps_per_interval, WINDOW_STEPS)

    def commits_state_after(self, step: int) -> bool:
        """Whether the trace record of `step` carries the state digest (every stride-th step and each interval's
        last)."""
        k = step % self.steps_per_interval + 1
        return k % self.digest_stride == 0 or k == self.steps_per_interval


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


def model_spec(cfg: ModelConfig) -> dict[str, tuple[tuple[int, ...], torch.dtype]]:
    """Names, shapes and dtypes of a model's parameters (what a checkpoint must contain)."""
    model = model_skeleton(cfg)
    return {f"model.{n}": (tuple(p.shape), torch.float32) for n, p in model.named_parameters()}


def checkpoint_spec(cfg: ModelConfig) -> dict[str, tuple[tuple[int, ...], torch.dtype]]:
    """Names, shapes and dtypes of a full training checkpoint (model + AdamW state)."""
    spec = dict(model_spec(cfg))
    for name, (shape, dtype) in model_spec(cfg).items():
        short = name.removeprefix("model.")
        spec[f"opt.exp_avg.{short}"] = (shape, dtype)
        spec[f"opt.exp_avg_sq.{short}"] = (shape, dtype)
    spec["opt.step"] = ((), torch.float32)
    return spec


def checkpoint_max_bytes(cfg: ModelConfig) -> int:
    """The largest a valid checkpoint of this model can be: float32 data plus header slack (a download limit)."""
    elements = sum(max(1, int(torch.Size(shape).numel())) for shape, _ in checkpoint_spec(cfg).values())
    return elements * 4 + (1 << 20)


class Trainer:
    """A model, its AdamW optimizer and the step function of one job kind.

    `attention` and `optimizer` are the engine settings that, with the device, decide the bits (determinism.py);
    left out they are the device's defaults. The optimizer state exists from the start (zeros, as AdamW would create
    it at the first step), so `state_tensors()` returns the same live tensors for the whole run: what the streamer
    copies from.
    """

    def __init__(
        self,
        spec: SegmentSpec,
        dataset: dict[str, torch.Tensor],
        device: torch.device,
        reference: dict[str, torch.Tensor] | None = None,
        *,
        attention: str | None = None,
        optimizer: str | None = None,
    ) -> None:
        self.spec = spec
        self.device = device
        self.dataset = dataset
        self.n_examples = next(iter(dataset.values())).shape[0]
        self.attention = attention or default_attention(device, spec.precision)
        self.optimizer = optimizer or default_optimizer(device)
        check_attention(self.attention, device, spec.precision)
        if self.optimizer not in ("fused", "for-loop"):
            raise ValueError(f"unknown optimizer implementation {self.optimizer!r}; use 'fused' or 'for-loop'")
        self.model = empty_job_model(spec.model, device).set_attention(self.attention)  # weights are loaded next
        self.params = dict(self.model.named_parameters())
        fused = self.optimizer == "fused"
        self.opt = torch.optim.AdamW(
            self.model.parameters(), lr=spec.lr, betas=(0.9, 0.95), weight_decay=spec.weight_decay, foreach=False,
            fused=fused or None,
        )  # fmt: skip
        for param in self.params.values():
            self.opt.state[param] = {
                "step": torch.zeros((), dtype=torch.float32, device=device if fused else "cpu"),
                "exp_avg": torch.zeros_like(param, memory_format=torch.preserve_format),
                "exp_avg_sq": torch.zeros_like(param, memory_format=torch.preserve_format),
            }
        self.before_update: Any = None  # set by a streamer: waits for the state copy before it is overwritten
        self.reference: JobModel | None = None
        if spec.kind == "dpo":
            if reference is None:
                raise ValueError("a dpo segment needs its frozen reference checkpoint")
            self.reference = empty_job_model(spec.model, device).set_attention(self.attention)
            self.reference.load_state_dict({k.removeprefix("model."): v for k, v in reference.items()})
            self.reference.requires_grad_(False)

    # ------------------------------------------------------------ state

    def load_model(self, tensors: dict[str, torch.Tensor]) -> None:
        """Round start: weights from the base checkpoint (the optimizer state stays fresh)."""
        self.model.load_state_dict({k.removeprefix("model."): v.to(self.device) for k, v in tensors.items()})

    def load(self, tensors: dict[str, torch.Tensor]) -> None:
        """A full training checkpoint (weights and optimizer moments), copied into the live tensors."""
        self.load_model({k: v for k, v in tensors.items() if k.startswith("model.")})
        with torch.no_grad():
            for name, param in self.params.items():
                state = self.opt.state[param]
                state["step"].copy_(tensors["opt.step"].reshape(()))
                state["exp_avg"].copy_(tensors[f"opt.exp_avg.{name}"])
                state["exp_avg_sq"].copy_(tensors[f"opt.exp_avg_sq.{name}"])

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """The live training state (no copies): parameters, AdamW moments and the step count."""
        out = {f"model.{n}": p.detach() for n, p in self.params.items()}
        for name, param in self.params.items():
            state = self.opt.state[param]
            out[f"opt.exp_avg.{name}"] = state["exp_avg"]
            out[f"opt.exp_avg_sq.{name}"] = state["exp_avg_sq"]
        out["opt.step"] = self.opt.state[next(iter(self.params.values()))]["step"]
        return out

    def checkpoint_bytes(self) -> bytes:
        return checkpoint_to_bytes(self.state_tensors())

    # ------------------------------------------------------------ one step

    def step(
        self, step: int, policy: StepPolicy = HONEST, rollouts: tasks.Rollouts | None = None, *, sync: bool = True
    ) -> dict[str, Any]:
        """One optimizer step and its trace record. With `sync=False` the loss and gradient norm stay on the device
        (0-dim tensors) until `settle` reads them all at once, so the host never waits for the device mid-run."""
        spec = self.spec
        key = policy.data_key(BatchKey(spec.job_seed, spec.round, spec.slot, step))
        batch = select(self.dataset, batch_indices(key, policy.batch_size(step, spec), self.n_examples))
        record: dict[str, Any] = {"step": step, "batch_digest": batch_digest(batch)}
        batch = {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
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
            if self.before_update is not None:
                self.before_update()
            self.opt.step()
        record["loss"] = loss.detach()
        record["grad_norm"] = grad_norm.detach()
        return settle([record])[0] if sync else record

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


def settle(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Reads every device-side value of `records` in one transfer (floats in place of 0-dim tensors)."""
    slots = [(r, k) for r in records for k in ("loss", "grad_norm") if isinstance(r.get(k), torch.Tensor)]
    if slots:
        values = torch.stack([r[k].float().reshape(()) for r, k in slots]).tolist()
        for (record, key), value in zip(slots, values, strict=True):
            record[key] = value
    return records


def trace_digest(records: list[dict[str, Any]]) -> bytes:
    """Digest of one interval's trace records (canonical JSON)."""
    return digest(json.dumps(records, sort_keys=True, separators=(",", ":")).encode())


def state_digest(traces: list[list[dict[str, Any]]], base_digest: bytes, state: int) -> bytes:
    """The committed digest of training state `state` (after `state` steps): the base checkpoint's for state 0, else
    the `state_digest` of step state-1's trace record. IndexError/KeyError/ValueError if the trace does not hold it."""
    if state == 0:
        return base_digest
    step = state - 1
    for records in traces:
        for record in records:
            if isinstance(record, dict) and record.get("step") == step:
                return bytes.fromhex(record["state_digest"])
    raise IndexError(f"the trace has no record of step {step}")


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
    attention: str = ""  # the engine settings it ran with (a miner serving a window recomputes with the same)
    optimizer: str = ""
    checkpoint_size: int = 0  # bytes of every checkpoint file (kept on disk or not)

    def kept(self, boundary: int) -> bool:
        """Whether boundary `boundary`'s checkpoint file is on disk (else it is recomputed on demand)."""
        return Path(self.checkpoint_paths[boundary]).exists()

    def tree(self) -> MerkleTree:
        return MerkleTree.build(self.leaves)

    def state_digest(self, state: int) -> bytes:
        return state_digest(self.traces, self.checkpoint_digests[0], state)


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
    attention: str | None = None,
    optimizer: str | None = None,
    keep_every: int = 1,
) -> SegmentRun:
    """Runs the slot's K steps from `base`, streaming the committed states off the device (their digests in the trace)
    and writing a checkpoint file every c steps into `work_dir`.

    `keep_every` > 1 keeps the file of every keep_every-th boundary only (and of the base and the last one): every
    boundary is still committed, and a missing one is recomputed bit for bit when an audit asks for it
    (window.serve_states). A miner's choice of disk traffic against audit latency, not part of the protocol: a 163M
    model's 2 GB checkpoint every 4 steps is more than a disk takes while the GPU trains.
    """
    if spec.precision not in PRECISIONS:
        raise ValueError(f"unknown precision {spec.precision!r}")
    if keep_every < 1:
        raise ValueError(f"keep_every must be >= 1, got {keep_every}")
    work_dir.mkdir(parents=True, exist_ok=True)
    trainer = Trainer(spec, dataset, device, reference, attention=attention, optimizer=optimizer)
    trainer.load_model(base)
    c = spec.steps_per_interval
    paths = [work_dir / f"checkpoint-{i:04d}.safetensors" for i in range(spec.intervals + 1)]
    traces: list[list[dict[str, Any]]] = [[]]
    step_digests: list[tuple[dict[str, Any], Any]] = []
    with StateStreamer(trainer.state_tensors(), device) as streamer:
        trainer.before_update = streamer.before_update
        boundary_digests = [streamer.snapshot(paths[0])]
        for interval in range(spec.intervals):
            records = []
            for k in range(c):
                record = trainer.step(interval * c + k, policy, sync=False)
                records.append(record)
                if k < c - 1 and spec.commits_state_after(interval * c + k):
                    step_digests.append((record, streamer.snapshot()))
                if progress:
                    progress()
            streamer.before_update()  # a cheat's end-of-interval hook may rewrite the weights in place
            policy.after_interval(trainer, interval)
            # The boundary checkpoint is the state after the interval's last step: one snapshot is both.
            b = interval + 1
            boundary = streamer.snapshot(paths[b] if b % keep_every == 0 or b == spec.intervals else None)
            boundary_digests.append(boundary)
            step_digests.append((records[-1], boundary))
            traces.append(settle(records))
        result = to_bytes({f"model.{n}": p.detach() for n, p in trainer.params.items()},
                          metadata={"format": "crucible-weights-v1"})  # fmt: skip
    for record, pending in step_digests:
        record["state_digest"] = pending.result().hex()
    digests_ = [pending.result() for pending in boundary_digests]
    trace_digests = [trace_digest(t) for t in traces]
    leaves = [
        checkpoint_leaf(spec.job_id, spec.round, spec.slot, spec.miner, i, digests_[i], trace_digests[i])
        for i in range(len(digests_))
    ]
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
        attention=trainer.attention,
        optimizer=trainer.optimizer,
        checkpoint_size=streamer.size,
    )


def load_checkpoint(data: bytes, cfg: ModelConfig, device: torch.device | None = None) -> dict[str, torch.Tensor]:
    """Untrusted checkpoint bytes -> tensors (on `device`, parsed straight onto it), checked against the model spec
    (names, shapes, dtypes, finite)."""
    return from_bytes(data, checkpoint_spec(cfg), device)
