"""Network benchmark: N miners x M validators, every one its own OS process, on one chain that mines a block every
`--block-time` seconds by itself (interval mining), with Kubo, all on this machine's loopback.

Honest roles run `crucible miner run` / `crucible validator run`, cheaters `python -m crucible.simulation.process miner`; the
supervisor (crucible/simulation/supervisor.py) starts and watches them. Each role talks to the chain through its own port of a
loopback JSON-RPC relay that counts its calls (crucible/simulation/rpc_relay.py). The sponsor posts `--jobs` pretraining jobs of
`--rounds` rounds at once (one work slot per miner per round) and the run lasts until every slot and seat of them
is settled. Reported, over that phase:

- sustained submissions, revealed verdicts and settlements per minute (from the first submission to the last
  settlement, by block timestamps), and latency from submit to settlement (p50/p95, seconds and blocks);
- RPC calls and gas per slot (every slot: work and aggregation), gas by function, reverted transactions;
- the CPU each role used (seconds, and share of one core) and its peak memory; the chain node's and Kubo's CPU;
- detection (cheating submissions rejected), false positives (honest submissions rejected), and the books: the
  contracts' balances against their liabilities, and every role's holdings against its credits and slashes.

    python scripts/bench_network.py --miners 3 --cheaters 1 --validators 3 --rounds 2                   # CI-sized
    python scripts/bench_network.py --miners 18 --cheaters 2 --validators 5 --rounds 3 --window 20      # largest here
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from crucible.artifacts.store import ArtifactStore
from crucible.chain.deployment import ProtocolParams
from crucible.localnet.network import LocalNetwork, start_local_network
from crucible.protocol import ledger
from crucible.protocol.events import VerdictRevealed, WorkSubmitted, fetch
from crucible.protocol.presets import scaled_windows
from crucible.protocol.timelines import longest_resolution
from crucible.protocol.types import JobKind, JobParams, Windows
from crucible.reports import submissions
from crucible.simulation.cast import Role, cast, plan, specs, wait_ready
from crucible.simulation.observe import (
    BlockTimes,
    gas_by_sender,
    holdings,
    job_resolved,
    percentile,
    reconcile,
    settlements,
)
from crucible.simulation.rpc_relay import RpcRelay
from crucible.simulation.supervisor import Supervisor, interrupted_by_signals, process_cpu_seconds
from crucible.sponsor import post_job

CHEATS = ["lazy (skipped step)", "data substitution", "noisy weights", "learning-rate cheat", "stale result"]
log = logging.getLogger("bench")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--miners", type=int, default=3, help="honest miners")
    parser.add_argument("--cheaters", type=int, default=1)
    parser.add_argument("--validators", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=1, help="jobs posted at once")
    parser.add_argument("--audit-bps", type=int, default=10_000)
    parser.add_argument("--model", default="tiny")
    parser.add_argument("--steps-per-interval", type=int, default=4)
    parser.add_argument("--block-time", type=int, default=1, help="seconds between blocks")
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between a role's passes")
    parser.add_argument("--window", type=int, default=10, help="checkpoint-reveal, commit and reveal windows (blocks)")
    parser.add_argument("--evm", choices=["anvil", "hardhat"], default=None, help="default: CRUCIBLE_EVM, else anvil")
    parser.add_argument("--timeout", type=float, default=3_600, help="seconds before the run counts as stuck")
    parser.add_argument("--keep", type=Path, help="keep the run's files (logs, journals) here")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("crucible").setLevel(logging.WARNING)

    root = args.keep or Path(tempfile.mkdtemp(prefix="crucible-bench-network-"))
    root.mkdir(parents=True, exist_ok=True)
    windows = scaled_windows(args.window)
    epoch = longest_resolution(windows) + 1  # every job must resolve within one epoch
    protocol = ProtocolParams(unbonding_period_blocks=3 * epoch + 100, epoch_blocks=epoch)
    members = plan(honest_miners=args.miners, cheats=[CHEATS[i % len(CHEATS)] for i in range(args.cheaters)],
                   validators=args.validators)  # fmt: skip
    with interrupted_by_signals(), start_local_network(
        deployments_dir=root, log_dir=root, with_ipfs=True, accounts=len(members) + 1, params=protocol, evm=args.evm
    ) as net, RpcRelay(net.rpc_url) as relay:
        roles = cast(net, root, members)
        ports = {role.label: relay.add(role.label) for role in roles}
        supervisor = Supervisor(specs(net, roles, root, poll=args.poll, rpc_url_of=lambda r: ports[r.label].url),
                                log=log.info)  # fmt: skip
        try:
            figures = run(args, net, roles, supervisor, relay, windows, epoch)
        finally:
            supervisor.stop_all()
        figures["processes"] = supervisor.usage()
    figures["run_dir"] = str(root)
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    healthy = figures["books_balance"] and not figures["accounts_unreconciled"] and figures["honest_rejected"] == 0
    return 0 if healthy else 1


def run(args: argparse.Namespace, net: LocalNetwork, roles: list[Role], supervisor: Supervisor, relay: RpcRelay,
        windows: Windows, epoch: int) -> dict[str, Any]:  # fmt: skip
    client = net.client
    assert net.kubo is not None
    store = ArtifactStore(net.kubo.api_multiaddr, timeout=60)
    before = {r.address: holdings(client, r.address) for r in roles}
    t0 = time.monotonic()
    supervisor.start_all()
    wait_ready(client, roles, supervisor.watch, timeout=600)
    startup_s = time.monotonic() - t0
    log.info("%d roles staked in %.0f s; letting two epochs pass, then a block every %d s", len(roles), startup_s,
             args.block_time)  # fmt: skip
    net.mine(2 * epoch + 1)  # validators' weights count two epochs after they join
    net.chain.set_block_time(args.block_time)

    slots = args.miners + args.cheaters
    params = JobParams(kind=JobKind.PRETRAIN, num_rounds=args.rounds, slots_per_round=slots, intervals_per_slot=4,
                       sampled_intervals=2, audit_bps=args.audit_bps, seats_per_audit=2, committee_size=3,
                       windows=windows)  # fmt: skip
    sponsor = net.client_for(net.accounts[0])
    first_block = client.block_number()
    calls_at_start = relay.counts()
    usage_at_start = supervisor.usage()
    chain_cpu0, kubo_cpu0 = process_cpu_seconds(net.chain.process.pid), process_cpu_seconds(net.kubo.process.pid)
    self_cpu0 = _self_cpu()
    started = time.monotonic()
    jobs = [post_job(sponsor, store, kind="pretrain", model=args.model, params=params, compute_cost_wei=10**18,
                     collusion=0.1, seed=5 + j, steps_per_interval=args.steps_per_interval).job_id
            for j in range(args.jobs)]  # fmt: skip
    log.info("posted job(s) %s: %d rounds x %d slots, windows %s", jobs, args.rounds, slots, windows)

    def progress() -> None:
        if int(time.monotonic() - started) % 30 < 2:
            done = len(fetch(client, WorkSubmitted, from_block=first_block))
            log.info("block %d: %d submissions so far", client.block_number(), done)

    supervisor.run(lambda: all(job_resolved(client, j) for j in jobs), timeout=args.timeout, every=2.0,
                   on_tick=progress)  # fmt: skip
    phase_s = time.monotonic() - started
    last_block = client.block_number()
    usage = supervisor.usage()
    calls = relay.counts()
    chain_cpu = process_cpu_seconds(net.chain.process.pid) - chain_cpu0
    kubo_cpu = process_cpu_seconds(net.kubo.process.pid) - kubo_cpu0
    self_cpu = _self_cpu() - self_cpu0

    subs = [s for j in jobs for s in submissions(client, j)]
    settled = [s for s in settlements(client, first_block) if s.job_id in jobs]
    votes = fetch(client, VerdictRevealed, from_block=first_block)
    when = BlockTimes(client)
    first_submit = min(s["block"] for s in subs)
    last_settle = max(s.settled_block for s in settled)
    active_min = (when(last_settle) - when(first_submit)) / 60
    cheaters = {r.address for r in roles if r.kind == "miner" and not r.honest}
    work = [s for s in subs if s["slot"] < slots]
    kinds = {r.label: r.kind for r in roles}
    role_calls = {label: sum(c.values()) - sum(calls_at_start.get(label, {}).values()) for label, c in calls.items()}
    by_method: dict[str, int] = {}
    for label, c in calls.items():
        for method, n in c.items():
            by_method[method] = by_method.get(method, 0) + n - calls_at_start.get(label, {}).get(method, 0)
    gas = gas_by_sender(client, {r.address: r.kind for r in roles}, first_block, last_block)
    role_cpu = {label: round(usage[label]["cpu_s"] - usage_at_start[label]["cpu_s"], 2) for label in usage}
    latencies = [s.seconds for s in settled]
    blocks = [s.settled_block - s.submitted_block for s in settled]
    disputed = [s.seconds for s in settled if s.outcome != "ACCEPTED"]
    unreconciled = reconcile(client, [r.address for r in roles], before)

    def per_kind(values: dict[str, float]) -> dict[str, float]:
        out: dict[str, float] = {}
        for label, value in values.items():
            out[kinds[label]] = round(out.get(kinds[label], 0.0) + value, 2)
        return out

    return {
        "evm": net.evm, "block_time_s": args.block_time, "poll_s": args.poll, "window_blocks": args.window,
        "miners": args.miners, "cheaters": args.cheaters, "validators": args.validators, "rounds": args.rounds,
        "jobs": args.jobs, "audit_bps": args.audit_bps, "model": args.model, "processes_started": len(roles),
        "startup_s": round(startup_s, 1), "phase_minutes": round(phase_s / 60, 2), "blocks": last_block - first_block,
        "active_minutes": round(active_min, 2),
        "submissions": len(subs), "settlements": len(settled), "verdicts": len(votes),
        "submissions_per_minute": round(len(subs) / active_min, 2),
        "settlements_per_minute": round(len(settled) / active_min, 2),
        "verdicts_per_minute": round(len(votes) / active_min, 2),
        "latency_s": {"p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
                      "disputed_p50": percentile(disputed, 50)},
        "latency_blocks": {"p50": percentile(blocks, 50), "p95": percentile(blocks, 95)},
        "rpc_calls": sum(role_calls.values()), "rpc_calls_per_slot": round(sum(role_calls.values()) / len(subs), 1),
        "rpc_calls_by_kind": per_kind({k: float(v) for k, v in role_calls.items()}),
        "rpc_calls_per_role_minute": round(sum(role_calls.values()) / len(roles) / (phase_s / 60), 1),
        "rpc_calls_by_method": dict(sorted(by_method.items(), key=lambda kv: -kv[1])),
        "gas_per_slot": round(gas["total"] / len(subs)), "gas": gas,
        "cpu_s_by_kind": per_kind(role_cpu), "cpu_s_by_role": role_cpu,
        "cpu_share_of_a_core_by_kind": {k: round(v / phase_s, 3) for k, v in per_kind(role_cpu).items()},
        "chain_node_cpu_s": round(chain_cpu, 1), "kubo_cpu_s": round(kubo_cpu, 1),
        "bench_and_relay_cpu_s": round(self_cpu, 1),
        "machine_cpu_share": round((sum(role_cpu.values()) + chain_cpu + kubo_cpu + self_cpu) / phase_s, 2),
        "peak_rss_mib_max": max(u["peak_rss_mib"] for u in usage.values()),
        "restarts": sum(u["restarts"] for u in usage.values()),
        "cheating_submissions": sum(1 for s in work if s["miner"] in cheaters),
        "cheating_rejected": sum(1 for s in work if s["miner"] in cheaters and s["outcome"].startswith("REJECTED")),
        "honest_submissions": sum(1 for s in work if s["miner"] not in cheaters),
        "honest_rejected": sum(1 for s in subs if s["miner"] not in cheaters and s["outcome"] != "ACCEPTED"),
        "books_balance": ledger.books_balance(client), "accounts_unreconciled": unreconciled,
        "device": "cpu (1 torch thread per role)",
    }  # fmt: skip


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    sys.exit(main())
