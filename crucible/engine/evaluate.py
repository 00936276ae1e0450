"""Held-out loss of a set of weights: how the demo and the benchmark show that the network's model improves."""

from __future__ import annotations

import torch

from crucible.engine.architecture import ModelConfig, empty_job_model
from crucible.engine.data import make_dataset
from crucible.engine.tasks import pretrain_loss, sft_loss

HELD_OUT_SEED = 424_242  # never a job seed of the demo: these examples are not trained on


def eval_loss(kind: str, cfg: ModelConfig, weights: dict[str, torch.Tensor], examples: int = 128) -> float:
    """Mean loss on held-out examples of the job's kind (pretrain: next-token; sft: response tokens)."""
    loss_fn = {"pretrain": pretrain_loss, "sft": sft_loss}.get(kind)
    if loss_fn is None:
        raise ValueError(f"no held-out loss for job kind {kind!r}")
    model = empty_job_model(cfg, torch.device("cpu"))  # every weight is loaded next
    model.load_state_dict({k.removeprefix("model."): v.to(torch.float32) for k, v in weights.items()})
    model.eval()
    batch = make_dataset(kind, examples, cfg.block_size, seed=HELD_OUT_SEED)
    with torch.no_grad():
        return float(loss_fn(model, batch))


def heldout_loss(
    kind: str, cfg: ModelConfig, weights: dict[str, torch.Tensor], heldout: dict[str, torch.Tensor]
) -> float | None:
    """Mean loss on a sponsor's held-out split (`crucible data add`): next-token loss for pretrain, response loss for
    sft, and for dpo the response loss of the chosen answers (how likely the model makes what people preferred).
    None for grpo: its measure is the reward, not a loss."""
    if kind == "grpo":
        return None
    model = empty_job_model(cfg, torch.device("cpu"))  # every weight is loaded next
    model.load_state_dict({k.removeprefix("model."): v.to(torch.float32) for k, v in weights.items()})
    model.eval()
    if kind == "dpo":
        heldout = {"tokens": heldout["chosen"], "loss_mask": heldout["chosen_mask"]}
        kind = "sft"
    loss_fn = pretrain_loss if kind == "pretrain" else sft_loss
    with torch.no_grad():
        return float(loss_fn(model, heldout))
