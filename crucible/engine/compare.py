"""How a validator decides whether a replayed interval matches the miner's claim.

Same device class in deterministic mode: the replayed checkpoint must equal the claimed one bit for bit (same
digest). Otherwise, for the model weights W at the interval's start S, claimed end C and replayed end R:
  d = ||R - C|| / ||C - S||  (overall and per tensor), and the update-norm ratio ||C - S|| / ||R - S||;
both must be within the tolerance profile. The norm ratio catches learning-rate cheats, whose direction is right
but whose length is not. The trace must agree too: the batch digests exactly (the data the miner was assigned),
the losses within tolerance, and for GRPO the rollouts' rewards exactly and their log-probabilities within
tolerance under the claimed policy.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import torch


@dataclass(frozen=True)
class Tolerance:
    """A tolerance profile: what honest replays of one model, precision and device pair differ by."""

    rel_update_error: float = 1e-3  # d, overall
    rel_update_error_tensor: float = 5e-3  # d, worst tensor
    norm_ratio: float = 1e-3  # |ratio - 1|
    loss_rel: float = 1e-3
    logprob_abs: float = 1e-3  # GRPO: |recorded - recomputed| summed log-prob of a completion
    model: str = "tiny"
    precision: str = "fp32"
    device_pair: tuple[str, str] = ("cpu", "cpu")
    measured: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Tolerance:
        return cls(**{**data, "device_pair": tuple(data.get("device_pair", ("cpu", "cpu")))})

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_json(), sort_keys=True, indent=2).encode()


@dataclass(frozen=True)
class Comparison:
    passed: bool
    reason: str
    rel_update_error: float = 0.0
    worst_tensor: str = ""
    worst_tensor_error: float = 0.0
    norm_ratio: float = 1.0
    max_loss_rel: float = 0.0
    bitwise: bool = False

    def to_json(self) -> dict[str, Any]:
        return {k: (v if not isinstance(v, float) or math.isfinite(v) else str(v)) for k, v in asdict(self).items()}


def _weights(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    # float64 on whatever device the tensors are on: a GPU validator compares on its GPU.
    return {k: v.detach().double() for k, v in tensors.items() if k.startswith("model.")}


def weight_distance(
    start: dict[str, torch.Tensor], claimed: dict[str, torch.Tensor], replayed: dict[str, torch.Tensor]
) -> tuple[float, str, float, float]:
    """(overall d, worst tensor name, its d, update-norm ratio)."""
    s, c, r = _weights(start), _weights(claimed), _weights(replayed)
    diff_sq = update_sq = replay_update_sq = 0.0
    worst_name, worst = "", 0.0
    for name in s:
        update = c[name] - s[name]
        diff = r[name] - c[name]
        u2, d2 = float(update.pow(2).sum()), float(diff.pow(2).sum())
        diff_sq += d2
        update_sq += u2
        replay_update_sq += float((r[name] - s[name]).pow(2).sum())
        tensor_error = math.sqrt(d2) / math.sqrt(u2) if u2 > 0 else (math.inf if d2 > 0 else 0.0)
        if tensor_error > worst:
            worst_name, worst = name, tensor_error
    # No update claimed and none replayed (e.g. every GRPO advantage was zero) is a match, not a division by zero.
    overall = math.sqrt(diff_sq) / math.sqrt(update_sq) if update_sq > 0 else (0.0 if diff_sq == 0 else math.inf)
    if replay_update_sq > 0:
        ratio = math.sqrt(update_sq) / math.sqrt(replay_update_sq)
    else:
        ratio = 1.0 if update_sq == 0 else math.inf
    return overall, worst_name, worst, ratio


def compare_interval(
    start: dict[str, torch.Tensor],
    claimed: dict[str, torch.Tensor],
    replayed: dict[str, torch.Tensor],
    claimed_trace: list[dict[str, Any]],
    replayed_trace: list[dict[str, Any]],
    tolerance: Tolerance,
    *,
    bitwise: bool,
    claimed_digest: bytes | None = None,
    replayed_digest: bytes | None = None,
) -> Comparison:
    """The verdict on one replayed interval, with the numbers behind it."""
    if len(claimed_trace) != len(replayed_trace):
        return Comparison(False, f"trace has {len(claimed_trace)} steps, the interval has {len(replayed_trace)}")
    for claim, replay in zip(claimed_trace, replayed_trace, strict=True):
        if claim.get("step") != replay["step"]:
            return Comparison(False, f"trace step {claim.get('step')} where step {replay['step']} was due")
        if claim.get("batch_digest") != replay["batch_digest"]:
            return Comparison(False, f"step {replay['step']}: batch digest differs (not the assigned data)")
    max_loss_rel = max(
        (abs(float(c.get("loss", math.nan)) - r["loss"]) / max(abs(r["loss"]), 1e-12)
         for c, r in zip(claimed_trace, replayed_trace, strict=True)),
        default=0.0,
    )  # fmt: skip
    if not math.isfinite(max_loss_rel):
        max_loss_rel = math.inf
    if bitwise:
        same = claimed_digest is not None and claimed_digest == replayed_digest
        exact_trace = all(
            c.get("loss") == r["loss"] and c.get("grad_norm") == r["grad_norm"]
            for c, r in zip(claimed_trace, replayed_trace, strict=True)
        )
        if same and exact_trace:
            return Comparison(True, "bitwise identical", bitwise=True)
        overall, worst_name, worst, ratio = weight_distance(start, claimed, replayed)
        reason = "checkpoint differs from the bitwise replay" if not same else "trace differs from the bitwise replay"
        return Comparison(False, reason, overall, worst_name, worst, ratio, max_loss_rel, bitwise=True)
    overall, worst_name, worst, ratio = weight_distance(start, claimed, replayed)
    checks = [
        (overall <= tolerance.rel_update_error, f"relative update error {overall:.3g} > {tolerance.rel_update_error:g}"),
        (worst <= tolerance.rel_update_error_tensor,
         f"{worst_name}: relative error {worst:.3g} > {tolerance.rel_update_error_tensor:g}"),
        (abs(ratio - 1) <= tolerance.norm_ratio, f"update norm ratio {ratio:.4g} outside 1 +- {tolerance.norm_ratio:g}"),
        (max_loss_rel <= tolerance.loss_rel, f"trace loss off by {max_loss_rel:.3g} (relative) > {tolerance.loss_rel:g}"),
    ]  # fmt: skip
    for ok, reason in checks:
        if not ok:
            return Comparison(False, reason, overall, worst_name, worst, ratio, max_loss_rel)
    return Comparison(True, "within tolerance", overall, worst_name, worst, ratio, max_loss_rel)
