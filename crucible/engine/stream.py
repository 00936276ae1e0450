"""Streamed commitments: training states leave the device while training goes on.

A snapshot copies the live training state (weights, AdamW moments, step count) into a host buffer laid out as the
checkpoint file itself (checkpoint.Layout), so nothing is serialised or copied again: a background worker hashes the
buffer (BLAKE3, the checkpoint digest) and, for a boundary, writes it to disk. On CUDA the buffer is pinned memory
and the copy is asynchronous on a side stream, ordered after the step that produced the state; the only thing
training waits for is that copy, and only right before the next optimizer update would overwrite what it reads.
On a CPU the copy is an ordinary synchronous memcpy (the next step updates the state in place) and the hashing and
writing still happen in the background.

Host memory is a small ring of buffers: when the workers fall behind, `snapshot` waits for a free one, so memory
stays bounded at `slots` checkpoints however long the segment.
"""

from __future__ import annotations

import queue
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import torch

from crucible.engine import pinned
from crucible.engine.checkpoint import Layout, checkpoint_digest, checkpoint_layout

class StateStreamer:
    """Snapshots of one set of live state tensors (their storage must not be replaced while streaming)."""

    def __init__(self, tensors: dict[str, torch.Tensor], device: torch.device, *, slots: int = 3, workers: int = 2) -> None:
        self.tensors = tensors
        self.layout: Layout = checkpoint_layout(tensors)
        self.cuda = device.type == "cuda"
        self._buffers = pinned.take(self.layout.size, slots, pinned=self.cuda)
        header = torch.frombuffer(bytearray(self.layout.header), dtype=torch.uint8)
        for buffer in self._buffers:
            buffer[: len(self.layout.header)].copy_(header)
        self._free: queue.Queue[int] = queue.Queue()
        for i in range(slots):
            self._free.put(i)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="commit")
        self._copy_stream = torch.cuda.Stream(device) if self.cuda else None
        self._unfinished_copy: torch.cuda.Event | None = None
        self.snapshots = 0

    @property
    def size(self) -> int:
        return self.layout.size

    def snapshot(self, path: Path | None = None) -> Future[bytes]:
        """The checkpoint digest of the current state (and its file at `path`), computed in the background."""
        slot = self._free.get()  # back-pressure: waits while every buffer is still being hashed or written
        buffer = self._buffers[slot]
        copied: torch.cuda.Event | None = None
        if self._copy_stream is not None:
            produced = torch.cuda.current_stream().record_event()
            with torch.cuda.stream(self._copy_stream):
                self._copy_stream.wait_event(produced)
                self.layout.fill_data(buffer, self.tensors, non_blocking=True)
                copied = self._copy_stream.record_event()
            self._unfinished_copy = copied
        else:
            self.layout.fill_data(buffer, self.tensors)
        self.snapshots += 1
        return self._pool.submit(self._finish, slot, copied, path)

    def before_update(self) -> None:
        """Call before anything overwrites the state in place (the optimizer step): waits for the last copy, on the
        device only (the host keeps queueing work)."""
        if self._unfinished_copy is not None:
            torch.cuda.current_stream().wait_event(self._unfinished_copy)
            self._unfinished_copy = None

    def close(self) -> None:
        """Waits for every snapshot to be hashed and written, then hands the pinned buffers back."""
        self._pool.shutdown(wait=True)
        pinned.give_back(self._buffers)
        self._buffers = []

    def __enter__(self) -> StateStreamer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ internals

    def _finish(self, slot: int, copied: torch.cuda.Event | None, path: Path | None) -> bytes:
        try:
            if copied is not None:
                copied.synchronize()
            view = memoryview(self._buffers[slot].numpy())
            if path is not None:
                tmp = path.with_name(path.name + ".part")
                with open(tmp, "wb") as f:
                    f.write(view)
                tmp.replace(path)  # a crash leaves no half-written checkpoint under the real name
            return checkpoint_digest(view)
        finally:
            self._free.put(slot)
