"""Round aggregation: B_{r+1} = B_r + outer_lr * mean(accepted deltas), in float32, in slot order.

Anyone can recompute it bit for bit: the accepted results and the base are public, the order is fixed and the
arithmetic runs on the CPU in float32 (no parallel reductions whose order could vary).
"""

from __future__ import annotations

import torch

from crucible.engine.checkpoint import digest, to_bytes


def aggregate(
    base: dict[str, torch.Tensor], results: list[tuple[int, dict[str, torch.Tensor]]], outer_lr: float = 1.0
) -> dict[str, torch.Tensor]:
    """`results` are (slot, weights) of the accepted submissions; rejected ones have dropped out already."""
    if not results:
        return {k: v.clone() for k, v in base.items()}  # nobody was accepted: the round keeps its base
    ordered = [weights for _, weights in sorted(results, key=lambda item: item[0])]
    out = {}
    with torch.no_grad():
        for name, b in base.items():
            b32 = b.detach().to("cpu", torch.float32)
            acc = torch.zeros_like(b32)
            for weights in ordered:
                acc += weights[name].detach().to("cpu", torch.float32) - b32
            out[name] = b32 + torch.tensor(outer_lr, dtype=torch.float32) * (acc / len(ordered))
    return out


def aggregate_digest(weights: dict[str, torch.Tensor]) -> bytes:
    return digest(to_bytes(weights, metadata={"format": "crucible-weights-v1"}))
