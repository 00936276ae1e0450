"""Engine performance: what verifiability costs, against a plain bf16 PyTorch loop of the same shape.

  1. the plain loop (what one would write without verification): bf16 autocast, PyTorch's own attention choice,
     fused AdamW, non-deterministic kernels allowed; tokens/s;
  2. engine steps alone, deterministic, for each (attention kernel, optimizer) setting, two runs each: tokens/s and
     whether the two runs ended bit-identical;
  3. the engine segment with every commitment (each step's state streamed off the device and hashed into the trace,
     a checkpoint file every c steps, Merkle leaves, result): its overhead over the same steps alone;
  4. replaying an audit window of w steps from served checkpoint bytes (parsed onto the device, compared there),
     within tolerance and bitwise, against the same w steps in the engine;
  5. what a checkpoint's trip costs: device-to-host into pinned memory, sha256 on one thread, BLAKE3 on all cores;
  6. Kubo add + fetch of a 100 MB checkpoint-sized blob on loopback (where a Kubo binary exists).

    python scripts/bench_engine.py [--model small] [--device cpu] [--markdown docs/bench/engine.md] [--json out.json]
    python scripts/bench_engine.py --model gpu-125m --device cuda --batch 16   # on a GPU
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from torch.nn.utils import clip_grad_norm_

from crucible.engine import tasks
from crucible.engine.checkpoint import checkpoint_digest
from crucible.engine.compare import Tolerance
from crucible.engine.data import BatchKey, batch_indices, make_dataset, select
from crucible.engine.determinism import configure, default_attention, default_optimizer, device_class
from crucible.engine.model import PRESETS, build_model
from crucible.engine.segment import WINDOW_STEPS, SegmentSpec, Trainer, run_segment, settle
from crucible.engine.window import replay_window, serve_states


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def plain_loop(spec: SegmentSpec, base: dict[str, torch.Tensor], dataset: dict[str, torch.Tensor],
               device: torch.device, steps: int, warmup: int) -> float:
    """Seconds for `steps` plain steps: the same model, data, loss, clipping and AdamW, no verification at all."""
    torch.use_deterministic_algorithms(False)
    model = build_model(spec.model, 0, device).set_attention("auto" if device.type == "cuda" else "explicit")
    model.load_state_dict({k.removeprefix("model."): v for k, v in base.items()})
    opt = torch.optim.AdamW(model.parameters(), lr=spec.lr, betas=(0.9, 0.95), weight_decay=0.0,
                            fused=device.type in ("cuda", "cpu"))  # fmt: skip
    n = next(iter(dataset.values())).shape[0]
    amp = spec.precision == "bf16"
    started = 0.0
    for step in range(warmup + steps):
        if step == warmup:
            sync(device)
            started = time.perf_counter()
        batch = select(dataset, batch_indices(BatchKey(spec.job_seed, spec.round, spec.slot, step), spec.batch_size, n))
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            loss = tasks.pretrain_loss(model, {k: v.to(device, non_blocking=True) for k, v in batch.items()})
        opt.zero_grad(set_to_none=True)
        loss.backward()
        clip_grad_norm_(model.parameters(), spec.grad_clip)
        opt.step()
    sync(device)
    elapsed = time.perf_counter() - started
    torch.use_deterministic_algorithms(True)
    return elapsed


def engine_steps(spec: SegmentSpec, base: dict[str, torch.Tensor], dataset: dict[str, torch.Tensor],
                 device: torch.device, steps: int, warmup: int, attention: str, optimizer: str) -> tuple[float, bytes]:
    """Seconds for `steps` engine steps (deterministic, no commitments) after `warmup`, and the end state's digest."""
    trainer = Trainer(spec, dataset, device, attention=attention, optimizer=optimizer)
    trainer.load_model(base)
    records = []
    started = 0.0
    for step in range(warmup + steps):
        if step == warmup:
            sync(device)
            started = time.perf_counter()
        records.append(trainer.step(step, sync=False))
    sync(device)
    elapsed = time.perf_counter() - started
    settle(records)
    return elapsed, checkpoint_digest(trainer.checkpoint_bytes())


def measure_d2h(device: torch.device, nbytes: int) -> float:
    if device.type != "cuda":
        return float("nan")
    src = torch.empty(nbytes, dtype=torch.uint8, device=device)
    dst = torch.empty(nbytes, dtype=torch.uint8, pin_memory=True)
    dst.copy_(src, non_blocking=True)
    sync(device)
    started = time.perf_counter()
    for _ in range(3):
        dst.copy_(src, non_blocking=True)
    sync(device)
    return 3 * nbytes / (time.perf_counter() - started) / 1e9


def measure_hashes(nbytes: int) -> tuple[float, float]:
    blob = os.urandom(nbytes)
    started = time.perf_counter()
    hashlib.sha256(blob).digest()
    sha = nbytes / (time.perf_counter() - started) / 1e9
    checkpoint_digest(blob[: 1 << 20])  # thread pool warm-up
    started = time.perf_counter()
    checkpoint_digest(blob)
    b3 = nbytes / (time.perf_counter() - started) / 1e9
    return sha, b3


def measure_kubo(megabytes: int) -> str:
    try:
        from crucible.artifacts.store import ArtifactStore
        from crucible.localnet.kubo import KuboNode

        payload = os.urandom(megabytes << 20)
        with KuboNode.start() as node:
            store = ArtifactStore(node.api_multiaddr, timeout=120)
            started = time.perf_counter()
            cid = store.add(payload)
            t_add = time.perf_counter() - started
            started = time.perf_counter()
            store.fetch(cid, max_bytes=len(payload), sha256_digest=hashlib.sha256(payload).digest())
            t_fetch = time.perf_counter() - started
        mb = len(payload) / 1e6
        return f"add {mb / t_add:.0f} MB/s, fetch + sha256 check {mb / t_fetch:.0f} MB/s"
    except Exception as exc:  # noqa: BLE001 - a benchmark reports what it could not measure
        return f"not measured ({type(exc).__name__}: {str(exc)[:80]})"


def variants(device: torch.device, precision: str) -> list[tuple[str, str, str]]:
    """(precision, attention, optimizer) settings to time; the engine's default for `precision` comes last."""
    if device.type == "cuda":
        options = [("bf16", "explicit", "for-loop"), ("bf16", "math", "fused"), ("bf16", "efficient", "fused"),
                   ("fp32", "efficient", "fused"), ("bf16", "flash", "fused")]  # fmt: skip
    else:
        options = [("fp32", "explicit", "for-loop"), ("fp32", "math", "fused"), ("fp32", "flash", "fused"),
                   ("fp32", "explicit", "fused")]  # fmt: skip
    default = (precision, default_attention(device, precision), default_optimizer(device))
    return [v for v in options if v != default] + [default]


def main() -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: sys.exit(128 + signum))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="small", choices=sorted(PRESETS))
    parser.add_argument("--device", default=None)
    parser.add_argument("--steps-per-interval", type=int, default=4, help="c, the job specs' default checkpoint interval")
    parser.add_argument("--intervals", type=int, default=8)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--keep-every", type=int, default=1,
                        help="keep the checkpoint file of every n-th boundary (the others are recomputed on demand)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--variant-steps", type=int, default=16)
    parser.add_argument("--only-default", action="store_true", help="time the engine's default setting only")
    parser.add_argument("--kubo-mb", type=int, default=100)
    parser.add_argument("--markdown", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device here")
    cfg = PRESETS[args.model]
    dataset = make_dataset("pretrain", 1024, cfg.block_size, seed=1)
    base = {f"model.{n}": p.detach() for n, p in build_model(cfg, 1, device).named_parameters()}
    tokens = args.batch * cfg.block_size
    params = sum(v.numel() for v in base.values())
    out: dict[str, Any] = {"model": args.model, "parameters": params, "batch": args.batch, "block": cfg.block_size}

    # 1-2. plain loop and the engine's settings
    rows = []
    precision_default = "bf16" if device.type == "cuda" else "fp32"
    spec_for = {p: SegmentSpec(1, 0, 0, "0x" + "44" * 20, "pretrain", cfg, precision=p, batch_size=args.batch,
                               steps_per_interval=args.steps_per_interval, intervals=args.intervals)
                for p in ("fp32", "bf16")}  # fmt: skip
    plain = [plain_loop(spec_for[precision_default], base, dataset, device, args.variant_steps, args.warmup)
             for _ in range(2)]  # fmt: skip
    plain_tps = tokens * args.variant_steps / min(plain)
    out["plain_tokens_per_s"] = plain_tps
    for precision, attention, optimizer in variants(device, precision_default)[-1 if args.only_default else 0 :]:
        configure(device, precision)
        spec = spec_for[precision]
        runs = [engine_steps(spec, base, dataset, device, args.variant_steps, args.warmup, attention, optimizer)
                for _ in range(2)]  # fmt: skip
        tps = tokens * args.variant_steps / min(t for t, _ in runs)
        rows.append({"precision": precision, "attention": attention, "optimizer": optimizer, "tokens_per_s": tps,
                     "vs_plain": tps / plain_tps, "bitwise_repeatable": runs[0][1] == runs[1][1]})  # fmt: skip
    out["variants"] = rows

    # 3. segment with commitments vs the same steps alone (the engine's default settings)
    fp = configure(device, precision_default)
    cls = device_class(device, precision_default)
    spec = spec_for[precision_default]
    steps = spec.intervals * spec.steps_per_interval
    alone, committed, replays_tol, replays_bit = [], [], [], []
    work_root = Path(tempfile.mkdtemp(prefix="bench-engine-"))
    try:
        run_segment(replace(spec, intervals=1), base, dataset, work_root / "warm", device)  # warm-up
        for r in range(args.repeats):
            t, _ = engine_steps(spec, base, dataset, device, steps, 0, cls.attention, cls.optimizer)
            alone.append(t)
            work = work_root / f"run{r}"
            sync(device)
            started = time.perf_counter()
            run = run_segment(spec, base, dataset, work, device, keep_every=args.keep_every)
            committed.append(time.perf_counter() - started)
            # 4. an audit window of w steps inside interval 1, served by the miner, replayed by a validator
            w = min(WINDOW_STEPS, steps - spec.steps_per_interval)
            a = spec.steps_per_interval
            served = serve_states(run, [a, a + w], dataset, device)
            known = {0: run.checkpoint_digests[0]}
            for bitwise, sink in ((False, replays_tol), (True, replays_bit)):
                sync(device)
                started = time.perf_counter()
                verdict = replay_window(spec, a, a + w, served[a], served[a + w], run.traces, known, dataset, device,
                                        Tolerance(), bitwise=bitwise)  # fmt: skip
                sync(device)
                sink.append(time.perf_counter() - started)
                if bitwise and not verdict.comparison.passed:
                    raise SystemExit(f"honest window failed its bitwise replay: {verdict.comparison.reason}")
            checkpoint_size = run.checkpoint_size
            shutil.rmtree(work)
    finally:
        shutil.rmtree(work_root, ignore_errors=True)
    t_alone, t_committed = statistics.median(alone), statistics.median(committed)
    per_step = t_alone / steps
    w = min(WINDOW_STEPS, steps - spec.steps_per_interval)
    out.update({
        "steps": steps, "steps_per_interval": spec.steps_per_interval, "window": w,
        "steps_alone_s": t_alone, "segment_s": t_committed, "overhead": t_committed / t_alone - 1,
        "replay_tolerance_s": statistics.median(replays_tol), "replay_bitwise_s": statistics.median(replays_bit),
        "replay_tolerance_ratio": statistics.median(replays_tol) / (per_step * w),
        "replay_bitwise_ratio": statistics.median(replays_bit) / (per_step * w),
        "checkpoint_bytes": checkpoint_size, "keep_every": args.keep_every,
        "files": sum(1 for i in range(spec.intervals + 1) if i % args.keep_every == 0 or i == spec.intervals),
    })  # fmt: skip

    # 5-6. a checkpoint's trip
    probe = min(checkpoint_size, 1 << 30) if device.type == "cuda" else 256 << 20
    out["d2h_gbps"] = measure_d2h(device, probe)
    out["sha256_gbps"], out["blake3_gbps"] = measure_hashes(probe)
    out["kubo"] = measure_kubo(args.kubo_mb) if shutil.which("ipfs") or os.environ.get("CRUCIBLE_IPFS_BIN") else \
        "not measured (no Kubo binary here)"
    out["device"] = {"class": cls.describe(), "class_id": cls.class_id, "name": fp.device_name,
                     "torch": torch.__version__, "cuda": str(torch.version.cuda), "threads": torch.get_num_threads(),
                     "cpus": os.cpu_count(), "host": platform.machine()}  # fmt: skip

    text = render(out, args)
    print(text)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(text + "\n")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


def render(out: dict[str, Any], args: argparse.Namespace) -> str:
    d = out["device"]
    lines = [
        f"Device: {d['name']} ({d['class']}; class id {d['class_id']:#010x}), torch {d['torch']}, CUDA {d['cuda']}, "
        f"{d['threads']} threads of {d['cpus']} CPUs.",
        f"Model `{out['model']}`: {out['parameters']:,} parameters, batch {out['batch']} x {out['block']} tokens; "
        f"segment of {out['steps']} steps, checkpoint every {out['steps_per_interval']}; median of {args.repeats}.",
        "",
        "| setting (deterministic unless noted) | tokens/s | vs plain loop | bit-identical run to run |",
        "|---|---|---|---|",
        f"| plain loop: bf16 autocast where CUDA, PyTorch's attention choice, fused AdamW, non-deterministic | "
        f"{out['plain_tokens_per_s']:,.0f} | 1.00x | (not required) |",
    ]
    for row in out["variants"]:
        lines.append(f"| engine steps: {row['precision']}, attention `{row['attention']}`, AdamW {row['optimizer']} | "
                     f"{row['tokens_per_s']:,.0f} | {row['vs_plain']:.2f}x | "
                     f"{'yes' if row['bitwise_repeatable'] else 'NO'} |")  # fmt: skip
    default = out["variants"][-1]
    ok = default["vs_plain"] >= 0.85
    lines += [
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| engine steps (default settings) vs plain loop | {default['vs_plain']:.2f}x | >= 0.85x "
        f"{'met' if ok else 'MISSED'} |",
        f"| {out['steps']} engine steps alone | {out['steps_alone_s']:.3f} s | |",
        f"| the same steps as a segment with every commitment (state digests every min(c, 8) steps, "
        f"{out['steps'] // out['steps_per_interval'] + 1} committed checkpoints of {out['checkpoint_bytes'] / 1e6:,.0f} MB, "
        f"{out['files']} of them written to disk) | {out['segment_s']:.3f} s | |",
        f"| commitment overhead | {100 * out['overhead']:.1f}% | <= 5% {'met' if out['overhead'] <= 0.05 else 'MISSED'} |",
        f"| replay of a {out['window']}-step window within tolerance (parse onto the device, compare there) vs the "
        f"same steps | {out['replay_tolerance_ratio']:.2f}x ({out['replay_tolerance_s']:.3f} s) | <= 1.1x "
        f"{'met' if out['replay_tolerance_ratio'] <= 1.1 else 'MISSED'} |",
        f"| replay of the window bitwise (same class: committed state digests too) vs the same steps | "
        f"{out['replay_bitwise_ratio']:.2f}x ({out['replay_bitwise_s']:.3f} s) | |",
        f"| device to pinned host memory | {out['d2h_gbps']:.1f} GB/s | |",
        f"| sha256, one thread | {out['sha256_gbps']:.2f} GB/s | |",
        f"| BLAKE3 (the checkpoint digest), all cores | {out['blake3_gbps']:.2f} GB/s | |",
        f"| Kubo {args.kubo_mb} MB on loopback | {out['kubo']} | |",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
