"""Soak benchmark: the multi-process network under chaos for `--minutes` (30 by default), then the books.

Every miner and validator is its own process (crucible/simulation/cast.py) behind its own port of a loopback RPC relay; the
chain mines a block every `--block-time` seconds. A sponsor keeps `--active-jobs` jobs open, posting a new one
whenever one finishes. Every `--chaos-every` seconds (on average) one fault, chosen at random:

- kill: SIGKILL a random role; the supervisor starts it again 1-8 s later (a crash, a power cut, an OOM kill);
- term: SIGTERM a random role (a service manager's stop, or a deploy), started again 1-5 s later;
- kubo: Kubo stopped for 3-10 s and started again on the same repository and ports;
- outage: every relay port refuses connections for 3-15 s (the RPC provider down);
- errors: one role's RPC fails one request in three (HTTP 503 / JSON-RPC -32603) for 20-40 s;
- lagging: one role's RPC serves a chain 2-4 blocks old for 10-20 s.

Faults never overlap and each ends well inside the job windows (`--window` blocks), so an honest role that comes
back must still make every deadline. Then the chaos stops, the open jobs run to the end, and the checks:

- nothing lost: every job completed; every honest submission accepted; no honest slot vacated or expired; no honest
  validator's seat slashed;
- nothing done twice: each role sent each submit, checkpoint reveal, verdict commit and verdict reveal of a slot or
  seat at most once (counted from the blocks, reverted transactions included); each honest miner trained each slot
  to the end once (its journal);
- every journal's history fits the daemons' state tables;
- books: the contracts' balances equal their liabilities, and every role's holdings equal its starting holdings plus
  what it was credited minus what it was slashed, to the wei.

    python scripts/soak_network.py --minutes 30 --json docs/bench/soak.json
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from crucible.artifacts.store import ArtifactStore
from crucible.chain.client import ChainClient
from crucible.chain.deployment import ProtocolParams
from crucible.errors import CrucibleError
from crucible.journal import Journal
from crucible.localnet.network import LocalNetwork, start_local_network
from crucible.node import JOB_LIFECYCLE
from crucible.protocol import ledger
from crucible.protocol.events import SeatSettled, SlotVacated, VerdictRevealed, fetch
from crucible.protocol.presets import scaled_windows
from crucible.protocol.timelines import longest_resolution
from crucible.protocol.types import JobKind, JobParams, JobStatus
from crucible.reports import submissions
from crucible.simulation.cast import Role, cast, plan, specs, wait_ready
from crucible.simulation.observe import holdings, job_resolved, percentile, reconcile, settlements
from crucible.simulation.rpc_relay import Mode, RpcRelay
from crucible.simulation.supervisor import Supervisor, interrupted_by_signals
from crucible.sponsor import post_job
from miner.daemon import LIFECYCLE as SLOT_LIFECYCLE
from validator.daemon import SEAT_LIFECYCLE, SUBJECT_LIFECYCLE

log = logging.getLogger("soak")
FAULTS = ("kill", "term", "kubo", "outage", "errors", "lagging")
# The transactions a role must never send twice for one slot or seat (the function and the arguments that name it).
ONCE = {"submit": 3, "revealCheckpoints": 3, "commitVerdict": 5, "revealVerdict": 5}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0, help="minutes of chaos")
    parser.add_argument("--miners", type=int, default=4, help="honest miners")
    parser.add_argument("--cheaters", type=int, default=1)
    parser.add_argument("--validators", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2, help="rounds per job")
    parser.add_argument("--active-jobs", type=int, default=2, help="jobs kept open at once")
    parser.add_argument("--block-time", type=int, default=1)
    parser.add_argument("--window", type=int, default=30, help="checkpoint-reveal, commit and reveal windows (blocks)")
    parser.add_argument("--chaos-every", type=float, default=40.0, help="mean seconds between faults")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--evm", choices=["anvil", "hardhat"], default=None)
    parser.add_argument("--keep", type=Path, help="keep the run's files (logs, journals) here")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("crucible").setLevel(logging.WARNING)

    root = args.keep or Path(tempfile.mkdtemp(prefix="crucible-soak-"))
    root.mkdir(parents=True, exist_ok=True)
    windows = scaled_windows(args.window)
    epoch = longest_resolution(windows) + 1
    protocol = ProtocolParams(unbonding_period_blocks=3 * epoch + 100, epoch_blocks=epoch)
    members = plan(honest_miners=args.miners, cheats=["lazy (skipped step)"] * args.cheaters, validators=args.validators)
    with interrupted_by_signals(), start_local_network(
        deployments_dir=root, log_dir=root, with_ipfs=True, accounts=len(members) + 1, params=protocol, evm=args.evm
    ) as net, RpcRelay(net.rpc_url) as relay:
        roles = cast(net, root, members)
        ports = {role.label: relay.add(role.label) for role in roles}
        supervisor = Supervisor(specs(net, roles, root, poll=1.0, rpc_url_of=lambda r: ports[r.label].url),
                                log=log.info)  # fmt: skip
        try:
            figures = soak(args, net, roles, supervisor, relay, windows, epoch)
        finally:
            supervisor.stop_all()
        figures["processes"] = supervisor.usage()
        figures["journal_violations"] = journal_violations(roles)
    figures["run_dir"] = str(root)
    figures["passed"] = all(figures["checks"].values()) and not figures["journal_violations"]
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0 if figures["passed"] else 1


def soak(args: argparse.Namespace, net: LocalNetwork, roles: list[Role], supervisor: Supervisor, relay: RpcRelay,
         windows: Any, epoch: int) -> dict[str, Any]:  # fmt: skip
    client = net.client
    rng = random.Random(args.seed)
    before = {r.address: holdings(client, r.address) for r in roles}
    supervisor.start_all()
    wait_ready(client, roles, supervisor.watch, timeout=600)
    net.mine(2 * epoch + 1)
    net.chain.set_block_time(args.block_time)
    first_block = client.block_number()
    sponsor = net.client_for(net.accounts[0])
    params = JobParams(kind=JobKind.PRETRAIN, num_rounds=args.rounds, slots_per_round=args.miners + args.cheaters,
                       intervals_per_slot=4, sampled_intervals=2, audit_bps=10_000, seats_per_audit=2,
                       committee_size=3, windows=windows)  # fmt: skip
    jobs: list[int] = []
    faults: Counter[str] = Counter()
    injected_rpc_failures = 0
    started = time.monotonic()
    end_of_chaos = started + args.minutes * 60
    next_fault = started + rng.expovariate(1 / args.chaos_every)
    log.info("chaos for %.0f min on %d roles (block %d)", args.minutes, len(roles), first_block)
    while time.monotonic() < end_of_chaos:
        supervisor.watch()
        open_jobs = [j for j in jobs if not ledger.job_state(client, j).status.finished]
        if len(open_jobs) < args.active_jobs:
            job = post(net, sponsor, params, seed=len(jobs))
            if job is not None:
                jobs.append(job)
                log.info("posted job %d (%d open)", job, len(open_jobs) + 1)
        if time.monotonic() >= next_fault:
            kind = rng.choice(FAULTS)
            injected_rpc_failures += fault(kind, rng, net, roles, supervisor, relay)
            faults[kind] += 1
            next_fault = time.monotonic() + max(20.0, rng.expovariate(1 / args.chaos_every))
        time.sleep(1.0)
    chaos_minutes = (time.monotonic() - started) / 60
    relay.set_mode(Mode.PASS)
    log.info("chaos over after %.1f min (%s); letting jobs %s finish", chaos_minutes, dict(faults), jobs)
    supervisor.run(lambda: all(job_resolved(client, j) for j in jobs), timeout=1_800, every=2.0)
    last_block = client.block_number()
    return {
        "evm": net.evm, "block_time_s": args.block_time, "window_blocks": args.window, "seed": args.seed,
        "cast": {"miners": args.miners, "cheaters": args.cheaters, "validators": args.validators},
        "chaos_minutes": round(chaos_minutes, 1), "total_minutes": round((time.monotonic() - started) / 60, 1),
        "blocks": last_block - first_block, "faults": dict(faults), "rpc_failures_injected": injected_rpc_failures,
        "restarts": {label: r.restarts for label, r in supervisor.roles.items()},
        **outcome(client, roles, jobs, before, first_block, last_block),
    }  # fmt: skip


def post(net: LocalNetwork, sponsor: ChainClient, params: JobParams, *, seed: int) -> int | None:
    """Posts a job; while Kubo is away (a fault) it is simply posted later."""
    assert net.kubo is not None
    try:
        return post_job(sponsor, ArtifactStore(net.kubo.api_multiaddr, timeout=20), kind="pretrain", model="tiny",
                        params=params, compute_cost_wei=10**18, collusion=0.1, seed=100 + seed,
                        steps_per_interval=4).job_id  # fmt: skip
    except CrucibleError as exc:
        log.info("posting a job failed (%s); retrying later", exc)
        return None


def fault(kind: str, rng: random.Random, net: LocalNetwork, roles: list[Role], supervisor: Supervisor,
          relay: RpcRelay) -> int:  # fmt: skip
    """Injects one fault and waits it out (roles keep running meanwhile). Returns RPC failures it injected."""
    role = rng.choice(roles)
    if kind in ("kill", "term"):
        signum = signal.SIGKILL if kind == "kill" else signal.SIGTERM
        back = rng.uniform(1, 8) if kind == "kill" else rng.uniform(1, 5)
        log.info("fault: %s %s, back in %.0f s", signal.Signals(signum).name, role.label, back)
        supervisor.signal(role.label, signum, restart_after=back)
        return 0
    if kind == "kubo":
        assert net.kubo is not None
        down = rng.uniform(3, 10)
        log.info("fault: Kubo stopped for %.0f s", down)
        net.kubo.stop()
        wait(supervisor, down)
        net.kubo = net.kubo.restart(same_ports=True)
        return 0
    port = relay.ports[role.label]
    before = sum(p.failed for p in relay.ports.values())
    if kind == "outage":
        down = rng.uniform(3, 15)
        log.info("fault: the RPC is down for everyone for %.0f s", down)
        relay.set_mode(Mode.DOWN)
        wait(supervisor, down)
    elif kind == "errors":
        down = rng.uniform(20, 40)
        log.info("fault: %s's RPC fails one request in three for %.0f s", role.label, down)
        relay.set_mode(Mode.ERRORS, role.label, every=3)
        wait(supervisor, down)
    else:
        down, lag = rng.uniform(10, 20), rng.randint(2, 4)
        log.info("fault: %s's RPC lags %d blocks for %.0f s", role.label, lag, down)
        relay.set_mode(Mode.LAGGING, role.label, lag=lag)
        wait(supervisor, down)
    relay.set_mode(Mode.PASS, *([] if kind == "outage" else [port.name]))
    return sum(p.failed for p in relay.ports.values()) - before


def wait(supervisor: Supervisor, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        supervisor.watch()
        time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))


def outcome(client: ChainClient, roles: list[Role], jobs: list[int], before: dict[str, int], first: int,
            last: int) -> dict[str, Any]:  # fmt: skip
    honest_miners = {r.address.lower() for r in roles if r.kind == "miner" and r.honest}
    honest_validators = {r.address.lower() for r in roles if r.kind == "validator" and r.honest}
    subs = [s for j in jobs for s in submissions(client, j)]
    honest_subs = [s for s in subs if s["miner"].lower() in honest_miners]
    cheats = [s for s in subs if s["miner"].lower() not in honest_miners]
    vacated_honest = [v for v in fetch(client, SlotVacated, from_block=first) if v.miner.lower() in honest_miners]
    seats_slashed = [s for s in fetch(client, SeatSettled, from_block=first)
                     if s.validator.lower() in honest_validators and s.slashed]  # fmt: skip
    statuses = Counter(ledger.job_state(client, j).status.name for j in jobs)
    repeats = repeated_transactions(client, {r.address.lower() for r in roles}, first, last)
    retrained = retrained_slots(roles)
    unreconciled = reconcile(client, [r.address for r in roles], before)
    settled = settlements(client, first)
    latency = [s.seconds for s in settled]
    return {
        "jobs": len(jobs), "job_statuses": dict(statuses), "submissions": len(subs),
        "honest_submissions": len(honest_subs), "cheating_submissions": len(cheats),
        "verdicts": len(fetch(client, VerdictRevealed, from_block=first)), "settlements": len(settled),
        "latency_s": {"p50": percentile(latency, 50), "p95": percentile(latency, 95)},
        "honest_not_accepted": [s for s in honest_subs if s["outcome"] != "ACCEPTED"],
        "cheats_not_rejected": [s for s in cheats if not s["outcome"].startswith("REJECTED")],
        "honest_slots_vacated": len(vacated_honest), "honest_seats_slashed": len(seats_slashed),
        "repeated_transactions": repeats, "retrained_slots": retrained,
        "books": ledger.books(client), "accounts_unreconciled": unreconciled,
        "checks": {
            "every job completed": statuses.get(JobStatus.COMPLETED.name, 0) == len(jobs),
            "every honest submission accepted": all(s["outcome"] == "ACCEPTED" for s in honest_subs),
            "every cheat rejected": all(s["outcome"].startswith("REJECTED") for s in cheats),
            "no honest slot vacated": not vacated_honest,
            "no honest seat slashed": not seats_slashed,
            "nothing sent twice": not repeats,
            "no finished run trained again": not retrained,
            "contracts' books balance": ledger.books_balance(client),
            "every account reconciles to the wei": not unreconciled,
        },
    }  # fmt: skip


def repeated_transactions(client: ChainClient, senders: set[str], first: int, last: int) -> list[dict[str, Any]]:
    """Actions a role sent again after the same action (same function, same slot or seat) had already succeeded: a
    role that forgot what it did. (A retry after a revert is not one: the action had not happened.)"""
    done: set[tuple[str, str, tuple[Any, ...]]] = set()
    out = []
    ledger_address = client.ledger.address.lower()
    for number in range(first, last + 1):
        for tx in client.w3.eth.get_block(number, full_transactions=True)["transactions"]:
            sender = str(tx["from"]).lower()
            if sender not in senders or str(tx.get("to") or "").lower() != ledger_address:
                continue
            fn, arguments = client.ledger.decode_function_input(tx["input"])
            if fn.fn_name not in ONCE:
                continue
            key = (sender, fn.fn_name, tuple(arguments[n] for n in list(arguments)[: ONCE[fn.fn_name]]))
            if key in done:
                out.append({"sender": sender, "function": fn.fn_name, "arguments": [str(a) for a in key[2]],
                            "block": number})  # fmt: skip
            elif client.w3.eth.get_transaction_receipt(tx["hash"])["status"] == 1:
                done.add(key)
    return out


def retrained_slots(roles: list[Role]) -> list[str]:
    """Slots an honest miner's journal shows reaching `trained` more than once."""
    out = []
    for role in roles:
        if role.kind != "miner" or not role.honest:
            continue
        journal = Journal(role.data_dir / "journal.sqlite", readonly=True)
        try:
            out += [f"{role.label} {key}" for key, kind in journal.kinds().items()
                    if kind == "slot" and journal.history(key).count("trained") > 1]  # fmt: skip
        finally:
            journal.close()
    return out


def journal_violations(roles: list[Role]) -> list[str]:
    """Every journaled state or move, in every role's journal, that the daemons' state tables do not allow."""
    lifecycles = [SLOT_LIFECYCLE, SUBJECT_LIFECYCLE, SEAT_LIFECYCLE, JOB_LIFECYCLE]
    out = []
    for role in roles:
        journal = Journal(role.data_dir / "journal.sqlite", readonly=True)
        try:
            out += [f"{role.label}: {v}" for v in journal.violations(lifecycles)]
        finally:
            journal.close()
    return out


if __name__ == "__main__":
    sys.exit(main())
