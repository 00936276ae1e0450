"""Gas of every user-facing call, measured from transaction receipts on a real anvil chain.

The same protocol story (stake, post a job, claim, submit, reveal checkpoints, audit, dispute, settle with a slash,
claim rewards, unbond, withdraw) runs three times: on a fresh deployment, then with 10 and with 1,000 extra
validators staked and registered (and one job per ten of them already posted). Every call is O(1) in the number
of participants, so the columns should agree to within storage warm/cold noise.

    python scripts/bench_gas.py [--sizes 0,10,1000] [--markdown docs/bench/gas.md]
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

from eth_account import Account
from eth_utils import keccak
from web3 import Web3
from web3.logs import DISCARD

from crucible.chain import sampling
from crucible.chain.deploy import deploy_protocol
from crucible.chain.deployment import ProtocolParams
from crucible.chain.merkle import MerkleTree, checkpoint_leaf
from crucible.localnet.anvil import AnvilNode
from crucible.localnet.network import dev_accounts
from crucible.protocol.types import JobContent, JobParams, Panel, Verdict

# Targets from issue #2, with Prime Intellect's medians on the same forge and solc in brackets.
TARGETS = {
    "submit": (100_000, "submitWork 226,819"),
    "commitVerdict": (60_000, None),
    "revealVerdict (audit)": (70_000, None),
    "claim (rewards)": (60_000, "claimRewards 158,677"),
    "settleSubmission (dispute, slash)": (150_000, "invalidateWork 335,224"),
    "stake": (90_000, "registerProvider 223,849"),
}
INTERVALS = 4
SAMPLED = 2


class Bench:
    """One deployment, driven by impersonated accounts so that any population size is cheap to set up."""

    def __init__(self, rpc_url: str) -> None:
        deployer = dev_accounts(1)[0]
        # A short unbonding period (still above the job's longest audit + dispute, which the registry enforces)
        # keeps the blocks mined before `withdraw` few: mining thousands of blocks over a large state is slow.
        self.client = deploy_protocol(rpc_url, deployer, ProtocolParams(unbonding_period_blocks=300))
        self.w3: Web3 = self.client.w3
        self.gas: dict[str, list[int]] = defaultdict(list)
        self.counter = 0

    def account(self) -> str:
        self.counter += 1
        address = Account.from_key(keccak(text=f"bench-{self.counter}")).address
        self.w3.provider.make_request("anvil_setBalance", [address, hex(10**20)])  # type: ignore[arg-type]
        self.w3.provider.make_request("anvil_impersonateAccount", [address])  # type: ignore[arg-type]
        return address

    def tx(self, label: str | None, fn: object, sender: str) -> dict:  # type: ignore[type-arg]
        receipt = self.client.transact(fn, sender=sender)  # type: ignore[arg-type]
        if label:
            self.gas[label].append(int(receipt["gasUsed"]))
        return receipt  # type: ignore[return-value]

    def mine_to(self, block: int) -> None:
        while (now := self.w3.eth.block_number) < block:
            self.w3.provider.make_request("anvil_mine", [hex(min(block - now, 50))])  # type: ignore[arg-type]

    def funded_staker(self, amount: int, *, validator: bool, label: str | None = None) -> str:
        c = self.client
        who = self.account()
        self.tx(None, c.token.functions.faucet(who, amount), who)
        self.tx(None, c.token.functions.approve(c.stakes.address, amount), who)
        self.tx(label, c.stakes.functions.stake(amount), who)
        if validator:
            self.tx("registerValidator" if label else None, c.stakes.functions.registerValidator(), who)
        return who

    def post_job(self, sponsor: str, label: str | None) -> int:
        c = self.client
        params = JobParams(intervals_per_slot=INTERVALS, sampled_intervals=SAMPLED, seats_per_audit=3, committee_size=3)
        escrow = c.call(c.registry.functions.requiredEscrow(params.as_abi()))
        self.tx(None, c.token.functions.faucet(sponsor, escrow), sponsor)
        self.tx(None, c.token.functions.approve(c.registry.address, escrow), sponsor)
        content = JobContent(keccak(text="spec"), keccak(text="tol"), keccak(text="base")).as_abi()
        receipt = self.tx(label, c.registry.functions.createJob(params.as_abi(), content, "bafy-spec"), sponsor)
        (event,) = c.registry.events.JobCreated().process_receipt(receipt, errors=DISCARD)
        return int(event["args"]["jobId"])

    def populate(self, n: int) -> None:
        sponsor = self.account()
        for i in range(n):
            self.funded_staker(150 * 10**18, validator=True)
            if i % 10 == 0:
                self.post_job(sponsor, None)

    def story(self) -> None:
        c = self.client
        sponsor = self.account()
        honest = self.funded_staker(400 * 10**18, validator=False, label="stake")
        cheat = self.funded_staker(400 * 10**18, validator=False)
        for _ in range(3):
            self.funded_staker(300 * 10**18, validator=True, label="stake")
        job = self.post_job(sponsor, "createJob")
        work = {}
        for slot, miner in ((0, honest), (1, cheat)):
            ckpts = [hashlib.sha256(f"{job}-{slot}-c{i}".encode()).digest() for i in range(INTERVALS + 1)]
            traces = [hashlib.sha256(f"{job}-{slot}-t{i}".encode()).digest() for i in range(INTERVALS + 1)]
            leaves = [checkpoint_leaf(job, 0, slot, miner, i, ckpts[i], traces[i]) for i in range(INTERVALS + 1)]
            tree = MerkleTree.build(leaves)
            self.tx("claimSlot", c.ledger.functions.claimSlot(job, 0, slot), miner)
            seal = keccak(text=f"seal-{slot}")
            self.tx("submit", c.ledger.functions.submit(job, 0, slot, "bafy-bundle", ckpts[-1], tree.root, seal), miner)
            work[slot] = (miner, ckpts, traces, tree, (keccak(text="bafy-bundle"), ckpts[-1], tree.root, seal))
        # Slot 1 was submitted after slot 0, so waiting on slot 1's deadlines covers both.
        timeline = c.call(c.lens.functions.timelineOf(job, 0, 1))
        self.mine_to(timeline[0] + 1)
        for slot, (miner, ckpts, traces, tree, commitment) in work.items():
            intervals = c.call(c.lens.functions.sampledIntervals(job, 0, slot))
            boundaries = [(i, ckpts[i], traces[i], tree.proof(i)) for s in intervals for i in (s, s + 1)]
            fn = c.ledger.functions.revealCheckpoints(job, 0, slot, commitment, boundaries, ["bafy-c"] * len(boundaries))
            self.tx("revealCheckpoints", fn, miner)
        # Audit: the honest slot passes; on the cheat's slot seat 2 approves without checking.
        verdicts = {0: [Verdict.PASS] * 3, 1: [Verdict.FAIL, Verdict.FAIL, Verdict.PASS]}
        self.panel(job, Panel.AUDIT, verdicts, timeline[2], "audit")
        self.mine_to(timeline[5] + 1)  # slot 1's dispute seed block
        self.panel(job, Panel.COMMITTEE, {1: [Verdict.FAIL] * 3}, timeline[6], "committee")
        self.mine_to(timeline[7] + 1)
        self.tx("settleSubmission (accepted)", c.ledger.functions.settleSubmission(job, 0, 0), sponsor)
        self.tx("settleSubmission (dispute, slash)", c.ledger.functions.settleSubmission(job, 0, 1), sponsor)
        # The lazy seat is slashed first, then the winners are paid.
        self.tx("settleSeat (loser, slash)", c.ledger.functions.settleSeat(job, 0, 1, Panel.AUDIT, 2), sponsor)
        for panel, seat in ((Panel.AUDIT, 0), (Panel.AUDIT, 1), (Panel.COMMITTEE, 0), (Panel.COMMITTEE, 1),
                            (Panel.COMMITTEE, 2)):  # fmt: skip
            self.tx("settleSeat (winner, paid)", c.ledger.functions.settleSeat(job, 0, 1, panel, seat), sponsor)
        for seat in range(3):
            self.tx("settleSeat (winner, paid)", c.ledger.functions.settleSeat(job, 0, 0, Panel.AUDIT, seat), sponsor)
        self.tx("claim (rewards)", c.vault.functions.claim(), honest)
        self.tx("requestUnbond", c.stakes.functions.requestUnbond(100 * 10**18), honest)
        self.mine_to(self.w3.eth.block_number + 301)
        self.tx("withdraw", c.stakes.functions.withdraw(), honest)

    def panel(self, job: int, panel: Panel, verdicts: dict[int, list[Verdict]], commit_end: int, kind: str) -> None:
        c = self.client
        reveals = []
        for slot, seats in verdicts.items():
            key = sampling.subject_key(job, 0, slot)
            for seat, verdict in enumerate(seats):
                holder = c.call(c.lens.functions.seatHolder(job, 0, slot, panel, seat))
                salt = keccak(text=f"{slot}-{panel}-{seat}")
                h = c.call(c.lens.functions.verdictCommitment(key, panel, seat, verdict, b"\x01" * 32, salt, holder))
                self.tx("commitVerdict", c.ledger.functions.commitVerdict(job, 0, slot, panel, seat, h), holder)
                reveals.append((slot, seat, verdict, salt, holder))
        self.mine_to(commit_end + 1)
        for slot, seat, verdict, salt, holder in reveals:
            fn = c.ledger.functions.revealVerdict(job, 0, slot, panel, seat, (verdict, b"\x01" * 32, salt, "bafy-ev"))
            self.tx(f"revealVerdict ({kind})", fn, holder)


def run(sizes: list[int]) -> dict[int, dict[str, int]]:
    results: dict[int, dict[str, int]] = {}
    for n in sizes:
        started = time.monotonic()
        with AnvilNode.start(accounts=2) as node:
            bench = Bench(node.rpc_url)
            bench.populate(n)
            bench.story()
            results[n] = {label: int(statistics.median(values)) for label, values in bench.gas.items()}
        print(f"  {n} extra participants: {time.monotonic() - started:.0f} s", file=sys.stderr)
    return results


def table(results: dict[int, dict[str, int]]) -> str:
    sizes = list(results)
    labels = list(results[sizes[0]])
    header = "| call | " + " | ".join(f"gas, +{n} participants" for n in sizes) + " | target | competitor |"
    lines = [header, "|" + "---|" * (len(sizes) + 3)]
    for label in labels:
        target, competitor = TARGETS.get(label, (None, None))
        cells = [f"{results[n].get(label, 0):,}" for n in sizes]
        verdict = ""
        if target:
            worst = max(results[n].get(label, 0) for n in sizes)
            verdict = f"<= {target:,} {'met' if worst <= target else 'MISSED'}"
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {verdict} | {competitor or ''} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="0,10,1000", help="extra participants per run, comma separated")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    results = run([int(s) for s in args.sizes.split(",")])
    text = table(results)
    print(text)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(text + "\n")


if __name__ == "__main__":
    main()
