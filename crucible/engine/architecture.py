"""Which model a job trains, in one place: one of the built-in GPT presets (crucible.engine.model) or a standard
Hugging Face architecture by config (crucible.engine.hf).

The trainer, replay, checkpoint specs, aggregation and evaluation build, skeleton and parse a job's model only
through these functions, so an HF model is trained, committed, replayed and aggregated exactly like the built-in
GPT: the same step code, the same float32 checkpoints named "model.<parameter>", the same digests. A spec's model
entry tells the two apart by its "arch" field, which the built-in GPT's entry never has (so the digests of existing
GPT specs do not change).
"""

from __future__ import annotations

from typing import Any

import torch

from crucible.engine import hf
from crucible.engine.hf import HFCausalLM, HFModelSpec
from crucible.engine.model import GPT, PRESETS, GPTConfig
from crucible.engine.model import build_model as build_gpt
from crucible.engine.model import empty_model as empty_gpt
from crucible.errors import ConfigError

ModelConfig = GPTConfig | HFModelSpec
JobModel = GPT | HFCausalLM
MODEL_PRESETS = [*PRESETS, *hf.PRESETS]  # what `--model` takes


def resolve_model(model: str | ModelConfig) -> ModelConfig:
    """A preset name (built-in or "hf-…") or a config, as a config; ConfigError naming the presets otherwise."""
    if not isinstance(model, str):
        return model
    if model in PRESETS:
        return PRESETS[model]
    if model in hf.PRESETS:
        return hf.PRESETS[model]
    raise ConfigError(f"unknown model preset {model!r}; use one of {', '.join(MODEL_PRESETS)}")


def model_label(model: str | ModelConfig) -> str:
    """The model's name in a tolerance profile: a built-in preset's name, or "hf-<arch>" for a Hugging Face model
    (preset or config file: a file has no name, and the architecture's code is what decides the arithmetic)."""
    if isinstance(model, str):
        return hf.PRESETS[model].label() if model in hf.PRESETS else model
    if isinstance(model, HFModelSpec):
        return model.label()
    return next((name for name, cfg in PRESETS.items() if cfg == model), "custom")


def build_job_model(cfg: ModelConfig, seed: int, device: torch.device, dtype: torch.dtype = torch.float32) -> JobModel:
    """A freshly initialised model of the job; the same seed gives the same weights on every machine."""
    if isinstance(cfg, HFModelSpec):
        return hf.build_model(cfg, seed, device, dtype)
    return build_gpt(cfg, seed, device, dtype)


def empty_job_model(cfg: ModelConfig, device: torch.device) -> JobModel:
    """A model whose weights are loaded right after, allocated straight on `device`."""
    if isinstance(cfg, HFModelSpec):
        return hf.empty_model(cfg, device)
    return empty_gpt(cfg, device)


def model_skeleton(cfg: ModelConfig) -> JobModel:
    """The model on the meta device: parameter names and shapes, no memory."""
    if isinstance(cfg, HFModelSpec):
        return hf.skeleton(cfg)
    with torch.device("meta"):
        return GPT(cfg)


def initial_weights(cfg: ModelConfig, seed: int) -> dict[str, torch.Tensor]:
    """Round-0 weights from the job seed, as checkpoint tensors ("model.<name>", CPU)."""
    model = build_job_model(cfg, seed, torch.device("cpu"))
    return {f"model.{n}": p.detach() for n, p in model.named_parameters()}


def model_config_from_json(data: Any) -> ModelConfig:
    """A spec's model entry (untrusted): TypeError/KeyError if it is neither form, ModelConfigError (a ValueError)
    naming the field if an HF entry's values are out of bounds."""
    if not isinstance(data, dict):
        raise TypeError(f"a model entry is a JSON object, got {type(data).__name__}")
    if "arch" in data:
        return HFModelSpec.from_json(data)
    return GPTConfig(**data)
