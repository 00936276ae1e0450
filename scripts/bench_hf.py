"""What a Hugging Face architecture costs against the built-in GPT at the same size: a committed segment's steps per
second and the replay of one interval, for the built-in GPT `small` preset and GPT-2 / Llama configs of its shape.
The HF models run transformers' eager attention, the built-in GPT its explicit attention (both the CPU default).

    python scripts/bench_hf.py [--repeats 3] [--markdown docs/bench/hf.md]

Prints the figures; no timed assertion anywhere (speed is recorded, not tested)."""

from __future__ import annotations

import argparse
import platform
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from crucible.engine.architecture import ModelConfig, initial_weights
from crucible.engine.compare import Tolerance
from crucible.engine.data import make_dataset
from crucible.engine.determinism import configure
from crucible.engine.hf import HFModelSpec, installed_version
from crucible.engine.model import PRESETS
from crucible.engine.replay import replay_interval
from crucible.engine.segment import SegmentSpec, run_segment

SMALL = PRESETS["small"]  # 4 layers, 4 heads, 128 wide, 64 tokens, 32-token vocabulary
MODELS: dict[str, ModelConfig] = {
    "built-in GPT small": SMALL,
    "hf gpt2 (small's shape)": HFModelSpec(
        "gpt2",
        vocab_size=32,
        block_size=64,
        n_layer=4,
        n_head=4,
        n_embd=128,
        n_kv_head=4,
        intermediate_size=512,
        tie_word_embeddings=True,
    ),
    "hf llama (small's shape)": HFModelSpec(
        "llama",
        vocab_size=32,
        block_size=64,
        n_layer=4,
        n_head=4,
        n_embd=128,
        n_kv_head=4,
        intermediate_size=512,
        tie_word_embeddings=False,
    ),
}


def measure(cfg: ModelConfig, *, intervals: int, steps: int, batch: int) -> tuple[int, float, float]:
    """Parameters, seconds of a committed segment (intervals x steps) and seconds of one interval's replay."""
    cpu = torch.device("cpu")
    spec = SegmentSpec(1, 0, 0, "0x" + "44" * 20, "pretrain", cfg, job_seed=3, intervals=intervals,
                       steps_per_interval=steps, batch_size=batch)  # fmt: skip
    base = initial_weights(cfg, 1)
    dataset = make_dataset("pretrain", 512, cfg.block_size, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        run = run_segment(spec, base, dataset, Path(tmp), cpu)
        segment_s = time.perf_counter() - started
        started = time.perf_counter()
        result = replay_interval(spec, 1, run.checkpoint_paths[1].read_bytes(), run.checkpoint_paths[2].read_bytes(),
                                 run.traces[2], dataset, cpu, Tolerance(), bitwise=True)  # fmt: skip
        replay_s = time.perf_counter() - started
    if not (result.comparison.passed and result.comparison.bitwise):
        raise SystemExit(f"an honest replay did not match bit for bit: {result.comparison.reason}")
    return sum(t.numel() for t in base.values()), segment_s, replay_s


def _cpu_name() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown CPU"
    return next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")), "?")


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # Ctrl-C is a KeyboardInterrupt already
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--intervals", type=int, default=4)
    parser.add_argument("--steps-per-interval", type=int, default=4)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()
    configure(torch.device("cpu"), "fp32")
    steps = args.intervals * args.steps_per_interval
    lines = [
        f"Device: cpu ({platform.machine()}, {_cpu_name()}), torch {torch.__version__}, transformers "
        f"{installed_version()}, {torch.get_num_threads()} threads, deterministic.",
        f"Pretrain, {steps} committed steps ({args.intervals} intervals of {args.steps_per_interval}), batch "
        f"{args.batch} x 64 tokens; median of {args.repeats}; every replay checked bit for bit.",
        "",
        "| model | parameters | steps/s (committed segment) | replay of one interval / its share of the segment |",
        "|---|---|---|---|",
    ]
    for name, cfg in MODELS.items():
        runs = [measure(cfg, intervals=args.intervals, steps=args.steps_per_interval, batch=args.batch)
                for _ in range(args.repeats)]  # fmt: skip
        params = runs[0][0]
        segment_s = statistics.median(r[1] for r in runs)
        replay_s = statistics.median(r[2] for r in runs)
        lines.append(
            f"| {name} | {params:,} | {steps / segment_s:.1f} | {replay_s / (segment_s / args.intervals):.2f}x |"
        )
        print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.markdown:
        args.markdown.write_text(text)


if __name__ == "__main__":
    main()
