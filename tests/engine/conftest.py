"""Engine fixtures: a tiny model, generated datasets, deterministic CPU settings."""

from __future__ import annotations

import pytest
import torch

from crucible.engine.data import make_dataset
from crucible.engine.determinism import configure
from crucible.engine.model import PRESETS, GPTConfig, build_model

KINDS = ("pretrain", "sft", "dpo", "grpo")
MINER = "0x" + "11" * 20


@pytest.fixture(scope="session")
def device() -> torch.device:
    cpu = torch.device("cpu")
    configure(cpu, "fp32")
    return cpu


@pytest.fixture(scope="session")
def cfg() -> GPTConfig:
    return PRESETS["tiny"]


@pytest.fixture(scope="session")
def base(cfg: GPTConfig, device: torch.device) -> dict[str, torch.Tensor]:
    return {f"model.{n}": p.detach() for n, p in build_model(cfg, 1, device).named_parameters()}


@pytest.fixture(scope="session")
def datasets(cfg: GPTConfig) -> dict[str, dict[str, torch.Tensor]]:
    return {kind: make_dataset(kind, 256, cfg.block_size, seed=7) for kind in KINDS}
