"""Device choice and deterministic settings, recorded in every manifest so a validator knows what it compares."""

from __future__ import annotations

import os
import platform
from dataclasses import asdict, dataclass

import torch

PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16}


@dataclass(frozen=True)
class Fingerprint:
    """The software and device a run used; part of the manifest."""

    torch_version: str
    device_class: str  # "cpu" or "cuda:<name>"
    precision: str
    deterministic: bool
    threads: int
    python: str
    cublas_workspace: str | None

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def pick_device(prefer: str | None = None) -> torch.device:
    """CUDA when present (or asked for), else CPU."""
    if prefer:
        return torch.device(prefer)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def configure(device: torch.device, precision: str = "fp32", threads: int | None = None) -> Fingerprint:
    """Deterministic kernels everywhere; on CUDA also the cuBLAS workspace setting they need."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; use one of {sorted(PRECISIONS)}")
    if device.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    torch.use_deterministic_algorithms(True, warn_only=False)
    if threads:
        torch.set_num_threads(threads)
    return fingerprint(device, precision)


def fingerprint(device: torch.device, precision: str) -> Fingerprint:
    device_class = "cpu" if device.type == "cpu" else f"cuda:{torch.cuda.get_device_name(device)}"
    return Fingerprint(
        torch_version=torch.__version__,
        device_class=device_class,
        precision=precision,
        deterministic=torch.are_deterministic_algorithms_enabled(),
        threads=torch.get_num_threads(),
        python=platform.python_version(),
        cublas_workspace=os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
    )
