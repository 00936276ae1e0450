"""Checkpoints as safetensors bytes (never pickle), their digests, and strict validation of untrusted ones.

A checkpoint holds the model's parameters ("model.<name>") and the AdamW state ("opt.exp_avg.<name>",
"opt.exp_avg_sq.<name>", "opt.step"), so training can be replayed from any step. Its bytes are laid out here, not by
whichever safetensors version is installed, so a miner streaming its state straight from the GPU into a file image
and a validator serialising a replayed state produce the same bytes (the layout equals what safetensors 0.8 writes;
a test holds it to that). Checkpoint digests are BLAKE3 of those exact bytes: the chain only needs 32 bytes per leaf,
and BLAKE3 hashes a 2 GB checkpoint on many cores in tens of milliseconds where sha256 takes over a second. Every
other artifact (result weights, traces, datasets, specs) keeps sha256 (`digest`).
"""

from __future__ import annotations

import json
import os
import struct
import warnings
from collections.abc import Iterable
from dataclasses import dataclass

import blake3
import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from crucible.engine import pinned
from crucible.errors import MalformedArtifact

CHECKPOINT_FORMAT = "crucible-checkpoint-v1"
HEADER_LIMIT = 16 << 20  # a header this large is not a checkpoint of any model we run
_DTYPES = {"F32": torch.float32, "F64": torch.float64, "BF16": torch.bfloat16, "F16": torch.float16,
           "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8, "BOOL": torch.bool}  # fmt: skip


def digest(data: bytes | memoryview) -> bytes:
    """sha256: results, traces, datasets, specs."""
    import hashlib

    return hashlib.sha256(data).digest()


# Two cores stay free for the training thread (hashing runs beside it) and the checkpoint writer.
HASH_THREADS = max(1, (os.cpu_count() or 1) - 2)


def checkpoint_digest(data: bytes | memoryview) -> bytes:
    """The one digest of checkpoint bytes (Merkle leaves, per-step state digests in the trace): BLAKE3 on all cores
    but two. The digest does not depend on the thread count."""
    return blake3.blake3(data, max_threads=HASH_THREADS).digest()


def to_bytes(tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> bytes:
    """Canonical safetensors bytes: contiguous CPU tensors, keys sorted (the format sorts them too)."""
    ordered = {k: tensors[k].detach().to("cpu").contiguous() for k in sorted(tensors)}
    return st_save(ordered, metadata=metadata)


# ---------------------------------------------------------------- the checkpoint layout


@dataclass(frozen=True)
class Layout:
    """Where each float32 tensor of a checkpoint lives in its file: header first, then the tensors by name."""

    header: bytes  # 8-byte little-endian length, JSON, space padding to a multiple of 8
    offsets: dict[str, tuple[int, int]]  # name -> (begin, end) in the file
    shapes: dict[str, tuple[int, ...]]

    @property
    def size(self) -> int:
        return len(self.header) + sum(end - begin for begin, end in self.offsets.values())

    @classmethod
    def of(cls, shapes: dict[str, tuple[int, ...]], metadata: dict[str, str] | None = None) -> Layout:
        entries: dict[str, object] = {}
        if metadata:
            entries["__metadata__"] = metadata
        position, relative = 0, {}
        for name in sorted(shapes):
            size = 4 * _numel(shapes[name])
            relative[name] = (position, position + size)
            entries[name] = {"dtype": "F32", "shape": list(shapes[name]), "data_offsets": [position, position + size]}
            position += size
        text = json.dumps(entries, separators=(",", ":")).encode()
        text += b" " * (-len(text) % 8)
        header = struct.pack("<Q", len(text)) + text
        offsets = {name: (len(header) + b, len(header) + e) for name, (b, e) in relative.items()}
        return cls(header, offsets, dict(shapes))

    def fill(self, buffer: torch.Tensor, tensors: dict[str, torch.Tensor], *, non_blocking: bool = False) -> None:
        """Writes the file image into `buffer` (uint8, `size` bytes); from a GPU this is an asynchronous copy."""
        buffer[: len(self.header)].copy_(torch.frombuffer(bytearray(self.header), dtype=torch.uint8))
        self.fill_data(buffer, tensors, non_blocking=non_blocking)

    def fill_data(self, buffer: torch.Tensor, tensors: dict[str, torch.Tensor], *, non_blocking: bool = False) -> None:
        """The tensors only (a streaming buffer keeps its header from one snapshot to the next)."""
        for name, (begin, end) in self.offsets.items():
            target = buffer[begin:end].view(torch.float32).view(self.shapes[name])
            target.copy_(tensors[name].detach(), non_blocking=non_blocking)


def _numel(shape: Iterable[int]) -> int:
    n = 1
    for dim in shape:
        n *= int(dim)
    return n


def checkpoint_layout(tensors: dict[str, torch.Tensor]) -> Layout:
    for name, tensor in tensors.items():
        if tensor.dtype != torch.float32:
            raise ValueError(f"checkpoint tensor {name} is {tensor.dtype}; checkpoints hold float32 only")
    return Layout.of({k: tuple(v.shape) for k, v in tensors.items()}, {"format": CHECKPOINT_FORMAT})


def checkpoint_to_bytes(tensors: dict[str, torch.Tensor]) -> bytes:
    """A training state's checkpoint file, in the layout the streamed commitments write."""
    layout = checkpoint_layout(tensors)
    buffer = torch.empty(layout.size, dtype=torch.uint8)
    layout.fill(buffer, tensors)
    return buffer.numpy().tobytes()


# ---------------------------------------------------------------- untrusted bytes


def from_bytes(
    data: bytes,
    expected: dict[str, tuple[tuple[int, ...], torch.dtype]],
    device: torch.device | None = None,
) -> dict[str, torch.Tensor]:
    """Parses untrusted checkpoint bytes and checks names, shapes, dtypes and finiteness against `expected`.

    With `device` the tensors land there in one host-to-device copy of the data section (views into it), and the
    finiteness check runs there; without it they are CPU tensors the caller owns.
    """
    header, data_start = _parse_header(data)
    missing = sorted(set(expected) - set(header))
    extra = sorted(set(header) - set(expected))
    if missing or extra:
        raise MalformedArtifact(f"checkpoint tensors differ from the model spec: missing {missing[:5]}, extra {extra[:5]}")
    for name, (shape, dtype) in expected.items():
        entry = header[name]
        if tuple(entry["shape"]) != shape:
            raise MalformedArtifact(f"{name}: shape {tuple(entry['shape'])}, the model spec says {shape}")
        if entry["dtype"] != dtype:
            raise MalformedArtifact(f"{name}: dtype {entry['dtype']}, the model spec says {dtype}")
    if device is None or device.type == "cpu":
        tensors = _cpu_tensors(data, header, data_start)
    else:
        tensors = _device_tensors(data, header, data_start, device)
    floats = [name for name in expected if tensors[name].is_floating_point()]
    if floats:
        finite = torch.stack([torch.isfinite(tensors[name]).all() for name in floats]).cpu()  # one sync, not one per tensor
        for name, ok in zip(floats, finite.tolist(), strict=True):
            if not ok:
                raise MalformedArtifact(f"{name}: contains NaN or Inf")
    return tensors


def _parse_header(data: bytes) -> tuple[dict[str, dict[str, object]], int]:
    """The tensor table of a safetensors file, checked the way the format requires (contiguous, in bounds)."""
    invalid = "not a valid safetensors checkpoint"
    if len(data) < 8:
        raise MalformedArtifact(f"{invalid}: {len(data)} bytes, shorter than the header length")
    (length,) = struct.unpack("<Q", bytes(data[:8]))
    if length > HEADER_LIMIT or 8 + length > len(data):
        raise MalformedArtifact(f"{invalid}: header length {length} does not fit the {len(data)}-byte file")
    try:
        raw = json.loads(bytes(data[8 : 8 + length]))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedArtifact(f"{invalid}: header is not JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise MalformedArtifact(f"{invalid}: header is not an object")
    raw.pop("__metadata__", None)
    data_start, data_size = 8 + length, len(data) - 8 - length
    table: dict[str, dict[str, object]] = {}
    for name, info in raw.items():
        try:
            dtype = _DTYPES[info["dtype"]]
            shape = tuple(int(d) for d in info["shape"])
            begin, end = (int(x) for x in info["data_offsets"])
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedArtifact(f"{invalid}: tensor {name!r} has a malformed entry ({exc})") from None
        itemsize = torch.empty((), dtype=dtype).element_size()
        if any(d < 0 for d in shape) or not 0 <= begin <= end <= data_size or end - begin != itemsize * _numel(shape):
            raise MalformedArtifact(f"{invalid}: tensor {name!r} has offsets {begin}..{end} that do not fit its shape")
        table[name] = {"dtype": dtype, "shape": shape, "begin": begin, "end": end}
    covered = 0
    for entry in sorted(table.values(), key=lambda e: (e["begin"], e["end"])):  # type: ignore[arg-type, return-value]
        if entry["begin"] != covered:
            raise MalformedArtifact(f"{invalid}: tensor data overlaps or leaves gaps")
        covered = entry["end"]  # type: ignore[assignment]
    if covered != data_size:
        raise MalformedArtifact(f"{invalid}: {data_size - covered} bytes after the last tensor")
    return table, data_start


def _cpu_tensors(data: bytes, header: dict[str, dict[str, object]], data_start: int) -> dict[str, torch.Tensor]:
    try:
        return st_load(bytes(data))
    except (SafetensorError, ValueError, json.JSONDecodeError, OverflowError) as exc:
        raise MalformedArtifact(f"not a valid safetensors checkpoint: {exc}") from None


def _device_tensors(
    data: bytes, header: dict[str, dict[str, object]], data_start: int, device: torch.device
) -> dict[str, torch.Tensor]:
    """One copy of the whole data section onto the device, then typed views into it (alignment: every tensor of a
    checkpoint is float32, so offsets are multiples of 4; other dtypes are copied to aligned storage). On CUDA the
    bytes go through a pinned buffer: a parallel host copy plus a DMA at full speed beat a pageable transfer."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the bytes are read-only; the view is only ever copied from
        host = torch.frombuffer(data, dtype=torch.uint8)
    if device.type == "cuda":
        (staging,) = pinned.take(len(data), 1)
        try:
            staging.copy_(host)
            on_device = staging[data_start:].to(device, non_blocking=True)
            torch.cuda.current_stream(device).synchronize()  # the staging buffer is reused once handed back
        finally:
            pinned.give_back([staging])
    else:
        on_device = host[data_start:].to(device)
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["begin"], entry["end"]
        dtype: torch.dtype = entry["dtype"]  # type: ignore[assignment]
        raw = on_device[begin:end]  # type: ignore[misc]
        itemsize = torch.empty((), dtype=dtype).element_size()
        if begin % itemsize:  # type: ignore[operator]
            raw = raw.clone()
        tensors[name] = raw.view(dtype).view(entry["shape"])  # type: ignore[arg-type]
    return tensors
