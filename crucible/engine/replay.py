"""Replaying one interval of a miner's segment from its claimed start checkpoint, as a validator does.

`replay_steps` is the general form: any run of steps from any committed state (an interval between two boundaries,
or an audit's short window inside a long interval, window.py). Checkpoints are parsed straight onto the validator's
device and compared there.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import torch

from crucible.engine import tasks
from crucible.engine.checkpoint import checkpoint_digest
from crucible.engine.compare import Comparison, Tolerance, compare_interval
from crucible.engine.data import BatchKey, batch_indices, select
from crucible.engine.segment import SegmentSpec, Trainer, load_checkpoint, settle
from crucible.engine.stream import StateStreamer


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
    attention: str | None = None,
    optimizer: str | None = None,
) -> ReplayResult:
    """Replays interval `interval` (steps interval*c .. interval*c + c - 1) and compares it with the claim.

    Both checkpoints are untrusted: they are parsed and checked against the model spec first (a malformed one is a
    failing verdict with its reason, raised as MalformedArtifact for the caller to record).
    """
    c = spec.steps_per_interval
    return replay_steps(spec, interval * c, c, start_bytes, claimed_end_bytes, claimed_trace, dataset, device,
                        tolerance, bitwise=bitwise, reference=reference, attention=attention,
                        optimizer=optimizer)  # fmt: skip


def replay_steps(
    spec: SegmentSpec,
    first_step: int,
    steps: int,
    start_bytes: bytes,
    claimed_end_bytes: bytes,
    claimed_trace: list[dict[str, Any]],
    dataset: dict[str, torch.Tensor],
    device: torch.device,
    tolerance: Tolerance,
    *,
    bitwise: bool,
    reference: dict[str, torch.Tensor] | None = None,
    attention: str | None = None,
    optimizer: str | None = None,
    expected_end_digest: bytes | None = None,
) -> ReplayResult:
    """Replays steps first_step .. first_step + steps - 1 from the state before them and compares with the claim.

    `claimed_trace` holds the claimed records of exactly those steps. Bitwise (same device class) the replayed end
    must have the claimed checkpoint's digest and every step's state digest must match the trace; within tolerance
    the end weights are compared (compare.py). Either way the trace's last state digest must be the claimed end's
    (the trace and the checkpoint are one commitment), and so must `expected_end_digest` where the caller knows the
    committed one. On a GPU the claimed end is parsed, moved and hashed in the background while the steps run.
    """
    start = load_checkpoint(start_bytes, spec.model, device)
    trainer = Trainer(spec, dataset, device, reference, attention=attention, optimizer=optimizer)
    trainer.load(start)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="replay-load") as background:
        claimed_future = background.submit(_load_claimed, claimed_end_bytes, spec, device)
        records: list[dict[str, Any]] = []
        pending = []
        streamer = StateStreamer(trainer.state_tensors(), device) if bitwise else None
        try:
            if streamer is not None:
                trainer.before_update = streamer.before_update
            for k in range(steps):
                step = first_step + k
                rollouts = None
                if spec.kind == "grpo":
                    try:
                        rollouts = _checked_rollouts(trainer, spec, step, claimed_trace, k, dataset, tolerance)
                    except RolloutMismatch as exc:
                        return ReplayResult(Comparison(False, str(exc)), b"", k)
                records.append(trainer.step(step, rollouts=rollouts, sync=False))
                claim = claimed_trace[k] if k < len(claimed_trace) else {}
                if streamer is not None and (k == steps - 1 or "state_digest" in claim):
                    pending.append((claim, streamer.snapshot()))
        finally:
            if streamer is not None:
                streamer.close()
        claimed, claimed_digest, side_stream = claimed_future.result()  # MalformedArtifact surfaces here
    if side_stream is not None:
        torch.cuda.current_stream(device).wait_stream(side_stream)
    if expected_end_digest is not None and claimed_digest != expected_end_digest:
        return ReplayResult(Comparison(False, f"served checkpoint of state {first_step + steps} does not match the "
                                              "committed per-step state digest"), b"", steps)  # fmt: skip
    last = claimed_trace[-1] if claimed_trace else {}
    if last.get("state_digest") not in (None, claimed_digest.hex()):
        return ReplayResult(Comparison(False, f"step {last.get('step')}: the trace's state digest is not the digest "
                                              "of the claimed checkpoint"), b"", steps)  # fmt: skip
    settle(records)
    replayed_digest = pending[-1][1].result() if pending else b""
    comparison = compare_interval(
        start, claimed, trainer.state_tensors(), claimed_trace, records, tolerance, bitwise=bitwise,
        claimed_digest=claimed_digest, replayed_digest=replayed_digest,
    )  # fmt: skip
    if comparison.passed and bitwise:
        for claim, done in pending:
            if "state_digest" in claim and claim["state_digest"] != done.result().hex():
                return ReplayResult(Comparison(False, f"step {claim['step']}: state digest differs from the bitwise "
                                                      "replay", bitwise=True), replayed_digest, steps)  # fmt: skip
    return ReplayResult(comparison, replayed_digest, steps)


def _load_claimed(
    data: bytes, spec: SegmentSpec, device: torch.device
) -> tuple[dict[str, torch.Tensor], bytes, torch.cuda.Stream | None]:
    """The claimed end state on the device and its digest; on CUDA through its own stream (ordered by the caller)."""
    if device.type != "cuda":
        return load_checkpoint(data, spec.model, device), checkpoint_digest(data), None
    side = torch.cuda.Stream(device)
    with torch.cuda.stream(side):
        tensors = load_checkpoint(data, spec.model, device)
    return tensors, checkpoint_digest(data), side


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
