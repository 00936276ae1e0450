"""`crucible engine`: calibrate tolerance profiles (and, later, run and replay segments by hand)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.progress import Progress

from crucible.cli.context import Settings
from crucible.cli.output import emit


@click.group()
def engine() -> None:
    """The training and replay engine."""


@engine.command()
@click.option("--kind", type=click.Choice(["pretrain", "sft", "dpo", "grpo"]), default="pretrain", show_default=True)
@click.option("--model", default="tiny", show_default=True, help="Model preset (tiny, small, medium, gpu-125m).")
@click.option("--precision", type=click.Choice(["fp32", "bf16"]), default="fp32", show_default=True)
@click.option("--replays", type=int, default=200, show_default=True, help="Honest segments to replay.")
@click.option("--miner-device", default="cpu", show_default=True)
@click.option("--validator-device", default="cpu", show_default=True, help="e.g. cuda, to calibrate CPU vs GPU.")
@click.option("--miner-threads", type=int, default=1, show_default=True)
@click.option("--validator-threads", type=int, default=2, show_default=True)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Where to write the profile (JSON).")
@click.option("--ipfs-api", envvar="CRUCIBLE_IPFS_API", help="Kubo RPC multiaddr: also pin the profile there.")
@click.pass_obj
def calibrate(settings: Settings, kind: str, model: str, precision: str, replays: int, miner_device: str,
              validator_device: str, miner_threads: int, validator_threads: int, out: Path,
              ipfs_api: str | None) -> None:  # fmt: skip
    """Measure honest replay divergence and write a tolerance profile (tau = 5 x p99.9) for job specs to cite."""
    from crucible.engine.calibrate import calibrate as run_calibration

    with Progress(transient=True, disable=settings.as_json) as progress:
        task = progress.add_task(f"calibrating {kind}/{model}/{precision}", total=replays)
        profile = run_calibration(
            kind=kind, model=model, precision=precision, replays=replays, miner_device=miner_device,
            validator_device=validator_device, miner_threads=miner_threads, validator_threads=validator_threads,
            progress=lambda: progress.advance(task),
        )  # fmt: skip
    data = profile.to_bytes()
    out.write_bytes(data)
    summary = {"profile": str(out), "rel_update_error": profile.rel_update_error, "norm_ratio": profile.norm_ratio,
               "loss_rel": profile.loss_rel, **{f"measured_{k}": v for k, v in profile.measured.items()}}  # fmt: skip
    if ipfs_api:
        from crucible.artifacts.store import ArtifactStore

        summary["cid"] = ArtifactStore(ipfs_api).add(data)
    emit(summary, as_json=settings.as_json, title="tolerance profile")
