"""Engine performance: what verifiability costs.

  1. training throughput with every commitment (checkpoint every c steps, serialised, hashed and written; per-step
     trace with batch digests) against a plain PyTorch loop on the same model, data and device;
  2. replaying an interval against the original steps it re-executes;
  3. checkpoint hashing throughput (sha256, GB/s);
  4. Kubo add + fetch of a 100 MB checkpoint-sized blob on loopback (MB/s).

    python scripts/bench_engine.py [--model small] [--device cpu] [--markdown docs/bench/engine.md]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch
from torch.nn.utils import clip_grad_norm_

from crucible.engine import tasks
from crucible.engine.compare import Tolerance
from crucible.engine.data import BatchKey, batch_indices, make_dataset, select
from crucible.engine.determinism import configure
from crucible.engine.model import PRESETS, build_model
from crucible.engine.replay import replay_interval
from crucible.engine.segment import SegmentSpec, run_segment


def plain_loop(spec: SegmentSpec, base: dict[str, torch.Tensor], dataset: dict[str, torch.Tensor], device: torch.device) -> float:
    """The same steps as a segment, without checkpoints, hashing or trace: the baseline."""
    model = build_model(spec.model, 0, device)
    model.load_state_dict({k.removeprefix("model."): v for k, v in base.items()})
    opt = torch.optim.AdamW(model.parameters(), lr=spec.lr, betas=(0.9, 0.95), weight_decay=0.0, foreach=False)
    n = next(iter(dataset.values())).shape[0]
    started = time.perf_counter()
    for step in range(spec.intervals * spec.steps_per_interval):
        batch = select(dataset, batch_indices(BatchKey(spec.job_seed, spec.round, spec.slot, step), spec.batch_size, n))
        loss = tasks.pretrain_loss(model, {k: v.to(device) for k, v in batch.items()})
        opt.zero_grad(set_to_none=True)
        loss.backward()
        clip_grad_norm_(model.parameters(), spec.grad_clip)
        opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="small")
    parser.add_argument("--device", default=None)
    parser.add_argument("--steps-per-interval", type=int, default=8)
    parser.add_argument("--intervals", type=int, default=4)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--kubo-mb", type=int, default=100)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    fp = configure(device, "fp32")
    cfg = PRESETS[args.model]
    dataset = make_dataset("pretrain", 2048, cfg.block_size, seed=1)
    base = {f"model.{n}": p.detach() for n, p in build_model(cfg, 1, device).named_parameters()}
    spec = SegmentSpec(1, 0, 0, "0x" + "44" * 20, "pretrain", cfg, steps_per_interval=args.steps_per_interval,
                       intervals=args.intervals, batch_size=args.batch)  # fmt: skip
    steps = spec.intervals * spec.steps_per_interval
    params = sum(v.numel() for v in base.values())
    plain_loop(spec, base, dataset, device)  # warm-up
    plain, committed, replays = [], [], []
    for _ in range(args.repeats):
        plain.append(plain_loop(spec, base, dataset, device))
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            run = run_segment(spec, base, dataset, Path(tmp), device)
            committed.append(time.perf_counter() - started)
            started = time.perf_counter()
            replay_interval(spec, 1, run.checkpoint_paths[1].read_bytes(), run.checkpoint_paths[2].read_bytes(),
                            run.traces[2], dataset, device, Tolerance(), bitwise=True)  # fmt: skip
            replays.append(time.perf_counter() - started)
    t_plain, t_committed, t_replay = statistics.median(plain), statistics.median(committed), statistics.median(replays)
    per_step_committed = t_committed / steps
    overhead = (t_committed - t_plain) / t_plain

    blob = os.urandom(256 << 20)
    started = time.perf_counter()
    hashlib.sha256(blob).digest()
    hash_gbps = len(blob) / (time.perf_counter() - started) / 1e9

    kubo_line = "Kubo: skipped (no Kubo binary)"
    try:
        from crucible.artifacts.store import ArtifactStore
        from crucible.localnet.kubo import KuboNode

        payload = os.urandom(args.kubo_mb << 20)
        with KuboNode.start() as node:
            store = ArtifactStore(node.api_multiaddr, timeout=120)
            started = time.perf_counter()
            cid = store.add(payload)
            t_add = time.perf_counter() - started
            started = time.perf_counter()
            store.fetch(cid, max_bytes=len(payload), sha256_digest=hashlib.sha256(payload).digest())
            t_fetch = time.perf_counter() - started
        mb = len(payload) / 1e6
        kubo_line = f"Kubo {args.kubo_mb} MB on loopback: add {mb / t_add:.0f} MB/s, fetch + sha256 check {mb / t_fetch:.0f} MB/s"
    except Exception as exc:  # noqa: BLE001 - a benchmark reports what it could not measure
        kubo_line = f"Kubo: not measured ({exc})"

    lines = [
        f"Device: {fp.device_class}, torch {fp.torch_version}, {fp.threads} threads, deterministic={fp.deterministic}.",
        f"Model `{args.model}`: {params:,} parameters; {steps} steps, checkpoint every {spec.steps_per_interval}, "
        f"batch {spec.batch_size} x {cfg.block_size} tokens; median of {args.repeats}.",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| plain PyTorch loop | {t_plain:.3f} s ({steps / t_plain:.1f} steps/s) | |",
        f"| with all commitments | {t_committed:.3f} s ({steps / t_committed:.1f} steps/s) | |",
        f"| commitment overhead | {100 * overhead:.1f}% | <= 5% {'met' if overhead <= 0.05 else 'MISSED'} |",
        f"| replay of one interval ({spec.steps_per_interval} steps) vs. the same steps in the segment | "
        f"{t_replay / (per_step_committed * spec.steps_per_interval):.2f}x | <= 1.1x "
        f"{'met' if t_replay <= 1.1 * per_step_committed * spec.steps_per_interval else 'MISSED'} |",
        f"| checkpoint hashing (sha256, 256 MB) | {hash_gbps:.2f} GB/s | >= 1 GB/s {'met' if hash_gbps >= 1 else 'MISSED'} |",
        f"| {kubo_line} | | |",
    ]
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(text + "\n")


if __name__ == "__main__":
    main()
