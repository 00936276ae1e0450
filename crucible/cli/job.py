"""`crucible job`: post a job (refusing parameters under which cheating pays) and look at its state."""

from __future__ import annotations

import click
from rich.table import Table

from crucible.cli.context import Settings
from crucible.cli.output import console, cru, emit, parse_amount
from crucible.protocol import ledger
from crucible.cli.status import print_rows
from crucible.protocol.jobs import job_records
from crucible.protocol.types import JobKind, JobParams, SlotStatus, Windows


@click.group()
def job() -> None:
    """Post training jobs and follow them."""


@job.command()
@click.option("--kind", type=click.Choice(["pretrain", "sft", "dpo", "grpo"]), required=True)
@click.option("--model", default="tiny", show_default=True, help="Model preset.")
@click.option("--rounds", type=int, default=1, show_default=True)
@click.option("--slots", type=int, default=2, show_default=True, help="Work slots per round.")
@click.option("--intervals", type=int, default=4, show_default=True, help="Checkpoint intervals per slot.")
@click.option("--audit-bps", type=int, default=10_000, show_default=True, help="Audit probability p (basis points).")
@click.option("--miner-reward", default="10", show_default=True, help="CRU per accepted slot.")
@click.option("--collateral", default="20", show_default=True, help="CRU locked per claimed slot.")
@click.option("--compute-cost", required=True, help="CRU a cheat would save on one slot (C).")
@click.option("--collusion", type=float, default=0.1, show_default=True, help="Share of colluding validators (r).")
@click.option("--ipfs-api", envvar="CRUCIBLE_IPFS_API", required=True, help="Kubo RPC multiaddr.")
@click.pass_obj
def create(settings: Settings, kind: str, model: str, rounds: int, slots: int, intervals: int, audit_bps: int,
           miner_reward: str, collateral: str, compute_cost: str, collusion: float, ipfs_api: str) -> None:  # fmt: skip
    """Pin the job's data, spec, tolerance and base on IPFS and fund it, if cheating cannot pay under it."""
    from crucible.artifacts.store import ArtifactStore
    from crucible.sponsor import post_job

    params = JobParams(num_rounds=rounds, slots_per_round=slots, intervals_per_slot=intervals,
                       sampled_intervals=min(2, intervals), audit_bps=audit_bps,
                       miner_reward=parse_amount(miner_reward), miner_collateral=parse_amount(collateral),
                       windows=Windows())  # fmt: skip
    client = settings.client(signer=True)
    posted = post_job(client, ArtifactStore(ipfs_api), kind=kind, model=model, params=params,
                      compute_cost_wei=parse_amount(compute_cost), collusion=collusion)  # fmt: skip
    emit({"job_id": posted.job_id, "spec_cid": posted.spec_cid, "dataset_cid": posted.dataset_cid,
          "tolerance_cid": posted.tolerance_cid, "base_cid": posted.base_cid,
          "sampling_margin": round(posted.check.margin, 3)}, as_json=settings.as_json, title="job posted")  # fmt: skip


@job.command()
@click.argument("job_id", type=int)
@click.pass_obj
def status(settings: Settings, job_id: int) -> None:
    """Show a job's rounds and slots."""
    client = settings.client(signer=False)
    sponsor, state, current = ledger.job_state(client, job_id)
    slots_per_round = ledger.job_params(client, job_id).slots_per_round
    escrow = client.call(client.vault.functions.escrowOf(job_id))
    rows = []
    for slot in range(slots_per_round + 1):
        view = ledger.subject_of(client, job_id, current, slot)
        rows.append({"slot": slot if slot < slots_per_round else f"{slot} (aggregate)", "status": view.status.name,
                     "miner": view.miner if view.status is not SlotStatus.OPEN else "",
                     "outcome": view.outcome.name if view.outcome.value else ""})  # fmt: skip
    if settings.as_json:
        emit({"job_id": job_id, "sponsor": sponsor, "status": state.name, "round": current, "escrow_wei": escrow,
              "slots": rows}, as_json=True)  # fmt: skip
        return
    table = Table(title=f"job {job_id}: round {current}, escrow {cru(escrow)}, sponsor {sponsor}")
    for column in ("slot", "status", "miner", "outcome"):
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(row[c]) for c in ("slot", "status", "miner", "outcome")))
    console.print(table)


@job.command("list")
@click.pass_obj
def list_jobs(settings: Settings) -> None:
    """Every job on this deployment, with its kind, status and round."""
    client = settings.client(signer=False)
    rows = []
    for record in job_records(client):
        _, state, current = ledger.job_state(client, record.job_id)
        rows.append({"job": record.job_id, "kind": JobKind(record.params.kind).name.lower(),
                     "status": state.name, "round": f"{current + 1}/{record.params.num_rounds}",
                     "slots": record.params.slots_per_round, "sponsor": record.sponsor, "spec": record.spec_cid})  # fmt: skip
    if settings.as_json:
        emit({"jobs": rows}, as_json=True)
    else:
        print_rows("jobs", rows)


@job.command()
@click.argument("job_id", type=int)
@click.argument("round_", metavar="ROUND", type=int)
@click.argument("slot", type=int)
@click.pass_obj
def settle(settings: Settings, job_id: int, round_: int, slot: int) -> None:
    """Settle an expired submission (anyone may): pays or slashes its miner. Says from which block if too early."""
    client = settings.client(signer=True)
    ledger.settle_submission(client, job_id, round_, slot)
    view = ledger.subject_of(client, job_id, round_, slot)
    emit({"job": job_id, "round": round_, "slot": slot, "outcome": view.outcome.name}, as_json=settings.as_json,
         title="settled")  # fmt: skip
