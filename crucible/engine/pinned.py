"""A pool of pinned (page-locked) host buffers, by size: pinning gigabytes takes a while, so checkpoint-sized
buffers are pinned once and reused by the streamer (device to host) and the checkpoint loader (host to device)."""

from __future__ import annotations

import threading

import torch

_POOL: dict[int, list[torch.Tensor]] = {}
_LOCK = threading.Lock()


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
    pinned = [b for b in buffers if b.is_pinned()]
    if pinned:
        with _LOCK:
            for buffer in pinned:
                _POOL.setdefault(buffer.numel(), []).append(buffer)
