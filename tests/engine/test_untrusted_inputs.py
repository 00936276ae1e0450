"""Untrusted checkpoints are parsed without pickle and checked against the model spec; each defect gets a reason
a validator can put in its verdict."""

from __future__ import annotations

import pytest
import torch

from crucible.engine.aggregate import aggregate, aggregate_digest
from crucible.engine.checkpoint import to_bytes
from crucible.engine.model import GPTConfig
from crucible.engine.segment import Trainer, load_checkpoint
from crucible.engine.segment import SegmentSpec
from crucible.errors import MalformedArtifact

from .conftest import MINER


@pytest.fixture
def good(cfg: GPTConfig, base, datasets, device) -> dict[str, torch.Tensor]:  # type: ignore[no-untyped-def]
    trainer = Trainer(SegmentSpec(1, 0, 0, MINER, "pretrain", cfg), datasets["pretrain"], device)
    trainer.load_model(base)
    trainer.step(0)
    return trainer.state_tensors()


def test_a_valid_checkpoint_loads(good, cfg) -> None:  # type: ignore[no-untyped-def]
    loaded = load_checkpoint(to_bytes(good), cfg)
    assert set(loaded) == set(good)


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda t, b: b[: len(b) // 2], "not a valid safetensors checkpoint"),
        (lambda t, b: b"\x00" * 64, "not a valid safetensors checkpoint"),
        (lambda t, b: to_bytes({**{k: v for k, v in t.items() if k != "model.head.weight"}}), "missing ['model.head.weight']"),
        (lambda t, b: to_bytes({**t, "model.extra": torch.zeros(1)}), "extra ['model.extra']"),
        (lambda t, b: to_bytes({**t, "model.head.weight": torch.zeros(3, 3)}), "model.head.weight: shape (3, 3)"),
        (lambda t, b: to_bytes({**t, "model.head.weight": t["model.head.weight"].double()}), "dtype torch.float64"),
        (lambda t, b: to_bytes({**t, "model.head.weight": torch.full_like(t["model.head.weight"], float("nan"))}), "NaN or Inf"),
        (lambda t, b: to_bytes({**t, "model.wte.weight": torch.full_like(t["model.wte.weight"], float("inf"))}), "NaN or Inf"),
    ],
)
def test_malformed_checkpoints_are_rejected_with_a_reason(good, cfg, mutate, reason) -> None:  # type: ignore[no-untyped-def]
    data = mutate(good, to_bytes(good))
    with pytest.raises(MalformedArtifact) as caught:
        load_checkpoint(data, cfg)
    assert reason in str(caught.value)


def test_aggregation_is_bit_exact_and_independent_of_submission_order(base) -> None:  # type: ignore[no-untyped-def]
    gen = torch.Generator().manual_seed(3)
    results = [(slot, {k: v + 0.01 * torch.randn(v.shape, generator=gen) for k, v in base.items()}) for slot in range(4)]
    first = aggregate(base, results, outer_lr=0.7)
    again = aggregate(base, list(reversed(results)), outer_lr=0.7)
    assert aggregate_digest(first) == aggregate_digest(again)
    expected = base["model.head.weight"] + 0.7 * torch.stack(
        [r["model.head.weight"] - base["model.head.weight"] for _, r in results]).mean(0)  # fmt: skip
    assert torch.allclose(first["model.head.weight"], expected, atol=1e-7)
    assert aggregate_digest(aggregate(base, [])) == aggregate_digest(base)
