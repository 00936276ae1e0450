"""Calibration: how far honest replays drift for a model, precision and pair of devices or thread counts, and the
tolerance profile derived from it (tau = 5 x the 99.9th percentile of honest divergence, with a small floor so a
perfectly deterministic pair still tolerates float formatting noise). Job specs reference the profile by CID."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from crucible.engine.architecture import initial_weights, model_label, resolve_model
from crucible.engine.compare import Tolerance
from crucible.engine.data import make_dataset
from crucible.engine.determinism import configure
from crucible.engine.replay import replay_interval
from crucible.engine.segment import SegmentSpec, run_segment

FLOOR = 1e-6
LOSS_FLOOR = 1e-4  # losses are logged as floats; a forged trace moves them by percents
SAFETY = 5.0


def calibrate(
    *,
    kind: str,
    model: str = "tiny",
    precision: str = "fp32",
    replays: int = 100,
    miner_device: str = "cpu",
    validator_device: str = "cpu",
    miner_threads: int = 1,
    validator_threads: int = 2,
    base: dict[str, torch.Tensor] | None = None,
    progress: Callable[[], None] | None = None,
) -> Tolerance:
    """Runs `replays` honest segments on the miner side and replays one interval of each on the validator side.

    Calibrate from the base the job really starts from (`base`): a trained policy drifts differently from a random
    initialisation (GRPO from an SFT'd policy drifts ~10x more than from a random one, whose advantages are zero).
    """
    cfg = resolve_model(model)  # a built-in GPT preset or a Hugging Face one (hf-…)
    dataset = make_dataset(kind, 512, cfg.block_size, seed=11)
    errors, tensor_errors, ratios, losses = [], [], [], []
    for seed in range(replays):
        spec = SegmentSpec(1, 0, seed % 7, "0x" + "22" * 20, kind, cfg, precision=precision, job_seed=seed,
                           intervals=1)  # fmt: skip
        miner_dev = torch.device(miner_device)
        configure(miner_dev, precision, threads=miner_threads)
        start = base if base is not None else initial_weights(cfg, seed)  # CPU-drawn: the same on every device
        reference = start if kind == "dpo" else None
        with tempfile.TemporaryDirectory() as tmp:
            run = run_segment(spec, start, dataset, Path(tmp), miner_dev, reference=reference)
            val_dev = torch.device(validator_device)
            configure(val_dev, precision, threads=validator_threads)
            result = replay_interval(
                spec, 0, run.checkpoint_paths[0].read_bytes(), run.checkpoint_paths[1].read_bytes(), run.traces[1],
                dataset, val_dev, Tolerance(rel_update_error=1, rel_update_error_tensor=1, norm_ratio=1, loss_rel=1,
                                            logprob_abs=1), bitwise=False, reference=reference,
            )  # fmt: skip
        c = result.comparison
        errors.append(c.rel_update_error)
        tensor_errors.append(c.worst_tensor_error)
        ratios.append(abs(c.norm_ratio - 1))
        losses.append(c.max_loss_rel)
        if progress:
            progress()

    def tau(values: list[float], floor: float = FLOOR) -> float:
        return max(SAFETY * float(np.percentile(values, 99.9)), floor)

    measured = {
        "replays": replays,
        "rel_update_error_p999": float(np.percentile(errors, 99.9)),
        "rel_update_error_max": float(max(errors)),
        "worst_tensor_error_max": float(max(tensor_errors)),
        "norm_ratio_dev_max": float(max(ratios)),
        "loss_rel_max": float(max(losses)),
        "miner": f"{miner_device} x{miner_threads} threads",
        "validator": f"{validator_device} x{validator_threads} threads",
        "kind": kind,
    }
    return replace(
        Tolerance(),
        rel_update_error=tau(errors),
        rel_update_error_tensor=tau(tensor_errors),
        norm_ratio=tau(ratios),
        loss_rel=tau(losses, LOSS_FLOOR),
        model=model_label(model),
        precision=precision,
        device_pair=(miner_device, validator_device),
        measured=measured,
    )
