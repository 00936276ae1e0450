"""The local network demo: the protocol's whole story on loopback, with a summary and a loss curve in a run folder.

A sponsor posts a pretraining job; two honest miners and two cheaters (one skips optimizer steps, one trains on data
it chose) work its rounds; three validators audit every submission, dispute the cheats and settle. Each round's
accepted results are averaged into the next round's base. Then the sponsor posts an SFT job on the pretraining
result, and the network does it again. At the end: who was paid, who was slashed, whether the books balance to the
wei, and how the held-out loss moved.
"""

from __future__ import annotations

import json
import logging
import time
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
from crucible.engine.evaluate import eval_loss  # noqa: E402
from crucible.localnet.drive import drive, job_settled  # noqa: E402
from crucible.localnet.network import LocalNetwork, start_local_network  # noqa: E402
from crucible.protocol import ledger  # noqa: E402
from crucible.protocol.events import JobCompleted, fetch  # noqa: E402
from crucible.protocol.jobs import accepted_aggregate_cid, fetch_weights, load_job, round_base  # noqa: E402
from crucible.protocol.types import JobKind, JobParams, Outcome, Windows  # noqa: E402
from crucible.reports import rewards, slashes, submissions  # noqa: E402
from crucible.sponsor import post_job  # noqa: E402
from crucible.units import cru  # noqa: E402
from harness.cast import Role, build_cast  # noqa: E402

CHEATS = ["lazy (skipped step)", "data substitution"]
WINDOWS = Windows(submit_window=30, seed_delay=1, checkpoint_reveal_window=10, commit_window=10, reveal_window=10,
                  unseal_window=4, round_claim_window=60)  # fmt: skip


def run_job(net: LocalNetwork, store: ArtifactStore, roles: list[Role], console: Console, *, kind: str, rounds: int,
            base: Any = None, seed: int) -> int:  # fmt: skip
    sponsor = net.client_for(net.accounts[0])
    params = JobParams(kind=JobKind[kind.upper()], num_rounds=rounds, slots_per_round=2 + len(CHEATS),
                       intervals_per_slot=4, sampled_intervals=2, audit_bps=10_000, seats_per_audit=2,
                       committee_size=3, windows=WINDOWS)  # fmt: skip
    posted = post_job(sponsor, store, kind=kind, model="tiny", params=params, compute_cost_wei=2 * 10**18,
                      collusion=0.2, dataset_size=512, seed=seed, base=base, steps_per_interval=4, lr=3e-3)  # fmt: skip
    console.log(f"job {posted.job_id} ({kind}, {rounds} rounds x {params.slots_per_round} slots) posted; "
                f"{posted.check.explain()}")  # fmt: skip
    seen = {"round": -1}
    validators = [r.node for r in roles if r.kind == "validator"]

    def report(_: int) -> None:
        current = ledger.job_state(sponsor, posted.job_id)[2]
        if current != seen["round"]:
            seen["round"] = current
            console.log(f"job {posted.job_id}: round {current} open")

    stats = drive(net, [(r.label, r.node) for r in roles], until=lambda: job_settled(sponsor, validators, posted.job_id),
                  max_passes=3_000, on_pass=report)  # fmt: skip
    console.log(f"job {posted.job_id} completed in {stats.passes} blocks, {stats.seconds:.0f} s")
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


def plot(run_dir: Path, curves: dict[str, list[float]]) -> Path:
    fig, ax = plt.subplots(figsize=(7, 4))
    offset = 0
    for label, points in curves.items():
        xs = list(range(offset, offset + len(points)))
        ax.plot(xs, points, marker="o", label=label)
        offset += len(points) - 1
    ax.set_xlabel("round boundary (pretraining, then SFT on its result)")
    ax.set_ylabel("held-out loss")
    ax.set_title("Crucible demo: the network's model improves round by round")
    ax.grid(alpha=0.3)
    ax.legend()
    path = run_dir / "loss_curve.png"
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def participants(client: ChainClient, roles: list[Role], before: dict[str, int]) -> list[dict[str, Any]]:
    earned = {r["account"]: r["earned_wei"] for r in rewards(client)}
    lost: dict[str, int] = {}
    for row in slashes(client):
        lost[row["account"]] = lost.get(row["account"], 0) + row["slashed_wei"]
    rows = []
    for role in roles:
        staked = ledger.stake_of(client, role.address).staked
        rows.append({"role": role.label, "behaviour": role.behaviour, "address": role.address,
                     "stake_before_wei": before[role.address], "stake_after_wei": staked,
                     "earned_wei": earned.get(role.address, 0), "slashed_wei": lost.get(role.address, 0)})  # fmt: skip
    return rows


def run_demo(run_dir: Path, console: Console, *, pretrain_rounds: int = 3, sft_rounds: int = 2) -> dict[str, object]:
    run_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(run_dir / "network.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.getLogger("crucible").addHandler(handler)
    logging.getLogger("crucible").setLevel(logging.INFO)
    started = time.perf_counter()
    params = ProtocolParams(unbonding_period_blocks=700, epoch_blocks=200)
    with start_local_network(deployments_dir=run_dir, log_dir=run_dir, params=params, with_ipfs=True, accounts=10,
                             progress=console.log) as net:  # fmt: skip
        assert net.kubo is not None
        store = ArtifactStore(net.kubo.api_multiaddr, timeout=30)
        roles = build_cast(net, store, run_dir, honest_miners=2, cheats=CHEATS, validators=3)
        client = net.client
        # A validator's weight counts two epochs after it joins (nobody can join after seeing an audit's randomness):
        # on this local chain, let that time pass at once.
        console.log(f"validators joined; letting {2 * params.epoch_blocks} blocks pass until they can be drawn")
        net.mine(2 * params.epoch_blocks)
        before = {r.address: ledger.stake_of(client, r.address).staked for r in roles}
        console.log("cast: " + ", ".join(f"{r.label} ({r.behaviour})" for r in roles))
        console.rule("pretraining")
        pretrain = run_job(net, store, roles, console, kind="pretrain", rounds=pretrain_rounds, seed=1)
        console.rule("SFT on the pretrained model")
        sft = run_job(net, store, roles, console, kind="sft", rounds=sft_rounds, seed=2,
                      base=final_weights(client, store, pretrain))  # fmt: skip
        for role in roles:
            role.node.claim_rewards()
        curves = {"pretraining (next-token loss)": loss_points(client, store, pretrain),
                  "SFT (response loss)": loss_points(client, store, sft)}  # fmt: skip
        subs = submissions(client)
        cheaters = {r.address for r in roles if r.kind == "miner" and not r.honest}
        caught = sum(1 for s in subs if s["miner"] in cheaters and s["outcome"].startswith("REJECTED"))
        cheated = sum(1 for s in subs if s["miner"] in cheaters)
        honest_rejected = sum(1 for s in subs if s["miner"] not in cheaters and s["outcome"] != Outcome.ACCEPTED.name)
        summary: dict[str, Any] = {
            "jobs": {"pretrain": pretrain, "sft": sft},
            "held_out_loss": curves,
            "participants": participants(client, roles, before),
            "cheating_submissions": cheated,
            "cheating_submissions_rejected": caught,
            "honest_submissions_rejected": honest_rejected,
            "submissions": subs,
            "books": ledger.books(client),
            "books_balance": ledger.books_balance(client),
            "seconds": round(time.perf_counter() - started, 1),
        }
        picture = plot(run_dir, curves)
    logging.getLogger("crucible").removeHandler(handler)
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    (run_dir / "summary.md").write_text(summary_markdown(summary))
    show(console, summary, picture)
    return summary


def summary_markdown(summary: dict[str, Any]) -> str:
    lines = ["| role | behaviour | stake before | stake after | earned | slashed |", "|---|---|---|---|---|---|"]
    for p in summary["participants"]:
        lines.append(f"| {p['role']} | {p['behaviour']} | {cru(p['stake_before_wei'])} | {cru(p['stake_after_wei'])} | "
                     f"{cru(p['earned_wei'])} | {cru(p['slashed_wei'])} |")  # fmt: skip
    lines += ["", f"cheating submissions rejected: {summary['cheating_submissions_rejected']}/"
              f"{summary['cheating_submissions']}; honest submissions rejected: {summary['honest_submissions_rejected']}",
              f"books balance to the wei: {summary['books_balance']}", ""]  # fmt: skip
    for name, points in summary["held_out_loss"].items():
        lines.append(f"{name}: " + " -> ".join(f"{p:.3f}" for p in points))
    return "\n".join(lines) + "\n"


def show(console: Console, summary: dict[str, Any], picture: Path) -> None:
    table = Table(title="who was paid, who was slashed", title_justify="left")
    for column in ("role", "behaviour", "stake before", "stake after", "earned", "slashed"):
        table.add_column(column, no_wrap=column in ("role", "behaviour"))
    for p in summary["participants"]:
        table.add_row(p["role"], p["behaviour"], cru(p["stake_before_wei"]), cru(p["stake_after_wei"]),
                      cru(p["earned_wei"]), cru(p["slashed_wei"]))  # fmt: skip
    console.print(table)
    for name, points in summary["held_out_loss"].items():
        console.print(f"{name}: " + " -> ".join(f"{p:.3f}" for p in points))
    console.print(f"cheating submissions rejected {summary['cheating_submissions_rejected']}/"
                  f"{summary['cheating_submissions']}, honest rejected {summary['honest_submissions_rejected']}, "
                  f"books balance: {summary['books_balance']}, loss curve: {picture}")  # fmt: skip


def default_run_dir() -> Path:
    return Path("runs") / f"demo-{time.strftime('%Y%m%d-%H%M%S')}"
