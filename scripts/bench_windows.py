"""Soundness across device pairs and checkpoint interval lengths: short replay windows cut out of long intervals.

For each device pair (miner -> validator) and each interval length c, miners train one interval of c steps (the
trace binds every step's state), audits place windows of w = min(8, c) steps by audit seed, the miner serves the
window's end states (recomputed bit for bit from its last checkpoint file), and the validator replays the window:

  - across device classes (CPU thread counts, CPU <-> GPU) within a tolerance calibrated on separate honest windows
    of the same pair and c (tau = 5 x the largest honest divergence seen, per metric);
  - within one class (GPU <-> GPU of one class, here the same GPU) bitwise.

Cheats, each deviating at every step or every 4th (so any window covers one): a 1% learning-rate cut, a skipped
update every 4th step, bf16 compute while fp32 is declared, trained on other data with the assigned batch digests
forged into the trace, half batches; and a miner serving a window state other than the one it committed. Printed
per pair and c: honest windows and false positives, each cheat's detection, and the separation (smallest cheat d
over largest honest d) of the cheats that only the weight comparison can see.

    python scripts/bench_windows.py --pairs cpu-threads --intervals 4 64 256 [--markdown docs/bench/windows.md]
    python scripts/bench_windows.py --pairs cpu-gpu gpu-gpu          # on a machine with a GPU
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from crucible.engine.compare import Tolerance
from crucible.engine.data import BatchKey, batch_digest, batch_indices, make_dataset, select
from crucible.engine.determinism import configure, device_class
from crucible.engine.model import PRESETS, build_model
from crucible.engine.segment import HONEST, SegmentRun, SegmentSpec, StepPolicy, run_segment
from crucible.engine.window import WINDOW_STEPS, replay_window, serve_states, window_bounds
from crucible.simulation.adversary import HalfBatch, LowerPrecision, OtherData

MINER = "0x" + "55" * 20
PERMISSIVE = Tolerance(rel_update_error=1e9, rel_update_error_tensor=1e9, norm_ratio=1e9, loss_rel=1e9, logprob_abs=1e9)
SAFETY = 5.0
FLOOR = 1e-7


class LearningRateCut(StepPolicy):
    """Trains at 99% of the learning rate: 1% less work per step, the subtlest cheat the issue names."""

    def lr_scale(self, step: int) -> float:
        return 0.99


class SkipEvery4th(StepPolicy):
    """Lazy: skips every 4th optimizer update (a quarter of the work)."""

    def skip_update(self, step: int) -> bool:
        return step % 4 == 3


CHEATS: dict[str, tuple[type[StepPolicy], bool]] = {  # name -> (policy, forge the assigned batch digests)
    "learning rate -1%": (LearningRateCut, False),
    "skips every 4th update": (SkipEvery4th, False),
    "bf16 while declaring fp32": (LowerPrecision, False),
    "other data, digests forged": (OtherData, True),
    "half batches": (HalfBatch, False),
}
WEIGHT_ONLY = ("learning rate -1%", "skips every 4th update", "bf16 while declaring fp32", "other data, digests forged")
WRONG_STATE = "serves a state it did not commit"


@dataclass
class Pair:
    name: str
    miner: str  # "cpu" or "cuda"
    validator: str
    miner_threads: int
    validator_threads: int
    bitwise: bool


PAIRS = {
    "cpu-threads": Pair("CPU 1 thread -> CPU 2 threads", "cpu", "cpu", 1, 2, False),
    "cpu-gpu": Pair("GPU -> CPU", "cuda", "cpu", 0, 0, False),
    "gpu-gpu": Pair("GPU -> GPU, one class", "cuda", "cuda", 0, 0, True),
}


@dataclass
class Cell:
    calibration: list[dict[str, Any]] = field(default_factory=list)
    honest: list[dict[str, Any]] = field(default_factory=list)
    cheats: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tolerance: Tolerance | None = None


METRICS = ("d", "tensor_d", "ratio_dev", "loss_rel")


def audit_seed(*parts: object) -> bytes:
    return hashlib.sha256("|".join(map(str, parts)).encode()).digest()


def forge_digests(run: SegmentRun, dataset: dict[str, torch.Tensor]) -> None:
    """The data cheat claims the batches it was assigned (its weights still come from other data)."""
    spec = run.spec
    n = next(iter(dataset.values())).shape[0]
    for records in run.traces:
        for record in records:
            key = BatchKey(spec.job_seed, spec.round, spec.slot, record["step"])
            record["batch_digest"] = batch_digest(select(dataset, batch_indices(key, spec.batch_size, n)))


def set_threads(device: str, threads: int) -> None:
    configure(torch.device(device), "fp32", threads=threads or None)


Sample = tuple[SegmentSpec, SegmentRun, dict[int, bytes], tuple[int, int]]


def mine(spec: SegmentSpec, base: dict[str, torch.Tensor], dataset: dict[str, torch.Tensor], device: str,
         threads: int, policy: StepPolicy, windows: list[tuple[int, int]], work: Path) -> list[Sample]:
    """One segment and the states its audit windows need, served the way a miner serves them."""
    set_threads(device, threads)
    run = run_segment(spec, base, dataset, work, torch.device(device), policy=policy)
    served = serve_states(run, [n for w in windows for n in w], dataset, torch.device(device), policy=policy)
    return [(spec, run, served, w) for w in windows]


def judge(sample: Sample, dataset: dict[str, torch.Tensor], pair: Pair, tolerance: Tolerance) -> dict[str, Any]:
    spec, run, served, (a, b) = sample
    set_threads(pair.validator, pair.validator_threads)
    known = {0: run.checkpoint_digests[0], spec.steps_per_interval: run.checkpoint_digests[1]}
    verdict = replay_window(spec, a, b, served[a], served[b], run.traces, known, dataset, torch.device(pair.validator),
                            tolerance, bitwise=pair.bitwise)  # fmt: skip
    c = verdict.comparison
    return {"window": [a, b], "passed": c.passed, "reason": c.reason, "d": c.rel_update_error,
            "tensor_d": c.worst_tensor_error, "ratio_dev": abs(c.norm_ratio - 1), "loss_rel": c.max_loss_rel}  # fmt: skip


def tau(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return max(SAFETY * max(finite, default=0.0), FLOOR)


def segments(c: int, args: argparse.Namespace, dataset: dict[str, torch.Tensor], device: str, threads: int,
             root: Path) -> tuple[list[Sample], dict[str, list[Sample]]]:
    """The miners' side, shared by every validator of the same miner device: honest and cheating segments."""
    cfg = PRESETS[args.model]
    w = min(WINDOW_STEPS, c)
    honest: list[Sample] = []
    for seed in range(args.honest_segments):
        spec = SegmentSpec(1, 0, seed, MINER, "pretrain", cfg, job_seed=1000 + seed, steps_per_interval=c,
                           intervals=1, batch_size=args.batch)  # fmt: skip
        base = {f"model.{n}": p.detach() for n, p in build_model(cfg, seed, torch.device("cpu")).named_parameters()}
        windows = [window_bounds(audit_seed("honest", c, seed, j), 0, c, w) for j in range(args.windows)]
        honest += mine(spec, base, dataset, device, threads, HONEST, windows, root / f"h{c}-{seed}")
    cheats: dict[str, list[Sample]] = {}
    for name, (policy_cls, forge) in CHEATS.items():
        cheats[name] = []
        for seed in range(args.cheat_segments):
            spec = SegmentSpec(1, 0, 100 + seed, MINER, "pretrain", cfg, job_seed=2000 + seed, steps_per_interval=c,
                               intervals=1, batch_size=args.batch)  # fmt: skip
            base = {f"model.{n}": p.detach()
                    for n, p in build_model(cfg, 50 + seed, torch.device("cpu")).named_parameters()}  # fmt: skip
            windows = [window_bounds(audit_seed(name, c, seed, j), 0, c, w) for j in range(args.windows)]
            samples = mine(spec, base, dataset, device, threads, policy_cls(), windows, root / f"x{c}-{seed}-{name[:4]}")
            if forge:
                forge_digests(samples[0][1], dataset)
            cheats[name] += samples
    # A miner serving a state other than the one it committed: an honest window's start state, one bit flipped.
    spec, run, served, win = honest[-1]
    tampered = bytearray(served[win[0]])
    tampered[len(tampered) // 2] ^= 0x01
    cheats[WRONG_STATE] = [(spec, run, {**served, win[0]: bytes(tampered)}, win)]
    return honest, cheats


def validate(pair: Pair, honest: list[Sample], cheats: dict[str, list[Sample]],
             dataset: dict[str, torch.Tensor]) -> Cell:
    """The validator's side: calibrate on half the honest windows, test the other half and every cheat."""
    cell = Cell()
    split = len(honest) // 2
    cell.calibration = [judge(x, dataset, pair, PERMISSIVE) for x in honest[:split]]
    if pair.bitwise:
        cell.tolerance = Tolerance()
    else:
        cell.tolerance = replace(
            Tolerance(), rel_update_error=tau([x["d"] for x in cell.calibration]),
            rel_update_error_tensor=tau([x["tensor_d"] for x in cell.calibration]),
            norm_ratio=tau([x["ratio_dev"] for x in cell.calibration]),
            loss_rel=max(tau([x["loss_rel"] for x in cell.calibration]), 1e-6),
        )  # fmt: skip
    cell.honest = [judge(x, dataset, pair, cell.tolerance) for x in honest[split:]]
    cell.cheats = {name: [judge(x, dataset, pair, cell.tolerance) for x in samples] for name, samples in cheats.items()}
    return cell


def caught_by(reason: str) -> str:
    """The check that failed, without its numbers."""
    for marker, label in (("relative update error", "relative update error"), ("relative error", "worst tensor"),
                          ("norm ratio", "update norm ratio"), ("batch digest", "batch digest"),
                          ("served checkpoint", "served state != committed digest"), ("trace loss", "trace loss"),
                          ("differs from the bitwise", "bitwise"), ("state digest", "state digest")):  # fmt: skip
        if marker in reason:
            return label
    return reason[:60]


def summarize(pair_key: str, pair: Pair, c: int, cell: Cell) -> dict[str, Any]:
    honest_all = cell.honest + cell.calibration
    honest_max = {m: max((x[m] for x in honest_all if math.isfinite(x[m])), default=0.0) for m in METRICS}
    cheat_rows = {}
    for name, results in cell.cheats.items():
        mins = {m: min((x[m] for x in results if math.isfinite(x[m])), default=math.nan) for m in METRICS}
        # Separation on the metric that tells this cheat best: its smallest value over the largest honest one.
        seps = {m: mins[m] / honest_max[m] for m in METRICS if honest_max[m] > 0 and math.isfinite(mins[m])}
        best = max(seps, key=lambda m: seps[m]) if seps else ""
        cheat_rows[name] = {"caught": sum(not x["passed"] for x in results), "trials": len(results),
                            "min_d": mins["d"], "best_metric": best, "separation": seps.get(best, math.nan),
                            "reasons": sorted({caught_by(x["reason"]) for x in results if not x["passed"]})}  # fmt: skip
    weight = [cheat_rows[n]["separation"] for n in WEIGHT_ONLY if n in cheat_rows]
    assert cell.tolerance is not None
    return {"pair": pair_key, "pair_name": pair.name, "c": c, "w": min(WINDOW_STEPS, c), "bitwise": pair.bitwise,
            "honest": len(cell.honest), "calibration": len(cell.calibration),
            "false_positives": sum(not x["passed"] for x in cell.honest),
            "false_positive_reasons": sorted({caught_by(x["reason"]) for x in cell.honest if not x["passed"]}),
            "max_honest": honest_max, "tau": cell.tolerance.rel_update_error, "cheats": cheat_rows,
            "separation": min(weight, default=math.nan)}  # fmt: skip


def render(rows: list[dict[str, Any]], header: str) -> str:
    lines = [header, "",
             "| pair | c | w | mode | honest windows tested (false positives) | largest honest d | tau (d) | "
             "separation of the weight-only cheats | every cheat caught |",
             "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in rows:
        all_caught = all(v["caught"] == v["trials"] for v in r["cheats"].values())
        separation = "bitwise" if r["bitwise"] else f"{r['separation']:.3g}x"
        fp = f"{r['honest']} ({r['false_positives']}{': ' + ', '.join(r['false_positive_reasons']) if r['false_positives'] else ''})"
        lines.append(f"| {r['pair_name']} | {r['c']} | {r['w']} | {'bitwise' if r['bitwise'] else 'tolerance'} | {fp} | "
                     f"{r['max_honest']['d']:.3g} | {r['tau']:.3g} | {separation} | {'yes' if all_caught else 'NO'} |")  # fmt: skip
    lines += ["", "| pair | c | cheat | caught | smallest d | best metric: smallest cheat / largest honest | caught by |",
              "|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in rows:
        for name, v in r["cheats"].items():
            caught_on_weights = v["best_metric"] and math.isfinite(v["separation"]) and v["separation"] > 0
            best = f"{v['best_metric']}: {v['separation']:.3g}x" if caught_on_weights else "- (not a weight check)"
            lines.append(f"| {r['pair_name']} | {r['c']} | {name} | {v['caught']}/{v['trials']} | {v['min_d']:.3g} | "
                         f"{best} | {'; '.join(v['reasons'])} |")  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: sys.exit(128 + signum))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", nargs="+", default=["cpu-threads"], choices=sorted(PAIRS))
    parser.add_argument("--intervals", nargs="+", type=int, default=[4, 64, 256], help="checkpoint interval lengths c")
    parser.add_argument("--model", default="small", choices=sorted(PRESETS))
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--honest-segments", type=int, default=6)
    parser.add_argument("--cheat-segments", type=int, default=2)
    parser.add_argument("--windows", type=int, default=4, help="audit windows per segment (different audit seeds)")
    parser.add_argument("--markdown", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if any(PAIRS[p].miner == "cuda" or PAIRS[p].validator == "cuda" for p in args.pairs) and not torch.cuda.is_available():
        parser.error("--pairs cpu-gpu/gpu-gpu need a CUDA device")
    started = time.perf_counter()
    rows = []
    root = Path(tempfile.mkdtemp(prefix="bench-windows-"))
    cfg = PRESETS[args.model]
    dataset = make_dataset("pretrain", 1024, cfg.block_size, seed=5)
    try:
        for c in args.intervals:
            by_miner: dict[tuple[str, int], list[str]] = {}
            for key in args.pairs:  # validators of one miner device judge the same segments
                by_miner.setdefault((PAIRS[key].miner, PAIRS[key].miner_threads), []).append(key)
            for (device, threads), keys in by_miner.items():
                honest, cheats = segments(c, args, dataset, device, threads, root)
                for key in keys:
                    rows.append(summarize(key, PAIRS[key], c, validate(PAIRS[key], honest, cheats, dataset)))
                    print(render(rows[-1:], f"[{time.perf_counter() - started:.0f} s]"), flush=True)
                shutil.rmtree(root, ignore_errors=True)
                root.mkdir()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    devices = {"cpu": device_class(torch.device("cpu"), "fp32").arch}
    if torch.cuda.is_available():
        devices["cuda"] = f"{torch.cuda.get_device_name()} ({device_class(torch.device('cuda'), 'fp32').arch})"
    header = (f"Model `{args.model}`, pretrain, fp32, batch {args.batch}; per pair and c: {args.honest_segments} honest "
              f"segments x {args.windows} windows (half calibrate tau = {SAFETY:g} x the largest honest divergence, "
              f"per metric, the other half test it), {args.cheat_segments} segments x {args.windows} windows per cheat. Devices: "
              f"{devices}; torch {torch.__version__}. Wall time {time.perf_counter() - started:.0f} s.")  # fmt: skip
    text = render(rows, header)
    print("\n" + text)
    if args.markdown:
        args.markdown.write_text(text + "\n")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, default=str))


if __name__ == "__main__":
    main()
