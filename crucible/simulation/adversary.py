"""Cheating miners, for tests and benchmarks only: the shipped miner never imports this module.

Each cheat of the design's attack catalog is a StepPolicy (what it does while training) plus, for cheats that lie
about their trace, a rewrite of the trace it commits. A cheating segment commits its own Merkle root, as a real
cheater would, so what a validator sees is exactly what the chain and IPFS would show it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import torch

from crucible.chain.merkle import MerkleTree, checkpoint_leaf
from crucible.engine.checkpoint import checkpoint_digest
from crucible.engine.data import BatchKey, batch_digest, batch_indices, select
from crucible.engine.segment import HONEST, SegmentRun, SegmentSpec, StepPolicy, Trainer, run_segment, trace_digest


class SkipSteps(StepPolicy):
    """Lazy: skips the update of the last step of every interval (or all but the first with `truncate`)."""

    def __init__(self, spec: SegmentSpec, truncate: bool = False) -> None:
        self.c = spec.steps_per_interval
        self.truncate = truncate

    def skip_update(self, step: int) -> bool:
        k = step % self.c
        return k > 0 if self.truncate else k == self.c - 1


class HalfLearningRate(StepPolicy):
    def lr_scale(self, step: int) -> float:
        return 0.5


class HalfBatch(StepPolicy):
    def batch_size(self, step: int, spec: SegmentSpec) -> int:
        return max(1, spec.batch_size // 2)


class OtherData(StepPolicy):
    """Data substitution: trains on data it chose rather than the data assigned to the slot."""

    def data_key(self, key: BatchKey) -> BatchKey:
        return replace(key, job_seed=key.job_seed + 1_000_003)


class LowerPrecision(StepPolicy):
    """Precision downgrade: computes in bf16 while declaring fp32."""

    def autocast_dtype(self, spec: SegmentSpec) -> torch.dtype | None:
        return torch.bfloat16


class Noise(StepPolicy):
    """Noisy: perturbs the weights at the end of each interval (a cheap stand-in for real training)."""

    def __init__(self, scale: float = 1e-4, seed: int = 0) -> None:
        self.scale = scale
        self.generator = torch.Generator().manual_seed(seed)

    def after_interval(self, trainer: Trainer, interval: int) -> None:
        with torch.no_grad():
            for param in trainer.params.values():
                noise = torch.randn(param.shape, generator=self.generator) * self.scale
                param.add_(noise.to(param.device))


def _forge_assigned_digests(run: SegmentRun, dataset: dict[str, torch.Tensor]) -> None:
    """A data cheat that also lies in its trace: it claims the batches it was assigned."""
    spec = run.spec
    n = next(iter(dataset.values())).shape[0]
    for records in run.traces:
        for record in records:
            key = BatchKey(spec.job_seed, spec.round, spec.slot, record["step"])
            record["batch_digest"] = batch_digest(select(dataset, batch_indices(key, spec.batch_size, n)))


def _forge_losses(run: SegmentRun, dataset: dict[str, torch.Tensor]) -> None:
    """Forged trace: honest weights, but losses reported lower than they were (to look like better work)."""
    for records in run.traces:
        for record in records:
            record["loss"] = record["loss"] * 0.9


def _stale(run: SegmentRun, dataset: dict[str, torch.Tensor]) -> None:
    """Stale: commits the interval's starting checkpoint again as its end (no work done)."""
    for i in range(len(run.checkpoint_paths) - 1, 0, -1):
        run.checkpoint_paths[i].write_bytes(run.checkpoint_paths[i - 1].read_bytes())


CHEATS: dict[str, tuple[Callable[[SegmentSpec], StepPolicy], Callable[[SegmentRun, dict[str, torch.Tensor]], None] | None]] = {
    "lazy (skipped step)": (lambda spec: SkipSteps(spec), None),
    "truncated": (lambda spec: SkipSteps(spec, truncate=True), None),
    "noisy weights": (lambda spec: Noise(), None),
    "learning-rate cheat": (lambda spec: HalfLearningRate(), None),
    "batch-size cheat": (lambda spec: HalfBatch(), None),
    "stale result": (lambda spec: HONEST, _stale),
    "data substitution": (lambda spec: OtherData(), _forge_assigned_digests),
    "precision downgrade": (lambda spec: LowerPrecision(), None),
    "forged trace": (lambda spec: HONEST, _forge_losses),
}


def run_cheat(
    name: str,
    spec: SegmentSpec,
    base: dict[str, torch.Tensor],
    dataset: dict[str, torch.Tensor],
    work_dir: Path,
    device: torch.device,
    reference: dict[str, torch.Tensor] | None = None,
) -> SegmentRun:
    """A segment as cheat `name` would run and commit it."""
    make_policy, rewrite = CHEATS[name]
    run = run_segment(spec, base, dataset, work_dir, device, policy=make_policy(spec), reference=reference)
    if rewrite is None:
        return run
    rewrite(run, dataset)
    run.checkpoint_digests = [checkpoint_digest(p.read_bytes()) for p in run.checkpoint_paths]
    run.trace_digests = [trace_digest(t) for t in run.traces]
    run.leaves = [
        checkpoint_leaf(spec.job_id, spec.round, spec.slot, spec.miner, i, run.checkpoint_digests[i], run.trace_digests[i])
        for i in range(len(run.checkpoint_digests))
    ]
    run.merkle_root = MerkleTree.build(run.leaves).root
    return run


