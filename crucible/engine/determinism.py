"""Device choice, deterministic settings, and device classes: what determines the bits of a training step.

A device class names everything that decides the exact result of a step and nothing that does not: the platform and
its architecture (CUDA compute capability and multiprocessor count, which steer cuBLAS's kernel choice; for CPUs the
instruction set and the thread count, which splits the sums), the torch and CUDA versions, the deterministic flag,
and the engine's choices: declared precision, attention kernel, optimizer implementation. It deliberately leaves out
the product name: an H100 SXM and an H200 (both sm_90 with 132 multiprocessors) are one class, and gave identical
checkpoints. Within a class a replay must be bit-identical; across classes only short windows are compared, within
a calibrated tolerance.

`DeviceClass.class_id` is a stable 32-bit identifier of a class (the first four bytes of sha256 of its canonical
description) for the chain: validators declare the ids of the classes they can replay in (`declared_classes`), and
audits prefer validators whose ids include the miner's (the manifest's fingerprint carries it).
"""

from __future__ import annotations

import hashlib
import os
import platform
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from typing import Any

import torch
from torch.nn import functional as F
from torch.nn.attention import sdpa_kernel

from crucible.engine.model import ATTENTION_KERNELS

PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16}
OPTIMIZERS = ("fused", "for-loop")


@dataclass(frozen=True)
class DeviceClass:
    platform: str  # "cuda" or "cpu"
    arch: str  # "sm_90/132sm" or "x86_64/AVX512"
    torch_version: str
    cuda_version: str  # "-" on CPU
    deterministic: bool
    precision: str
    attention: str
    optimizer: str
    threads: int  # CPU intra-op threads; 0 on CUDA (they do not touch the bits there)

    def describe(self) -> str:
        """Canonical description; its hash is the class id, so the field order and spelling are fixed."""
        return (f"{self.platform} {self.arch} torch={self.torch_version} cuda={self.cuda_version} "
                f"deterministic={int(self.deterministic)} precision={self.precision} attention={self.attention} "
                f"optimizer={self.optimizer} threads={self.threads}")  # fmt: skip

    @property
    def class_id(self) -> int:
        return int.from_bytes(hashlib.sha256(self.describe().encode()).digest()[:4], "big")

    def same_machine_kind(self, other: DeviceClass) -> bool:
        """Same hardware and software: the engine settings can then be matched to replay bit for bit."""
        return (self.platform, self.arch, self.torch_version, self.cuda_version) == (
            other.platform, other.arch, other.torch_version, other.cuda_version)  # fmt: skip

    @classmethod
    def parse(cls, text: str) -> DeviceClass:
        """Inverse of `describe` (for a miner's declared class, which is untrusted: ValueError if malformed)."""
        parts = text.split(" ")
        if len(parts) != 9:
            raise ValueError(f"not a device class description: {text[:200]!r}")
        fields = dict(p.split("=", 1) for p in parts[2:] if "=" in p)
        try:
            return cls(platform=parts[0], arch=parts[1], torch_version=fields["torch"], cuda_version=fields["cuda"],
                       deterministic=fields["deterministic"] == "1", precision=fields["precision"],
                       attention=fields["attention"], optimizer=fields["optimizer"],
                       threads=int(fields["threads"]))  # fmt: skip
        except (KeyError, ValueError) as exc:
            raise ValueError(f"not a device class description: {text[:200]!r} ({exc})") from None


@dataclass(frozen=True)
class Fingerprint:
    """The software and device a run used; part of the manifest."""

    torch_version: str
    device_class: str  # DeviceClass.describe()
    precision: str
    deterministic: bool
    threads: int
    python: str
    cublas_workspace: str | None
    attention: str = "explicit"
    optimizer: str = "for-loop"
    class_id: int = 0
    device_name: str = ""  # the product, for people; not part of the class

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def pick_device(prefer: str | None = None) -> torch.device:
    """CUDA when present (or asked for), else CPU."""
    if prefer:
        return torch.device(prefer)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def configure(
    device: torch.device, precision: str = "fp32", threads: int | None = None, attention: str | None = None
) -> Fingerprint:
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
    return fingerprint(device, precision, attention)


def default_attention(device: torch.device, precision: str = "fp32") -> str:
    """The fastest deterministic kernel measured here: on CUDA flash attention in bf16 (0.86x the plain
    non-deterministic loop on an H100 at 163M parameters, memory-efficient 0.78x), memory-efficient in fp32 (flash
    takes half precision only); on a CPU explicit attention, the arithmetic every earlier CPU calibration used."""
    if device.type != "cuda":
        return "explicit"
    if precision == "bf16" and _kernel_runs("flash", device, precision):
        return "flash"
    return "efficient"


def default_optimizer(device: torch.device) -> str:
    """Fused AdamW where this torch has it for the device (CUDA, and CPU since torch 2.4): one kernel per step."""
    return "fused" if device.type in ("cuda", "cpu") else "for-loop"


def check_attention(kernel: str, device: torch.device, precision: str) -> None:
    """Raises ValueError naming the kernels that do run here when `kernel` does not (e.g. flash in fp32 on CUDA)."""
    if kernel not in ATTENTION_KERNELS:
        raise ValueError(f"unknown attention kernel {kernel!r}; use one of {sorted(ATTENTION_KERNELS)}")
    if not _kernel_runs(kernel, device, precision):
        usable = [k for k in ATTENTION_KERNELS if _kernel_runs(k, device, precision)]
        raise ValueError(f"attention kernel {kernel!r} does not run on {device.type} in {precision}; use one of {usable}")


_KERNEL_PROBES: dict[tuple[str, str, str], bool] = {}


def _kernel_runs(kernel: str, device: torch.device, precision: str) -> bool:
    key = (kernel, str(device), precision)
    if key not in _KERNEL_PROBES:
        backend = ATTENTION_KERNELS[kernel]
        if backend is None:
            _KERNEL_PROBES[key] = True
        else:
            # Not torch.randn: a probe must not move the global random state.
            q = torch.linspace(-1, 1, 256, device=device).view(1, 2, 8, 16).requires_grad_(True)
            dtype = PRECISIONS[precision]
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # torch explains at length why a kernel does not run; we ask
                    with torch.autocast(device.type, dtype=dtype, enabled=dtype != torch.float32), sdpa_kernel(backend):
                        x = q.to(dtype) if device.type == "cuda" else q
                        F.scaled_dot_product_attention(x, x, x, is_causal=True).float().sum().backward()
                _KERNEL_PROBES[key] = True
            except RuntimeError:
                _KERNEL_PROBES[key] = False
    return _KERNEL_PROBES[key]


def device_class(
    device: torch.device, precision: str, attention: str | None = None, optimizer: str | None = None
) -> DeviceClass:
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        arch = f"sm_{props.major}{props.minor}/{props.multi_processor_count}sm"
        cuda, threads = str(torch.version.cuda), 0
    else:
        arch = f"{platform.machine()}/{torch.backends.cpu.get_cpu_capability()}"
        cuda, threads = "-", torch.get_num_threads()
    return DeviceClass(
        platform=device.type,
        arch=arch,
        torch_version=torch.__version__,
        cuda_version=cuda,
        deterministic=torch.are_deterministic_algorithms_enabled(),
        precision=precision,
        attention=attention or default_attention(device, precision),
        optimizer=optimizer or default_optimizer(device),
        threads=threads,
    )


def fingerprint(device: torch.device, precision: str, attention: str | None = None) -> Fingerprint:
    cls = device_class(device, precision, attention)
    return Fingerprint(
        torch_version=torch.__version__,
        device_class=cls.describe(),
        precision=precision,
        deterministic=cls.deterministic,
        threads=torch.get_num_threads(),
        python=platform.python_version(),
        cublas_workspace=os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
        attention=cls.attention,
        optimizer=cls.optimizer,
        class_id=cls.class_id,
        device_name=torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
    )


def declared_classes(device: torch.device, max_threads: int = 16) -> list[DeviceClass]:
    """Every class this machine can replay in, bit for bit (what a validator declares on registration): each
    precision and runnable attention kernel, each optimizer, and on a CPU each thread count up to `max_threads`."""
    out = []
    thread_counts = [0] if device.type == "cuda" else list(range(1, max_threads + 1))
    for precision in PRECISIONS:
        for kernel in ATTENTION_KERNELS:
            if not _kernel_runs(kernel, device, precision):
                continue
            for optimizer in OPTIMIZERS:
                base = device_class(device, precision, kernel, optimizer)
                out.extend(replace(base, threads=t) for t in thread_counts)
    return out


@dataclass(frozen=True)
class ReplayPlan:
    """How a validator replays a miner's work: in the miner's class (bitwise) when it can, else in its own."""

    replay_class: DeviceClass
    bitwise: bool
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"replay_class": self.replay_class.describe(), "class_id": self.replay_class.class_id,
                "bitwise": self.bitwise, "reason": self.reason}  # fmt: skip


def replay_plan(claimed: dict[str, Any], device: torch.device, precision: str) -> ReplayPlan:
    """Matches the miner's declared class (its manifest fingerprint) where this machine is the same kind.

    The declared class is untrusted: a malformed one, or one of another precision than the job's, simply means no
    bitwise replay (the window is then compared within tolerance).
    """
    own = device_class(device, precision)
    try:
        miner = DeviceClass.parse(str(claimed.get("device_class", "")))
    except ValueError:
        return ReplayPlan(own, False, "the miner's declared device class is not a class description")
    if miner.precision != precision:
        return ReplayPlan(own, False, f"the miner declared precision {miner.precision}, the job says {precision}")
    if not miner.same_machine_kind(own):
        return ReplayPlan(own, False, f"validator class {own.describe()} differs from the miner's {miner.describe()}")
    if miner.attention not in ATTENTION_KERNELS or not _kernel_runs(miner.attention, device, precision):
        return ReplayPlan(own, False, f"attention kernel {miner.attention!r} does not run here")
    if miner.optimizer not in OPTIMIZERS or not miner.deterministic or not own.deterministic:
        return ReplayPlan(own, False, "the miner's run was not deterministic with a known optimizer")
    if miner.platform == "cpu" and not 1 <= miner.threads <= 4 * (os.cpu_count() or 1):
        return ReplayPlan(own, False, f"the miner's {miner.threads} CPU threads are not a count this machine runs")
    matched = replace(own, attention=miner.attention, optimizer=miner.optimizer, threads=miner.threads)
    return ReplayPlan(matched, matched == miner, "same device class: bitwise")


@contextmanager
def replaying_in(cls: DeviceClass) -> Iterator[None]:
    """Runs a replay in `cls`'s thread count on a CPU (it splits the sums, so it decides the bits), then restores."""
    previous = torch.get_num_threads()
    if cls.platform == "cpu" and cls.threads and cls.threads != previous:
        torch.set_num_threads(cls.threads)
    try:
        yield
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)
