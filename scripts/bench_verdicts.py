"""Verdict benchmark: for every job kind, every miner cheat of the attack catalog against honest replays.

For each (kind, cheat) it runs `--seeds` cheating segments (different data, bases and seeds), replays the cheating
interval the way an audit does, and reports the detection rate and the distance against the tolerance. It also
replays `--honest` honest segments with a different thread count than the miner's (the validator's machine differs)
and reports the false positives. Tolerance comes from a calibration run (tau = 5 x p99.9 of honest divergence).

    python scripts/bench_verdicts.py [--seeds 30] [--honest 1000] [--markdown docs/bench/verdicts.md]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import torch

from crucible.engine.calibrate import calibrate
from crucible.engine.compare import Tolerance
from crucible.engine.data import make_dataset
from crucible.engine.determinism import configure
from crucible.engine.model import PRESETS, build_model
from crucible.engine.replay import replay_interval
from crucible.engine.segment import SegmentSpec, Trainer, load_checkpoint, run_segment
from crucible.simulation.adversary import CHEATS, run_cheat

KINDS = ("pretrain", "sft", "dpo", "grpo")
MINER = "0x" + "33" * 20


def one(kind: str, seed: int, cheat: str | None, tolerance: Tolerance, device: torch.device) -> tuple[bool, float, str]:
    cfg = PRESETS["tiny"]
    dataset = DATASETS[kind]
    spec = SegmentSpec(1, seed % 5, seed % 11, MINER, kind, cfg, job_seed=10_000 + seed, intervals=1)
    if kind == "grpo":
        base = WARM_BASE  # RL post-training starts from a supervised policy, as in practice
    else:
        base = {f"model.{n}": p.detach() for n, p in build_model(cfg, seed, device).named_parameters()}
    reference = base if kind == "dpo" else None
    with tempfile.TemporaryDirectory() as tmp:
        configure(device, threads=1)  # the miner
        if cheat is None:
            run = run_segment(spec, base, dataset, Path(tmp), device, reference=reference)
        else:
            run = run_cheat(cheat, spec, base, dataset, Path(tmp), device, reference=reference)
        configure(device, threads=2)  # the validator, on a differently configured machine
        result = replay_interval(
            spec, 0, run.checkpoint_paths[0].read_bytes(), run.checkpoint_paths[1].read_bytes(), run.traces[1],
            dataset, device, tolerance, bitwise=False, reference=reference,
        )  # fmt: skip
    c = result.comparison
    if cheat is not None and kind == "grpo" and c.passed and _honest_is_noop(spec, base, dataset, device):
        return c.passed, c.rel_update_error, NO_SIGNAL
    return c.passed, c.rel_update_error, c.reason


NO_SIGNAL = "no learning signal"


def _honest_is_noop(spec: SegmentSpec, base: dict[str, torch.Tensor], dataset: dict[str, torch.Tensor],
                    device: torch.device) -> bool:  # fmt: skip
    """True when honest work leaves the weights unchanged (every GRPO group's rewards were equal at every step):
    then there is no work to skip and a "cheat" is indistinguishable from, and as good as, honest work."""
    with tempfile.TemporaryDirectory() as tmp:
        run = run_segment(spec, base, dataset, Path(tmp), device)
        start = load_checkpoint(run.checkpoint_paths[0].read_bytes(), spec.model)
        end = load_checkpoint(run.checkpoint_paths[1].read_bytes(), spec.model)
    return all(torch.equal(start[k], end[k]) for k in start if k.startswith("model."))


DATASETS: dict[str, dict[str, torch.Tensor]] = {}
WARM_BASE: dict[str, torch.Tensor] = {}


def warm_base(device: torch.device, steps: int = 150) -> dict[str, torch.Tensor]:
    """A briefly supervised policy (SFT on the arithmetic pairs): the starting point of RL post-training.

    From a random policy every GRPO rollout earns the same reward, advantages are all zero and an interval does
    nothing, so a "cheat" would change nothing either; RL jobs start from an SFT'd model for the same reason.
    """
    cfg = PRESETS["tiny"]
    spec = SegmentSpec(1, 0, 0, MINER, "sft", cfg, lr=1e-2)
    trainer = Trainer(spec, make_dataset("sft", 2048, cfg.block_size, seed=9), device)
    trainer.load_model({f"model.{n}": p.detach() for n, p in build_model(cfg, 0, device).named_parameters()})
    for step in range(steps):
        trainer.step(step)
    return {f"model.{n}": p.detach().clone() for n, p in trainer.params.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=30, help="cheating segments per (kind, cheat)")
    parser.add_argument("--honest", type=int, default=1000, help="honest replays in all (split across kinds)")
    parser.add_argument("--calibration-replays", type=int, default=200)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()
    device = torch.device("cpu")
    for kind in KINDS:
        DATASETS[kind] = make_dataset(kind, 512, PRESETS["tiny"].block_size, seed=5)
    configure(device, threads=1)
    WARM_BASE.update(warm_base(device))
    started = time.monotonic()
    # One profile per kind: what honest replays of that kind drift by across thread counts.
    tolerances = {
        kind: calibrate(kind=kind, replays=args.calibration_replays // len(KINDS) or 1,
                        base=WARM_BASE if kind == "grpo" else None)
        for kind in KINDS
    }  # fmt: skip
    print(f"calibrated in {time.monotonic() - started:.0f} s", file=sys.stderr)

    rows = []
    for kind in KINDS:
        tol = tolerances[kind]
        for cheat in CHEATS:
            caught, trials, noop, distances, reasons = 0, 0, 0, [], defaultdict(int)
            for seed in range(args.seeds):
                passed, distance, reason = one(kind, seed, cheat, tol, device)
                if reason == NO_SIGNAL:
                    noop += 1
                    continue
                trials += 1
                caught += not passed
                distances.append(distance)
                reasons[reason.split(":")[0].split(" ")[0]] += 1
                if passed:
                    print(f"MISSED: {kind} {cheat} seed {seed}: {reason}", file=sys.stderr)
            finite = [d for d in distances if math.isfinite(d)]
            rows.append((kind, cheat, caught, trials, min(finite) if finite else math.inf,
                         statistics.median(finite) if finite else math.inf, tol.rel_update_error,
                         max(reasons, key=reasons.__getitem__) if reasons else "-", noop))  # fmt: skip
        print(f"{kind}: cheats done at {time.monotonic() - started:.0f} s", file=sys.stderr)

    honest_rows = []
    per_kind = max(1, args.honest // len(KINDS))
    for kind in KINDS:
        false_positives, distances = 0, []
        for seed in range(per_kind):
            passed, distance, reason = one(kind, 50_000 + seed, None, tolerances[kind], device)
            false_positives += not passed
            distances.append(distance)
            if not passed:
                print(f"false positive: {kind} seed {seed}: {reason}", file=sys.stderr)
        honest_rows.append((kind, per_kind, false_positives, max(distances), tolerances[kind].rel_update_error))
        print(f"{kind}: honest done at {time.monotonic() - started:.0f} s", file=sys.stderr)

    lines = [
        "| kind | cheat | caught | no-signal intervals (excluded) | min d | median d | tau (d) | caught by (most often) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for kind, cheat, caught, n, dmin, dmed, tau, reason, noop in rows:
        rate = f"{100 * caught / n:.1f}%" if n else "-"
        lines.append(f"| {kind} | {cheat} | {caught}/{n} ({rate}) | {noop} | {dmin:.3g} | {dmed:.3g} | "
                     f"{tau:.3g} | {reason} |")  # fmt: skip
    lines += ["", "| kind | honest replays (1 vs 2 threads) | false positives | max honest d | tau (d) |",
              "|---|---|---|---|---|"]  # fmt: skip
    for kind, n, fp, dmax, tau in honest_rows:
        lines.append(f"| {kind} | {n} | {fp} | {dmax:.3g} | {tau:.3g} |")
    total_cheats = sum(r[3] for r in rows)
    total_caught = sum(r[2] for r in rows)
    total_honest = sum(r[1] for r in honest_rows)
    total_fp = sum(r[2] for r in honest_rows)
    lines += ["", f"Totals: {total_caught}/{total_cheats} cheating intervals caught; {total_fp} false positives in "
              f"{total_honest} honest replays. Wall time {time.monotonic() - started:.0f} s on "
              f"{torch.get_num_threads()}-thread CPU, torch {torch.__version__}."]  # fmt: skip
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(text + "\n")


if __name__ == "__main__":
    main()
