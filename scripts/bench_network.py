"""Network benchmark: N miners x M validators, every one a real daemon, on one machine (anvil + Kubo on loopback).

A pretraining job of R rounds with one slot per miner runs to completion. Reported: sustained submissions and
revealed verdicts per minute of wall clock, validator compute (replays) as a fraction of miner compute (training) at
the job's audit rate, detection (cheating submissions rejected) and false positives (honest submissions rejected).
All roles share two cores here, so the per-minute figures are a floor for a real network, where each role has its
own machine; the compute ratio does not depend on that.

    python scripts/bench_network.py --miners 3 --cheaters 1 --validators 3 --rounds 2           # CI-sized
    python scripts/bench_network.py --miners 8 --cheaters 2 --validators 6 --rounds 3 --audit-bps 5000
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

import torch

from crucible.artifacts.store import ArtifactStore
from crucible.chain.deployment import ProtocolParams
from crucible.localnet.drive import drive, job_settled
from crucible.localnet.network import start_local_network
from crucible.protocol import ledger
from crucible.protocol.timelines import longest_resolution
from crucible.protocol.types import JobKind, JobParams, Windows
from crucible.reports import submissions, verdicts
from crucible.simulation.cast import build_cast
from crucible.sponsor import post_job

CHEATS = ["lazy (skipped step)", "data substitution", "noisy weights", "learning-rate cheat", "stale result"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--miners", type=int, default=3, help="honest miners")
    parser.add_argument("--cheaters", type=int, default=1)
    parser.add_argument("--validators", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--audit-bps", type=int, default=10_000)
    parser.add_argument("--model", default="tiny")
    parser.add_argument("--steps-per-interval", type=int, default=4)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    work = Path(tempfile.mkdtemp(prefix="crucible-bench-network-"))
    slots = args.miners + args.cheaters
    # One process runs every role and anvil mines a block per transaction, so a pass of N + M roles can move the
    # chain by several blocks: windows grow with the cast (a real chain packs many transactions into one block).
    w = max(12, 2 * (slots + args.validators))
    windows = Windows(submit_window=3 * w, seed_delay=1, checkpoint_reveal_window=w, commit_window=w,
                      reveal_window=w, unseal_window=4, round_claim_window=10 * w)  # fmt: skip
    epoch = longest_resolution(windows) + 1  # every job must resolve within one epoch
    protocol = ProtocolParams(unbonding_period_blocks=3 * epoch + 100, epoch_blocks=epoch)
    with start_local_network(deployments_dir=work, with_ipfs=True, accounts=slots + args.validators + 2,
                             params=protocol) as net:  # fmt: skip
        assert net.kubo is not None
        store = ArtifactStore(net.kubo.api_multiaddr, timeout=30)
        cheats = [CHEATS[i % len(CHEATS)] for i in range(args.cheaters)]
        roles = build_cast(net, store, work, honest_miners=args.miners, cheats=cheats, validators=args.validators)
        net.mine(2 * epoch + 1)  # validators' weights count two epochs after they join
        params = JobParams(kind=JobKind.PRETRAIN, num_rounds=args.rounds, slots_per_round=slots, intervals_per_slot=4,
                           sampled_intervals=2, audit_bps=args.audit_bps, seats_per_audit=2, committee_size=3,
                           windows=windows)  # fmt: skip
        sponsor = net.client_for(net.accounts[0])
        posted = post_job(sponsor, store, kind="pretrain", model=args.model, params=params, compute_cost_wei=10**18,
                          collusion=0.1, seed=5, steps_per_interval=args.steps_per_interval)  # fmt: skip
        client = net.client

        started = time.perf_counter()
        validators = [r.node for r in roles if r.kind == "validator"]
        stats = drive(net, [(r.label, r.node) for r in roles], until=lambda: job_settled(client, validators, posted.job_id),
                      max_passes=20_000)  # fmt: skip
        minutes = (time.perf_counter() - started) / 60
        subs = [s for s in submissions(client, posted.job_id) if s["slot"] < slots]
        votes = verdicts(client, posted.job_id)
        cheaters = {r.address for r in roles if r.kind == "miner" and not r.honest}
        miner_compute = sum(r.node.compute_seconds for r in roles if r.kind == "miner")
        validator_compute = sum(r.node.compute_seconds for r in roles if r.kind == "validator")
        figures = {
            "miners": args.miners, "cheaters": args.cheaters, "validators": args.validators, "rounds": args.rounds,
            "audit_bps": args.audit_bps, "model": args.model, "blocks": stats.passes,
            "wall_minutes": round(minutes, 2),
            "submissions": len(subs), "verdicts": len(votes),
            "submissions_per_minute": round(len(subs) / minutes, 2),
            "verdicts_per_minute": round(len(votes) / minutes, 2),
            "miner_compute_s": round(miner_compute, 2), "validator_compute_s": round(validator_compute, 2),
            "validator_to_miner_compute": round(validator_compute / miner_compute, 3) if miner_compute else None,
            "cheating_submissions": sum(1 for s in subs if s["miner"] in cheaters),
            "cheating_rejected": sum(1 for s in subs if s["miner"] in cheaters and s["outcome"].startswith("REJECTED")),
            "honest_submissions": sum(1 for s in subs if s["miner"] not in cheaters),
            "honest_rejected": sum(1 for s in subs if s["miner"] not in cheaters and s["outcome"] != "ACCEPTED"),
            "books_balance": ledger.books_balance(client),
            "device": str(torch.device("cuda") if torch.cuda.is_available() else "cpu"),
            "torch_threads": torch.get_num_threads(),
        }  # fmt: skip
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0 if figures["books_balance"] and figures["honest_rejected"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
