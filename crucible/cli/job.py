"""`crucible job`: post a job (refusing parameters under which cheating pays) and follow it.

Rounds and slots count from 0 everywhere, as on the chain and in every ROUND and SLOT argument.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from crucible.cli.context import Settings
from crucible.cli.output import abort, add_columns, console, cru, emit, err_console, new_table, print_table
from crucible.cli.params import AMOUNT, IPFS_API, JOB_ID, UINT96_MAX, Amount, Finite

KINDS = ["pretrain", "sft", "dpo", "grpo"]
MODEL_PRESETS = ["tiny", "small", "medium", "gpu-125m"]  # crucible.engine.model.PRESETS (a test keeps them equal)
HF_MODEL_PRESETS = ["hf-gpt2-tiny", "hf-llama-tiny"]  # crucible.engine.hf.PRESETS (a test keeps them equal)
REWARD = Amount(max_wei=UINT96_MAX)  # the job's amounts are uint96 on-chain
INDEX = click.IntRange(0, 65535)
CHAIN_PRESETS = ["local", "l2-2s", "l1-12s"]  # crucible.protocol.presets.PRESETS (a test keeps them equal)


@click.group()
def job() -> None:
    """Post training jobs and follow them (rounds and slots count from 0)."""


@job.command()
@click.option("--kind", type=click.Choice(KINDS), required=True)
@click.option("--model", type=click.Choice(MODEL_PRESETS + HF_MODEL_PRESETS), default="tiny", show_default=True,
              help="Model preset: the built-in GPT's, or a Hugging Face architecture's (hf-…).")  # fmt: skip
@click.option("--model-config", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="FILE.json",
              help="A Hugging Face architecture by config instead of --model: Crucible's form ({\"arch\": \"gpt2\" or "
                   "\"llama\", \"n_layer\": …}) or a transformers config.json. Never downloaded.")  # fmt: skip
@click.option("--base-weights", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="FILE.safetensors",
              help="Start round 0 from your own weights of the HF model (safetensors only; pinned, their CID and "
                   "sha256 go into the spec) [default: initialised from the job seed].")  # fmt: skip
@click.option("--memory-gib", type=Finite(0, 1 << 20, min_open=True),
              help="HF models: the training memory (GiB) a miner needs at most, declared in the spec [default: the "
                   "model's own need, checked against this machine].")  # fmt: skip
@click.option("--rounds", type=click.IntRange(1, 65535), default=1, show_default=True)
@click.option("--slots", type=click.IntRange(1, 1024), default=2, show_default=True, help="Work slots per round.")
@click.option("--intervals", type=click.IntRange(1, 255), default=4, show_default=True,
              help="Checkpoint intervals per slot.")  # fmt: skip
@click.option("--audit-bps", type=click.IntRange(1, 10_000), default=10_000, show_default=True,
              help="Audit probability p (basis points).")  # fmt: skip
@click.option("--miner-reward", type=REWARD, default="10", show_default=True, help="CRU per accepted slot.")
@click.option("--collateral", type=REWARD, default="20", show_default=True, help="CRU locked per claimed slot.")
@click.option("--compute-cost", type=AMOUNT, required=True, help="CRU a cheat would save on one slot (C).")
@click.option("--collusion", type=Finite(0, 1, max_open=True), default=0.1, show_default=True,
              help="Share of colluding validators (r), 0 <= r < 1.")  # fmt: skip
@click.option("--tolerance", "tolerance_source", metavar="FILE|CID",
              help="Tolerance profile from `crucible engine calibrate` (a file, or its CID on IPFS) [default: the "
                   "uncalibrated default profile].")  # fmt: skip
@click.option("--windows", "windows_preset", type=click.Choice(CHAIN_PRESETS), default="local", show_default=True,
              help="The job's windows, in blocks, for the chain's block time (docs/protocol.md, parameters for real "
              "chains).")  # fmt: skip
@click.option("--dataset", "dataset_cid", metavar="CID", help="Your own data, pinned by `crucible data add` (of this "
              "--kind and --model) [default: generated arithmetic data].")  # fmt: skip
@click.option("--ipfs-api", envvar="CRUCIBLE_IPFS_API", type=IPFS_API, default="/ip4/127.0.0.1/tcp/5001/http",
              show_default=True, help="Kubo RPC API (multiaddr or http://host:port).")  # fmt: skip
@click.pass_obj
def create(settings: Settings, kind: str, model: str, model_config: Path | None, base_weights: Path | None,
           memory_gib: float | None, rounds: int, slots: int, intervals: int, audit_bps: int, miner_reward: int,
           collateral: int, compute_cost: int, collusion: float, tolerance_source: str | None,
           windows_preset: str, dataset_cid: str | None, ipfs_api: str) -> None:  # fmt: skip
    """Pin the job's data, spec, tolerance and base on IPFS and fund it, if cheating cannot pay under it."""
    from crucible.artifacts.store import ArtifactStore  # noqa: PLC0415
    from crucible.protocol.presets import PRESETS  # noqa: PLC0415
    from crucible.protocol.types import JobParams  # noqa: PLC0415
    from crucible.sponsor import post_job  # noqa: PLC0415

    hf_model = _hf_model(model, model_config, base_weights, memory_gib)

    params = JobParams(num_rounds=rounds, slots_per_round=slots, intervals_per_slot=intervals,
                       sampled_intervals=min(2, intervals), audit_bps=audit_bps, miner_reward=miner_reward,
                       miner_collateral=collateral, windows=PRESETS[windows_preset].windows)  # fmt: skip
    if dataset_cid is not None and not (dataset_cid.startswith(("bafy", "bafk", "Qm")) and "/" not in dataset_cid):
        raise click.BadParameter(f"{dataset_cid!r} is not a CID (bafy…/bafk…/Qm…): pin your data with `crucible data "
                                 "add FILE --kind KIND` and pass the CID it prints", param_hint="'--dataset'")  # fmt: skip
    store = ArtifactStore(ipfs_api)
    label = hf_model.label() if hf_model is not None else model
    tolerance = load_tolerance(tolerance_source, store, kind=kind, model=label) if tolerance_source else None
    weights = base_weights.read_bytes() if base_weights else None
    client = settings.client(signer=True)
    posted = post_job(client, store, kind=kind, model=hf_model or model, params=params, compute_cost_wei=compute_cost,
                      collusion=collusion, tolerance=tolerance, dataset_cid=dataset_cid, weights=weights,
                      weights_source=str(base_weights))  # fmt: skip
    emit({"job_id": posted.job_id, "spec_cid": posted.spec_cid, "dataset_cid": posted.dataset_cid,
          "tolerance_cid": posted.tolerance_cid, "tolerance": tolerance_source or "default (uncalibrated)",
          "base_cid": posted.base_cid, "sampling_margin": round(posted.check.margin, 3), "model": label,
          **({"weights_cid": posted.weights_cid} if posted.weights_cid else {})},
         as_json=settings.as_json, title="job posted")  # fmt: skip


def _hf_model(model: str, model_config: Path | None, base_weights: Path | None, memory_gib: float | None) -> Any:
    """The job's Hugging Face model (hf.HFModelSpec) from --model hf-… or --model-config, with --memory-gib; None for
    a built-in GPT preset. The HF options without an HF model are usage errors."""
    source = click.get_current_context().get_parameter_source("model")
    if model_config is not None and source is not click.core.ParameterSource.DEFAULT:
        raise click.BadParameter("give the model once: --model PRESET or --model-config FILE", param_hint="'--model'")
    if model_config is None and not model.startswith("hf-"):
        for option, value in (("--base-weights", base_weights), ("--memory-gib", memory_gib)):
            if value is not None:
                raise click.BadParameter(f"needs a Hugging Face model (--model hf-… or --model-config FILE); {model!r} "
                                         "is the built-in GPT", param_hint=f"'{option}'")  # fmt: skip
        return None
    from dataclasses import replace  # noqa: PLC0415

    from crucible.engine import hf  # noqa: PLC0415

    spec = hf.read_model_config(str(model_config), model_config.read_bytes()) if model_config else hf.PRESETS[model]
    return replace(spec, memory_gib=memory_gib) if memory_gib is not None else spec


def load_tolerance(source: str, store: Any, *, kind: str, model: str) -> Any:
    """The profile in file `source`, or at CID `source` on IPFS, checked to be a profile for this job's model."""
    import math  # noqa: PLC0415

    from crucible.engine.compare import Tolerance  # noqa: PLC0415

    path = Path(source).expanduser()
    if path.is_file():
        raw = path.read_bytes()
    elif source.startswith(("bafy", "bafk", "Qm")) and "/" not in source:
        raw = store.fetch(source, max_bytes=1 << 20)
    else:
        raise click.BadParameter(
            f"{source!r} is neither a file nor a CID (bafy…/bafk…/Qm…)", param_hint="'--tolerance'"
        )
    bad = f"{source} is not a tolerance profile (write one with `crucible engine calibrate --out FILE`)"
    try:
        data = json.loads(raw)
        tolerance = Tolerance.from_json(data) if isinstance(data, dict) else None
    except (ValueError, TypeError, UnicodeDecodeError):
        tolerance = None
    if tolerance is None:
        raise click.BadParameter(bad, param_hint="'--tolerance'")
    numbers = (tolerance.rel_update_error, tolerance.rel_update_error_tensor, tolerance.norm_ratio,
               tolerance.loss_rel, tolerance.logprob_abs)  # fmt: skip
    if not all(isinstance(x, int | float) and math.isfinite(x) and x > 0 for x in numbers):
        raise click.BadParameter(f"{bad}: its thresholds must be positive numbers", param_hint="'--tolerance'")
    if tolerance.model != model:
        raise click.BadParameter(f"{source} was calibrated for model {tolerance.model!r}, the job uses {model!r}",
                                 param_hint="'--tolerance'")  # fmt: skip
    if tolerance.precision != "fp32":
        raise click.BadParameter(f"{source} was calibrated for {tolerance.precision}, jobs train in fp32",
                                 param_hint="'--tolerance'")  # fmt: skip
    calibrated_kind = tolerance.measured.get("kind") if isinstance(tolerance.measured, dict) else None
    if calibrated_kind and calibrated_kind != kind:
        raise click.BadParameter(f"{source} was calibrated on {calibrated_kind} segments, the job is {kind}: "
                                 f"calibrate with --kind {kind}", param_hint="'--tolerance'")  # fmt: skip
    return tolerance


@job.command()
@click.argument("job_id", type=JOB_ID)
@click.pass_obj
def status(settings: Settings, job_id: int) -> None:
    """Show a job's current round and its slots."""
    data = _job_state(settings.client(signer=False), job_id)
    if settings.as_json:
        emit(data, as_json=True)
        return
    console.print(f"job {job_id}: {data['status']}, round {data['round']} of rounds 0-{data['rounds'] - 1}, "
                  f"escrow {cru(data['escrow_wei'])}, sponsor {data['sponsor']}", highlight=False, soft_wrap=True)  # fmt: skip
    table = new_table(f"slots of round {data['round']}")
    add_columns(table, "slot", "status", "miner", "outcome")
    for row in data["slots"]:
        table.add_row(*(str(row[c]) for c in ("slot", "status", "miner", "outcome")))
    print_table(table)


def _job_state(client: Any, job_id: int) -> dict[str, Any]:
    from crucible.protocol import ledger  # noqa: PLC0415
    from crucible.protocol.types import SlotStatus  # noqa: PLC0415

    sponsor, state, current = ledger.job_state(client, job_id)
    params = ledger.job_params(client, job_id)
    rounds, slots_per_round = params.num_rounds, params.slots_per_round
    escrow = client.call(client.vault.functions.escrowOf(job_id))
    failed = ledger.round_of(client, job_id, current).failed_aggregates
    rows = []
    for slot in range(slots_per_round + 1 + failed):
        view = ledger.subject_of(client, job_id, current, slot)
        rows.append({"slot": slot if slot < slots_per_round else f"{slot} (aggregate)", "status": view.status.name,
                     "miner": view.miner if view.status is not SlotStatus.OPEN else "",
                     "outcome": view.outcome.name if view.outcome.value else ""})  # fmt: skip
    return {"job_id": job_id, "sponsor": sponsor, "status": state.name, "round": int(current),
            "rounds": rounds, "escrow_wei": escrow, "slots": rows}  # fmt: skip


@job.command("list")
@click.pass_obj
def list_jobs(settings: Settings) -> None:
    """Every job on this deployment, with its kind, status and current round."""
    from crucible.cli.status import print_rows  # noqa: PLC0415
    from crucible.protocol import ledger  # noqa: PLC0415
    from crucible.protocol.jobs import job_records  # noqa: PLC0415
    from crucible.protocol.types import JobKind  # noqa: PLC0415

    client = settings.client(signer=False)
    rows = []
    for record in job_records(client):
        _, state, current = ledger.job_state(client, record.job_id)
        rows.append({"job": record.job_id, "kind": JobKind(record.params.kind).name.lower(),
                     "status": state.name, "round": int(current), "rounds": record.params.num_rounds,
                     "slots": record.params.slots_per_round, "sponsor": record.sponsor, "spec": record.spec_cid})  # fmt: skip
    if settings.as_json:
        emit({"jobs": rows}, as_json=True)
    else:
        print_rows("jobs (rounds count from 0)", rows)


@job.command()
@click.argument("job_id", type=JOB_ID)
@click.option("--timeout", type=click.FloatRange(0), help="Give up after this many seconds (exit 1).")
@click.pass_obj
def wait(settings: Settings, job_id: int, timeout: float | None) -> None:
    """Wait until job JOB_ID is completed (every round aggregated), logging its progress on stderr."""
    client = settings.client(signer=False)
    deadline = None if timeout is None else time.monotonic() + timeout
    last, last_said = "", 0.0
    while True:
        data = _job_state(client, job_id)
        line = (f"job {job_id}: {data['status']}, round {data['round']} of 0-{data['rounds'] - 1}; " +
                ", ".join(f"slot {r['slot']} {r['outcome'] or r['status']}" for r in data["slots"]))  # fmt: skip
        if line != last or time.monotonic() - last_said > 30:
            err_console.print(f"block {client.block_number()}: {line}", highlight=False, soft_wrap=True)
            last, last_said = line, time.monotonic()
        if data["status"] == "COMPLETED":
            break
        if deadline is not None and time.monotonic() > deadline:
            abort(f"job {job_id} did not complete in {timeout:g} s ({line})")
        time.sleep(1.0)
    emit({"job_id": job_id, "status": data["status"], "rounds": data["rounds"]}, as_json=settings.as_json,
         title="job completed")  # fmt: skip


@job.command()
@click.argument("job_id", type=JOB_ID)
@click.argument("round_", metavar="ROUND", type=INDEX)
@click.argument("slot", type=INDEX)
@click.pass_obj
def settle(settings: Settings, job_id: int, round_: int, slot: int) -> None:
    """Settle an expired submission (anyone may): pays or slashes its miner. Says from which block if too early."""
    from crucible.protocol import ledger  # noqa: PLC0415

    client = settings.client(signer=True)
    ledger.settle_submission(client, job_id, round_, slot)
    view = ledger.subject_of(client, job_id, round_, slot)
    emit({"job": job_id, "round": round_, "slot": slot, "outcome": view.outcome.name}, as_json=settings.as_json,
         title="settled")  # fmt: skip
