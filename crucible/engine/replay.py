"""Replaying one interval of a miner's segment from its claimed start checkpoint, as a validator does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from crucible.engine import tasks
from crucible.engine.checkpoint import digest
from crucible.engine.compare import Comparison, Tolerance, compare_interval
from crucible.engine.data import BatchKey, batch_indices, select
from crucible.engine.segment import SegmentSpec, Trainer, load_checkpoint


@dataclass(frozen=True)
class ReplayResult:
    comparison: Comparison
    replayed_digest: bytes
    steps: int


class RolloutMismatch(Exception):
    """The recorded GRPO rollouts do not check out (wrong rewards, or not sampled from the claimed policy)."""


def replay_interval(
    spec: SegmentSpec,
    interval: int,
    start_bytes: bytes,
    claimed_end_bytes: bytes,
    claimed_trace: list[dict[str, Any]],
    dataset: dict[str, torch.Tensor],
    device: torch.device,
    tolerance: Tolerance,
    *,
    bitwise: bool,
    reference: dict[str, torch.Tensor] | None = None,
) -> ReplayResult:
    """Replays interval `interval` (steps interval*c .. interval*c + c - 1) and compares it with the claim.

    Both checkpoints are untrusted: they are parsed and checked against the model spec first (a malformed one is a
    failing verdict with its reason, raised as MalformedArtifact for the caller to record).
    """
    start = load_checkpoint(start_bytes, spec.model)
    claimed = load_checkpoint(claimed_end_bytes, spec.model)
    trainer = Trainer(spec, dataset, device, reference)
    trainer.load(start)
    records = []
    c = spec.steps_per_interval
    for k in range(c):
        step = interval * c + k
        rollouts = None
        if spec.kind == "grpo":
            try:
                rollouts = _checked_rollouts(trainer, spec, step, claimed_trace, k, dataset, tolerance)
            except RolloutMismatch as exc:
                return ReplayResult(Comparison(False, str(exc)), b"", k)
        records.append(trainer.step(step, rollouts=rollouts))
    end_bytes = trainer.checkpoint_bytes()
    comparison = compare_interval(
        start, claimed, trainer.state_tensors(), claimed_trace, records, tolerance, bitwise=bitwise,
        claimed_digest=digest(claimed_end_bytes), replayed_digest=digest(end_bytes),
    )  # fmt: skip
    return ReplayResult(comparison, digest(end_bytes), c)


def _checked_rollouts(
    trainer: Trainer,
    spec: SegmentSpec,
    step: int,
    claimed_trace: list[dict[str, Any]],
    k: int,
    dataset: dict[str, torch.Tensor],
    tolerance: Tolerance,
) -> tasks.Rollouts:
    if k >= len(claimed_trace) or "rollouts" not in claimed_trace[k]:
        raise RolloutMismatch(f"step {step}: the trace has no rollouts")
    try:
        rollouts = tasks.Rollouts.from_json(claimed_trace[k]["rollouts"])
    except (KeyError, TypeError, ValueError) as exc:
        raise RolloutMismatch(f"step {step}: malformed rollouts ({exc})") from None
    batch = select(dataset, batch_indices(BatchKey(spec.job_seed, spec.round, spec.slot, step), spec.batch_size,
                                          trainer.n_examples))  # fmt: skip
    expected_prompts = batch["prompts"].repeat_interleave(spec.grpo_group, dim=0)
    if rollouts.tokens.size(0) != expected_prompts.size(0) or not torch.equal(
        rollouts.tokens[:, : rollouts.prompt_len], expected_prompts
    ):
        raise RolloutMismatch(f"step {step}: rollouts are not for the assigned prompts")
    rewards = tasks.recompute_rewards(rollouts, batch["answers"], spec.grpo_group)
    if not torch.equal(rewards, rollouts.rewards):
        raise RolloutMismatch(f"step {step}: recorded rewards differ from the recomputed ones")
    with torch.no_grad():
        logp = tasks.completion_logprobs(trainer.model, rollouts.tokens.to(trainer.device), rollouts.prompt_len)
    gap = float((logp.double().cpu() - rollouts.logprobs).abs().max())
    if gap > tolerance.logprob_abs:
        raise RolloutMismatch(f"step {step}: rollout log-probabilities off by {gap:.3g}: not the claimed policy")
    return rollouts
