"""`crucible engine`: calibrate tolerance profiles (and, later, run and replay segments by hand)."""

from __future__ import annotations

import contextlib
import re
import time
from pathlib import Path

import click

from crucible.cli.context import Settings
from crucible.cli.job import HF_MODEL_PRESETS, KINDS, MODEL_PRESETS
from crucible.cli.output import emit, err_console
from crucible.cli.params import IPFS_API

DEVICE = re.compile(r"^(cpu|cuda(:\d+)?|mps)$")


class _Lines:
    """Progress as plain lines on stderr, for logs and pipes (a bar only shows on a terminal): at most one line every
    `every` seconds, plus the last one."""

    def __init__(self, label: str, total: int, every: float = 5.0) -> None:
        self.label, self.total, self.every = label, total, every
        self.done = 0
        self.started = self.last = time.monotonic()

    def advance(self) -> None:
        self.done += 1
        now = time.monotonic()
        if now - self.last >= self.every or self.done == self.total:
            elapsed = now - self.started
            left = elapsed / self.done * (self.total - self.done)
            err_console.print(f"{self.label}: {self.done}/{self.total} replays ({100 * self.done // self.total}%), "
                              f"{elapsed:.0f} s elapsed, ~{left:.0f} s left", highlight=False, soft_wrap=True)  # fmt: skip
            self.last = now


def _device(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not DEVICE.match(value):
        raise click.BadParameter(f"{value!r} is not a device: use cpu, cuda, cuda:N or mps")
    return value


@click.group()
def engine() -> None:
    """The training and replay engine."""


@engine.command()
@click.option("--kind", type=click.Choice(KINDS), default="pretrain", show_default=True)
@click.option("--model", type=click.Choice(MODEL_PRESETS + HF_MODEL_PRESETS), default="tiny", show_default=True,
              help="Model preset (an hf-… preset's profile serves every job on that architecture: model 'hf-<arch>').")  # fmt: skip
@click.option("--precision", type=click.Choice(["fp32", "bf16"]), default="fp32", show_default=True)
@click.option("--replays", type=click.IntRange(1, 1_000_000), default=200, show_default=True,
              help="Honest segments to replay.")  # fmt: skip
@click.option("--miner-device", default="cpu", show_default=True, callback=_device)
@click.option("--validator-device", default="cpu", show_default=True, callback=_device,
              help="e.g. cuda, to calibrate CPU vs GPU.")  # fmt: skip
@click.option("--miner-threads", type=click.IntRange(1, 1024), default=1, show_default=True)
@click.option("--validator-threads", type=click.IntRange(1, 1024), default=2, show_default=True)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="Where to write the profile (JSON).")  # fmt: skip
@click.option("--ipfs-api", envvar="CRUCIBLE_IPFS_API", type=IPFS_API, help="Kubo RPC API: also pin the profile there.")
@click.pass_obj
def calibrate(settings: Settings, kind: str, model: str, precision: str, replays: int, miner_device: str,
              validator_device: str, miner_threads: int, validator_threads: int, out: Path,
              ipfs_api: str | None) -> None:  # fmt: skip
    """Measure honest replay divergence and write a tolerance profile (tau = 5 x p99.9) for job specs to cite.

    Progress goes to stderr: a bar on a terminal, a line every few seconds otherwise."""
    if not out.parent.is_dir():
        raise click.BadParameter(f"the folder {out.parent} does not exist", param_hint="'--out'")
    import torch  # noqa: PLC0415

    for option, device in (("--miner-device", miner_device), ("--validator-device", validator_device)):
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise click.BadParameter(f"{device!r}: no CUDA device here", param_hint=f"'{option}'")
    from rich.progress import Progress  # noqa: PLC0415

    from crucible.engine.calibrate import calibrate as run_calibration  # noqa: PLC0415

    label = f"calibrating {kind}/{model}/{precision}"
    bar = Progress(transient=True, console=err_console) if err_console.is_terminal else contextlib.nullcontext()
    with bar as progress:
        if progress is not None:
            task = progress.add_task(label, total=replays)
            advance = lambda: progress.advance(task)  # noqa: E731
        else:
            err_console.print(f"{label}: {replays} honest replays", highlight=False, soft_wrap=True)
            advance = _Lines(label, replays).advance
        profile = run_calibration(
            kind=kind, model=model, precision=precision, replays=replays, miner_device=miner_device,
            validator_device=validator_device, miner_threads=miner_threads, validator_threads=validator_threads,
            progress=advance,
        )  # fmt: skip
    data = profile.to_bytes()
    out.write_bytes(data)
    summary = {"profile": str(out), "rel_update_error": profile.rel_update_error, "norm_ratio": profile.norm_ratio,
               "loss_rel": profile.loss_rel, **{f"measured_{k}": v for k, v in profile.measured.items()}}  # fmt: skip
    if ipfs_api:
        from crucible.artifacts.store import ArtifactStore  # noqa: PLC0415

        summary["cid"] = ArtifactStore(ipfs_api).add(data)
    emit(summary, as_json=settings.as_json, title="tolerance profile")
