"""Checkpoints as safetensors bytes (never pickle), their digests, and strict validation of untrusted ones.

A checkpoint holds the model's parameters ("model.<name>") and the AdamW state ("opt.exp_avg.<name>",
"opt.exp_avg_sq.<name>", "opt.step"), so any interval can be replayed from its start. Its digest is the sha256 of
the exact file bytes, which is what the chain commits (result digest, Merkle leaves).
"""

from __future__ import annotations

import hashlib
import json

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from crucible.errors import MalformedArtifact


def digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def to_bytes(tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> bytes:
    """Canonical safetensors bytes: contiguous CPU tensors, keys sorted (the format sorts them too)."""
    ordered = {k: tensors[k].detach().to("cpu").contiguous() for k in sorted(tensors)}
    return st_save(ordered, metadata=metadata)


def from_bytes(data: bytes, expected: dict[str, tuple[tuple[int, ...], torch.dtype]]) -> dict[str, torch.Tensor]:
    """Parses untrusted checkpoint bytes and checks names, shapes, dtypes and finiteness against `expected`."""
    try:
        tensors = st_load(data)
    except (SafetensorError, ValueError, json.JSONDecodeError, OverflowError) as exc:
        raise MalformedArtifact(f"not a valid safetensors checkpoint: {exc}") from None
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    if missing or extra:
        raise MalformedArtifact(f"checkpoint tensors differ from the model spec: missing {missing[:5]}, extra {extra[:5]}")
    for name, (shape, dtype) in expected.items():
        tensor = tensors[name]
        if tuple(tensor.shape) != shape:
            raise MalformedArtifact(f"{name}: shape {tuple(tensor.shape)}, the model spec says {shape}")
        if tensor.dtype != dtype:
            raise MalformedArtifact(f"{name}: dtype {tensor.dtype}, the model spec says {dtype}")
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise MalformedArtifact(f"{name}: contains NaN or Inf")
    return tensors
