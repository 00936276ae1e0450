"""The local network demo: the protocol's whole story on loopback, with a summary and a loss curve in a run folder.

A sponsor posts a pretraining job; two honest miners and two cheaters (one skips optimizer steps, one trains on data
it chose) work its rounds; three validators audit every submission, dispute the cheats and settle. Each round's
accepted results are averaged into the next round's base. Then the sponsor posts an SFT job on the pretraining
result, and the network does it again. At the end: who was paid, who was slashed, whether the books balance to the
wei, and how the held-out loss moved.

Every miner and validator is its own OS process (`crucible miner run` / `crucible validator run`; the cheaters
through `python -m crucible.simulation.process`), with its own keystore, journal and log, started and watched by the
supervisor, against a chain that mines a block a second by itself (interval mining, as `crucible network up` runs
it). Only the validators' two-epoch wait before they can be drawn is skipped at once (a local-chain shortcut).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the headless backend
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from crucible.artifacts.store import ArtifactStore  # noqa: E402
from crucible.chain.client import ChainClient  # noqa: E402
from crucible.chain.deployment import ProtocolParams  # noqa: E402
from crucible.engine.bundle import fetch_manifest  # noqa: E402
from crucible.engine.evaluate import eval_loss  # noqa: E402
from crucible.errors import CrucibleError  # noqa: E402
from crucible.localnet.network import LocalNetwork, start_local_network  # noqa: E402
from crucible.protocol import ledger  # noqa: E402
from crucible.protocol.events import (  # noqa: E402  # noqa: E402
    EscrowDeposited,
    EscrowPaid,
    EscrowPooled,
    JobCompleted,
    JobCreated,
    PoolReturnedToEscrow,
    SeatSettled,
    fetch,
)
from crucible.protocol.jobs import accepted_aggregate_cid, fetch_weights, load_job, round_base, submission  # noqa: E402
from crucible.protocol.types import JobKind, JobParams, Outcome, Windows  # noqa: E402
from crucible.reports import rewards, slashes, submissions  # noqa: E402
from crucible.simulation.cast import Role, cast, plan, specs, wait_ready  # noqa: E402
from crucible.simulation.observe import holdings, job_resolved, reconcile  # noqa: E402
from crucible.simulation.supervisor import Supervisor, interrupted_by_signals  # noqa: E402
from crucible.sponsor import post_job  # noqa: E402
from crucible.units import cru  # noqa: E402

CHEATS = ["lazy (skipped step)", "data substitution"]
WINDOWS = Windows(submit_window=30, seed_delay=1, checkpoint_reveal_window=10, commit_window=10, reveal_window=10,
                  unseal_window=4, round_claim_window=60)  # fmt: skip
JOB = JobParams(slots_per_round=2 + len(CHEATS), intervals_per_slot=4, sampled_intervals=2, audit_bps=10_000,
                seats_per_audit=2, committee_size=3, windows=WINDOWS)  # fmt: skip
BLOCK_TIME_S = 1
POLL_S = 1.0
JOB_TIMEOUT_S = 1_800  # a job that takes this long is stuck, not slow
PARAMS = {k: getattr(JOB, k) for k in ("slots_per_round", "audit_bps", "seats_per_audit", "committee_size",
                                        "miner_reward", "validator_reward", "aggregator_reward", "miner_collateral",
                                        "miner_slash_bps", "bounty_bps", "validator_slash")}  # fmt: skip


def run_job(net: LocalNetwork, store: ArtifactStore, supervisor: Supervisor, console: Console, *, kind: str,
            rounds: int, base: Any = None, seed: int) -> int:  # fmt: skip
    """Posts a job and watches the role processes until it is resolved (every slot and seat of it settled)."""
    sponsor = net.client_for(net.accounts[0])
    params = replace(JOB, kind=JobKind[kind.upper()], num_rounds=rounds)
    posted = post_job(sponsor, store, kind=kind, model="tiny", params=params, compute_cost_wei=2 * 10**18,
                      collusion=0.2, dataset_size=512, seed=seed, base=base, steps_per_interval=4, lr=3e-3)  # fmt: skip
    console.log(f"job {posted.job_id} ({kind}, {rounds} rounds x {params.slots_per_round} slots) posted; "
                f"{posted.check.explain()}")  # fmt: skip
    first = sponsor.block_number()
    seen = {"round": -1}

    def report() -> None:
        current = ledger.job_state(sponsor, posted.job_id).round
        if current != seen["round"]:
            seen["round"] = current
            console.log(f"job {posted.job_id}: round {current} open (block {sponsor.block_number()})")

    seconds = supervisor.run(lambda: job_resolved(sponsor, posted.job_id), timeout=JOB_TIMEOUT_S, every=2.0,
                             on_tick=report)  # fmt: skip
    console.log(f"job {posted.job_id} resolved in {sponsor.block_number() - first} blocks, {seconds:.0f} s")
    return posted.job_id


def loss_points(client: ChainClient, store: ArtifactStore, job_id: int) -> list[float]:
    """Held-out loss of every round's base and of the final aggregate."""
    job = load_job(client, store, job_id)
    points = [eval_loss(job.spec.kind, job.spec.model, round_base(client, store, job, r))
              for r in range(job.record.params.num_rounds)]  # fmt: skip
    final = final_weights(client, store, job_id)
    points.append(eval_loss(job.spec.kind, job.spec.model, final))
    return points


def final_weights(client: ChainClient, store: ArtifactStore, job_id: int) -> Any:
    job = load_job(client, store, job_id)
    last = job.record.params.num_rounds - 1
    digest = fetch(client, JobCompleted, job_id=job_id)[-1].final_checkpoint_digest
    return fetch_weights(store, accepted_aggregate_cid(client, job.record, last), digest, job.spec)


def submission_losses(client: ChainClient, store: ArtifactStore, job_id: int) -> list[dict[str, Any]]:
    """Held-out loss of every work submission's result, accepted or rejected, read through its committed digests
    (a result that cannot be fetched or loaded is left out)."""
    job = load_job(client, store, job_id)
    slots = job.record.params.slots_per_round
    out = []
    for row in submissions(client, job_id):
        if row["slot"] >= slots or row["outcome"] == "PENDING":
            continue
        try:
            submitted = submission(client, job_id, row["round"], row["slot"])
            c = submitted.commitment
            manifest = fetch_manifest(store, submitted.bundle_cid, merkle_root=c.merkle_root,
                                      result_digest=c.result_digest)  # fmt: skip
            weights = fetch_weights(store, manifest["artifacts"]["result"]["cid"], c.result_digest, job.spec)
        except (CrucibleError, KeyError, ValueError):
            continue
        out.append({"round": row["round"], "slot": row["slot"], "miner": row["miner"], "outcome": row["outcome"],
                    "loss": eval_loss(job.spec.kind, job.spec.model, weights)})  # fmt: skip
    return out


def plot(run_dir: Path, curves: dict[str, list[float]], points: dict[str, list[dict[str, Any]]] | None = None) -> Path:
    path = run_dir / "loss_curve.png"
    fig = loss_figure(curves, points or {})
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def loss_figure(curves: dict[str, list[float]], points: dict[str, list[dict[str, Any]]]) -> Any:
    """One panel per job (their losses are different measures): the network's model at each round boundary (the
    round's base, then the final aggregate), and every work submission's result at the end of its round, the
    rejected ones marked."""
    fig, axes = plt.subplots(1, len(curves), figsize=(6 * len(curves), 4.2), squeeze=False)
    for ax, (label, curve) in zip(axes[0], curves.items(), strict=True):
        ax.plot(range(len(curve)), curve, marker="o", color="tab:blue", label="the network's model (round bases, final)")
        subs = points.get(label, [])
        accepted = [p for p in subs if p["outcome"] == "ACCEPTED"]
        rejected = [p for p in subs if p["outcome"] != "ACCEPTED"]
        if accepted:
            ax.scatter([p["round"] + 1 for p in accepted], [p["loss"] for p in accepted], s=18, color="tab:green",
                       alpha=0.7, label="accepted submissions", zorder=3)  # fmt: skip
        if rejected:
            ax.scatter([p["round"] + 1 for p in rejected], [p["loss"] for p in rejected], marker="x", s=60,
                       color="tab:red", label="rejected submissions (cheats caught)", zorder=4)  # fmt: skip
        ax.set_title(label)
        ax.set_xlabel("round boundary (0: the job's base)")
        ax.set_ylabel("held-out loss")
        ax.set_xticks(range(len(curve)))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Crucible demo: held-out loss per job, round by round")
    fig.tight_layout()
    return fig


def participants(client: ChainClient, roles: list[Role], before: dict[str, int]) -> list[dict[str, Any]]:
    earned = {r["account"]: r["earned_wei"] for r in rewards(client)}
    lost: dict[str, int] = {}
    for row in slashes(client):
        lost[row["account"]] = lost.get(row["account"], 0) + row["slashed_wei"]
    subs = submissions(client)
    seats = seat_settlements(client)
    rows = []
    for role in roles:
        staked = ledger.stake_of(client, role.address).staked
        rows.append({"role": role.label, "behaviour": role.behaviour, "address": role.address,
                     "stake_before_wei": before[role.address], "stake_after_wei": staked,
                     "earned_wei": earned.get(role.address, 0), "slashed_wei": lost.get(role.address, 0),
                     "why": why(role, subs, seats)})  # fmt: skip
    return rows


def seat_settlements(client: ChainClient) -> list[dict[str, Any]]:
    """Every settled verdict seat: who sat, what it was paid, what it lost."""
    return [{"validator": e.validator, "paid_wei": e.paid, "slashed_wei": e.slashed} for e in fetch(client, SeatSettled)]


def why(role: Role, subs: list[dict[str, Any]], seats: list[dict[str, Any]]) -> str:
    """The amounts of one participant, counted out: which settlements they come from."""
    if role.kind == "miner":
        mine = [s for s in subs if s["miner"] == role.address]
        slots = PARAMS["slots_per_round"]
        work = [s for s in mine if s["slot"] < slots and s["outcome"] == "ACCEPTED"]
        aggregates = [s for s in mine if s["slot"] >= slots and s["outcome"] == "ACCEPTED"]
        rejected = [s for s in mine if s["outcome"].startswith("REJECTED")]
        parts = []
        if work:
            parts.append(f"{len(work)} work slots accepted x {cru(PARAMS['miner_reward'])}")
        if aggregates:
            parts.append(f"{len(aggregates)} aggregates accepted x {cru(PARAMS['aggregator_reward'])}")
        if rejected:
            parts.append(f"{len(rejected)} submissions rejected: each lost its {cru(PARAMS['miner_collateral'])} "
                         f"collateral and {PARAMS['miner_slash_bps'] / 100:g}% of its stake")  # fmt: skip
        return "; ".join(parts) or "no submission settled"
    mine = [s for s in seats if s["validator"] == role.address]
    won = [s for s in mine if s["paid_wei"]]
    lost = [s for s in mine if s["slashed_wei"]]
    parts = []
    if won:
        parts.append(f"{len(won)} seats on the winning side: {cru(PARAMS['validator_reward'])} per audit seat plus "
                     f"a share of the cheats' slashes, {cru(sum(s['paid_wei'] for s in won))} in all")  # fmt: skip
    if lost:
        parts.append(f"{len(lost)} seats lost or never revealed: {cru(PARAMS['validator_slash'])} each")
    return "; ".join(parts) or "no seat settled"


def sponsor_row(client: ChainClient, sponsor: str, job_ids: list[int]) -> dict[str, Any]:
    """Where the sponsor's escrow went, from the vault's events: paid to miners, set aside for seat rewards, and what
    came back into it (the part of the cheaters' slashes that is not bounty, rewards no seat won)."""

    def total(kind: Any, amount: Callable[[Any], int] = lambda e: e.amount) -> int:
        return sum(amount(e) for job in job_ids for e in fetch(client, kind, job_id=job))

    escrowed = total(JobCreated, lambda e: e.escrow)
    deposited = total(EscrowDeposited)
    paid = total(EscrowPaid)
    pooled = total(EscrowPooled)
    returned = deposited - escrowed + total(PoolReturnedToEscrow)
    left = sum(int(client.call(client.vault.functions.escrowOf(j))) for j in job_ids)
    return {"role": "sponsor", "address": sponsor, "escrowed_wei": escrowed, "paid_to_miners_wei": paid,
            "seat_rewards_wei": pooled, "returned_wei": returned, "escrow_left_wei": left,
            "wallet_after_wei": int(client.call(client.token.functions.balanceOf(sponsor)))}  # fmt: skip


def run_demo(run_dir: Path, console: Console, *, pretrain_rounds: int = 3, sft_rounds: int = 2,
             evm: str | None = None) -> dict[str, object]:  # fmt: skip
    run_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(run_dir / "network.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.getLogger("crucible").addHandler(handler)
    logging.getLogger("crucible").setLevel(logging.INFO)
    started, wall_start = time.perf_counter(), time.time()
    params = ProtocolParams(unbonding_period_blocks=700, epoch_blocks=200)
    members = plan(honest_miners=2, cheats=CHEATS, validators=3)
    with interrupted_by_signals(), start_local_network(deployments_dir=run_dir, log_dir=run_dir, params=params,
                                                       with_ipfs=True, accounts=len(members) + 1,
                                                       progress=console.log, evm=evm) as net:  # fmt: skip
        assert net.kubo is not None
        store = ArtifactStore(net.kubo.api_multiaddr, timeout=30)
        client = net.client
        roles = cast(net, run_dir, members)
        holdings_before = {r.address: holdings(client, r.address) for r in roles}
        supervisor = Supervisor(specs(net, roles, run_dir, poll=POLL_S), restart=True,
                                log=lambda line: logging.getLogger("crucible.supervisor").info(line))  # fmt: skip
        try:
            console.log(f"starting {len(roles)} role processes: " + ", ".join(f"{r.label} ({r.behaviour})" for r in roles))
            supervisor.start_all()
            wait_ready(client, roles, supervisor.watch, timeout=300)
            # A validator's weight counts two epochs after it joins (nobody can join after seeing an audit's
            # randomness): on this local chain, let that time pass at once, then mine a block a second.
            console.log(f"every role staked; letting {2 * params.epoch_blocks} blocks pass until validators can be "
                        f"drawn, then a block every {BLOCK_TIME_S} s")  # fmt: skip
            net.mine(2 * params.epoch_blocks + 1)
            net.chain.set_block_time(BLOCK_TIME_S)
            before = {r.address: ledger.stake_of(client, r.address).staked for r in roles}
            console.rule("pretraining")
            pretrain = run_job(net, store, supervisor, console, kind="pretrain", rounds=pretrain_rounds, seed=1)
            console.rule("SFT on the pretrained model")
            sft = run_job(net, store, supervisor, console, kind="sft", rounds=sft_rounds, seed=2,
                          base=final_weights(client, store, pretrain))  # fmt: skip
        finally:
            exits = supervisor.stop_all()
        usage = supervisor.usage()
        curves = {"pretraining (next-token loss)": loss_points(client, store, pretrain),
                  "SFT (response loss)": loss_points(client, store, sft)}  # fmt: skip
        points = {"pretraining (next-token loss)": submission_losses(client, store, pretrain),
                  "SFT (response loss)": submission_losses(client, store, sft)}  # fmt: skip
        subs = submissions(client)
        cheaters = {r.address for r in roles if r.kind == "miner" and not r.honest}
        caught = sum(1 for s in subs if s["miner"] in cheaters and s["outcome"].startswith("REJECTED"))
        cheated = sum(1 for s in subs if s["miner"] in cheaters)
        honest_rejected = sum(1 for s in subs if s["miner"] not in cheaters and s["outcome"] != Outcome.ACCEPTED.name)
        unreconciled = reconcile(client, [r.address for r in roles], holdings_before)
        summary: dict[str, Any] = {
            "started": time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(wall_start)),
            "evm": net.evm,
            "block_time_s": BLOCK_TIME_S,
            "jobs": {"pretrain": pretrain, "sft": sft},
            "rounds": {"pretrain": pretrain_rounds, "sft": sft_rounds},
            "blocks": [client.deployment.deployed_at_block, client.block_number()],
            "params": PARAMS,
            "sponsor": sponsor_row(client, net.accounts[0].address, [pretrain, sft]),
            "submission_losses": points,
            "held_out_loss": curves,
            "participants": participants(client, roles, before),
            "processes": {label: {**u, "stopped_with": exits.get(label)} for label, u in usage.items()},
            "cheating_submissions": cheated,
            "cheating_submissions_rejected": caught,
            "honest_submissions_rejected": honest_rejected,
            "submissions": subs,
            "books": ledger.books(client),
            "books_balance": ledger.books_balance(client) and not unreconciled,
            "accounts_unreconciled": unreconciled,
            "seconds": round(time.perf_counter() - started, 1),
        }
        picture = plot(run_dir, curves, points)
    logging.getLogger("crucible").removeHandler(handler)
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    (run_dir / "summary.md").write_text(summary_markdown(summary))
    show(console, summary, picture)
    return summary


def summary_markdown(summary: dict[str, Any]) -> str:
    """The run's story for a reader who was not there: what happened, who gained and lost what, and why."""
    p = summary["params"]
    subs = summary["submissions"]
    minutes, seconds = divmod(int(summary["seconds"]), 60)
    first, last = summary["blocks"]
    sponsor = summary["sponsor"]
    honest = len(subs) - summary["cheating_submissions"]
    lines = [
        "# Crucible demo",
        "",
        f"Run on {summary['started']}; took {minutes} min {seconds} s (chain blocks {first} to {last}).",
        "",
        "## What happened",
        "",
        f"A sponsor posted a {summary['rounds']['pretrain']}-round pretraining job (job {summary['jobs']['pretrain']}),"
        f" then a {summary['rounds']['sft']}-round SFT job (job {summary['jobs']['sft']}) that starts from the "
        f"pretrained model. Each round has {p['slots_per_round']} work slots and one aggregation slot. Two honest "
        "miners and two cheaters (one skips optimizer steps, one trains on data it chose) claimed the slots, trained "
        "and submitted; every submission was audited (audit probability "
        f"{p['audit_bps'] / 100:g}%) by {p['seats_per_audit']} validators drawn at random, who replayed sampled "
        "intervals; a failed audit opened a dispute decided by a committee of "
        f"{p['committee_size']}. Each round's accepted results were averaged into the next round's base.",
        "",
        f"- {len(subs)} submissions: {honest} honest ({summary['honest_submissions_rejected']} rejected), "
        f"{summary['cheating_submissions']} cheating ({summary['cheating_submissions_rejected']} rejected).",
        f"- The books balance to the wei: {'yes' if summary['books_balance'] else 'NO'} (every token the contracts "
        "hold is a stake, an unbonding amount, an escrow, a pooled bounty or an unclaimed reward).",
        "",
        "## Who paid and who was paid",
        "",
        "| role | behaviour | stake before | stake after | earned | slashed | how |",
        "|---|---|---|---|---|---|---|",
        f"| sponsor | posts and funds both jobs | - | - | - | - | escrowed {cru(sponsor['escrowed_wei'])}; paid "
        f"miners {cru(sponsor['paid_to_miners_wei'])} and set aside {cru(sponsor['seat_rewards_wei'])} for seats; "
        f"{cru(sponsor['returned_wei'])} came back (slashes beyond the bounties, rewards no seat won), so "
        f"{cru(sponsor['escrow_left_wei'])} is left in escrow (refundable) |",
    ]
    for row in summary["participants"]:
        lines.append(f"| {row['role']} | {row['behaviour']} | {cru(row['stake_before_wei'])} | "
                     f"{cru(row['stake_after_wei'])} | {cru(row['earned_wei'])} | {cru(row['slashed_wei'])} | "
                     f"{row.get('why', '')} |")  # fmt: skip
    lines += [
        "",
        "## Why these amounts",
        "",
        f"- An accepted work slot pays its miner {cru(p['miner_reward'])} from the job's escrow; an accepted aggregate "
        f"pays its aggregator {cru(p['aggregator_reward'])}.",
        f"- Claiming a slot locks {cru(p['miner_collateral'])} of the miner's stake as collateral. A rejected "
        f"submission loses it, plus {p['miner_slash_bps'] / 100:g}% of the miner's stake: that is the cheaters' "
        "\"slashed\" column and why their stake went down.",
        f"- An audit seat whose verdict matches the outcome earns {cru(p['validator_reward'])}; the seats on the "
        f"winning side of a rejected submission also share {p['bounty_bps'] / 100:g}% of what its miner was slashed "
        f"(the bounty). A seat that loses or never reveals is slashed {cru(p['validator_slash'])}.",
        "- \"Earned\" is credited in the reward vault (claimable); it is not part of the stake, so an honest miner's "
        "stake after equals its stake before.",
        "- The sponsor escrows, per round, every slot's reward and a full audit panel for each slot and for the "
        "aggregate. Seat rewards move from the escrow into each submission's pool; what no seat wins, and the part "
        "of a cheater's slash that is not bounty, go back into the job's escrow: that is why a job with cheaters can "
        "end with more escrow left than it started with after paying for its honest work.",
        "",
        "## Held-out loss",
        "",
    ]
    for name, points in summary["held_out_loss"].items():
        lines.append(f"- {name}: " + " -> ".join(f"{x:.3f}" for x in points) + " (each round's base, then the final "
                     "model)")  # fmt: skip
    lines += ["", "![held-out loss per job; rejected submissions marked](loss_curve.png)", ""]
    if summary.get("processes"):
        lines += ["## Processes", "",
                  f"Every role ran as its own process on a chain mining a block every {summary.get('block_time_s')} s "
                  f"({summary.get('evm', 'anvil')}); CPU over the whole run, peak memory, restarts by the supervisor:",
                  "", "| role | CPU s | peak MiB | restarts | exit |", "|---|---|---|---|---|"]  # fmt: skip
        for label, u in summary["processes"].items():
            lines.append(f"| {label} | {u['cpu_s']} | {u['peak_rss_mib']} | {u['restarts']} | {u.get('stopped_with')} |")
        lines.append("")
    return "\n".join(lines)


def show(console: Console, summary: dict[str, Any], picture: Path) -> None:
    table = Table(title="who was paid, who was slashed", title_justify="left")
    for column in ("role", "behaviour", "stake before", "stake after", "earned", "slashed"):
        table.add_column(column, no_wrap=column in ("role", "behaviour"))
    sponsor = summary["sponsor"]
    table.add_row("sponsor", f"escrowed {cru(sponsor['escrowed_wei'])}, {cru(sponsor['escrow_left_wei'])} left", "-",
                  "-", "-", "-")  # fmt: skip
    for p in summary["participants"]:
        table.add_row(p["role"], p["behaviour"], cru(p["stake_before_wei"]), cru(p["stake_after_wei"]),
                      cru(p["earned_wei"]), cru(p["slashed_wei"]))  # fmt: skip
    console.print(table)
    console.print("why each amount: see summary.md")
    for name, points in summary["held_out_loss"].items():
        console.print(f"{name}: " + " -> ".join(f"{p:.3f}" for p in points))
    console.print(f"cheating submissions rejected {summary['cheating_submissions_rejected']}/"
                  f"{summary['cheating_submissions']}, honest rejected {summary['honest_submissions_rejected']}, "
                  f"books balance: {summary['books_balance']}, loss curve: {picture}")  # fmt: skip


def default_run_dir() -> Path:
    return Path("runs") / f"demo-{time.strftime('%Y%m%d-%H%M%S')}"
