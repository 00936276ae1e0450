"""A pool of pinned (page-locked) host buffers, by size: pinning gigabytes takes a while, so checkpoint-sized
buffers are pinned once and reused by the streamer (device to host) and the checkpoint loader (host to device)."""

from __future__ import annotations

import threading

import torch

_POOL: dict[int, list[torch.Tensor]] = {}
_LOCK = threading.Lock()
MAX_SIZES, MAX_PER_SIZE = 4, 4  # untrusted files of odd sizes must not pile up page-locked memory


def take(size: int, count: int, *, pinned: bool = True) -> list[torch.Tensor]:
    """`count` uint8 host buffers of `size` bytes (pinned when asked and CUDA is there); give them back when done."""
    if not pinned or not torch.cuda.is_available():
        return [torch.empty(size, dtype=torch.uint8) for _ in range(count)]
    with _LOCK:
        pool = _POOL.setdefault(size, [])
        taken, _POOL[size] = pool[:count], pool[count:]
    while len(taken) < count:
        taken.append(torch.empty(size, dtype=torch.uint8, pin_memory=True))
    return taken


def give_back(buffers: list[torch.Tensor]) -> None:
    """Keeps pinned buffers for reuse, up to MAX_PER_SIZE of MAX_SIZES sizes; the rest are freed."""
    pinned = [b for b in buffers if b.is_pinned()]
    if pinned:
        with _LOCK:
            for buffer in pinned:
                size = buffer.numel()
                if size not in _POOL and len(_POOL) >= MAX_SIZES:
                    continue
                pool = _POOL.setdefault(size, [])
                if len(pool) < MAX_PER_SIZE:
                    pool.append(buffer)
