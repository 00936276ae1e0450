"""A miner's work audited end to end through web3.py on a real anvil: the position-bound Merkle tree and its proofs
are built in Python and verified by the contract, the audit's randomness is the prevrandao recorded in the seed block,
the Python mirror of the contract's sampling agrees with the chain, the panels are drawn from the stake snapshot
(never the miner, never twice the same validator), a cheat is slashed, and the books reconcile to the wei."""

from __future__ import annotations

import hashlib

import pytest
from eth_utils import keccak

from crucible.chain import sampling
from crucible.chain.client import ChainClient
from crucible.chain.merkle import MerkleTree, checkpoint_leaf, verify
from crucible.errors import LedgerInvalidMerkleProof, LedgerNotSeatHolder
from crucible.localnet.network import LocalNetwork
from crucible.protocol import ledger
from crucible.protocol.timelines import compute
from crucible.protocol.types import Boundary, Commitment, JobContent, JobParams, Outcome, Panel, Verdict
from crucible.staking import add_stake, join_validator_set
from tests.protocol.roles import FAST, activate, record_randomness_at

BOUNDARIES = 5  # intervals_per_slot = 4: five leaves, padded to eight


def digests(tag: str) -> tuple[list[bytes], list[bytes]]:
    ckpts = [hashlib.sha256(f"{tag}-ckpt-{i}".encode()).digest() for i in range(BOUNDARIES)]
    traces = [hashlib.sha256(f"{tag}-trace-{i}".encode()).digest() for i in range(BOUNDARIES)]
    return ckpts, traces


@pytest.fixture(scope="module")
def parties(network: LocalNetwork) -> dict[str, ChainClient]:
    clients = {name: network.client_for(network.accounts[i]) for i, name in enumerate(
        ["sponsor", "miner", "v1", "v2", "v3", "v4"])}  # fmt: skip
    add_stake(clients["miner"], 300 * 10**18)
    join_validator_set(clients["miner"])  # the miner is a validator too: it must never sit on its own panel
    for name in ("v1", "v2", "v3", "v4"):
        add_stake(clients[name], 200 * 10**18, register_validator=True)
    activate(network)
    return clients


def post_job(sponsor: ChainClient) -> int:
    content = JobContent(keccak(text="spec"), keccak(text="tolerance"), keccak(text="base"))
    return ledger.create_job(sponsor, JobParams(seats_per_audit=3, windows=FAST), content, "bafy-spec")


def test_python_tree_matches_the_contract_and_binds_each_leaf_to_its_index() -> None:
    ckpts, traces = digests("tree")
    leaves = [checkpoint_leaf(1, 0, 0, "0x" + "11" * 20, i, ckpts[i], traces[i]) for i in range(BOUNDARIES)]
    tree = MerkleTree.build(leaves)
    assert tree.depth == 3
    for i, leaf in enumerate(leaves):
        assert verify(tree.proof(i), tree.root, leaf, i)
        assert not verify(tree.proof(i), tree.root, leaf, i ^ 1)  # the same proof at another index fails
    with pytest.raises(IndexError):
        tree.proof(BOUNDARIES)  # padding leaves are not boundaries


def test_python_proofs_verify_on_chain_and_a_cheat_is_slashed(network: LocalNetwork, parties: dict[str, ChainClient]) -> None:
    miner, sponsor = parties["miner"], parties["sponsor"]
    job_id = post_job(sponsor)
    ckpts, traces = digests("skipped-steps")
    leaves = [checkpoint_leaf(job_id, 0, 0, miner.sender, i, ckpts[i], traces[i]) for i in range(BOUNDARIES)]
    tree = MerkleTree.build(leaves)
    ledger.claim_slot(miner, job_id, 0, 0)
    commitment, receipt = ledger.submit_work(miner, job_id, 0, 0, bundle_cid="bafy-bundle", result_digest=ckpts[-1],
                                             merkle_root=tree.root)  # fmt: skip
    assert commitment == Commitment(keccak(text="bafy-bundle"), ckpts[-1], tree.root)

    # The seed block's randomness is the prevrandao recorded in that very block.
    timeline = ledger.timeline_of(miner, job_id, 0, 0)
    assert timeline == compute(receipt["blockNumber"], 0, 0, 0, FAST)  # the Python timeline mirrors the contract's
    record_randomness_at(network, sponsor, timeline.seed_block)
    randomness = ledger.randomness_at(sponsor, timeline.seed_block)
    block = miner.w3.eth.get_block(timeline.seed_block)
    assert randomness == bytes(block["mixHash"])  # anvil's prevrandao
    key = sampling.subject_key(job_id, 0, 0)
    seed = sampling.audit_seed(randomness, key)
    intervals = ledger.sampled_intervals(miner, job_id, 0, 0)
    assert intervals == sampling.sampled_intervals(seed, 2, 4) and len(set(intervals)) == 2

    # A tampered proof is refused by the contract, decoded into the matching Python exception.
    good = [Boundary(i, ckpts[i], traces[i], tree.proof(i)) for start in intervals for i in (start, start + 1)]
    bad = list(good)
    bad[0] = Boundary(bad[0].index, bad[0].checkpoint_digest, bad[0].trace_digest, [b"\x00" * 32] * 3)
    with pytest.raises(LedgerInvalidMerkleProof):
        ledger.reveal_checkpoints(miner, job_id, 0, 0, commitment, bad, ["cid"] * 4)
    ledger.reveal_checkpoints(miner, job_id, 0, 0, commitment, good, ["cid"] * 4)

    # Every drawn seat finds the work wrong; the committee agrees; the miner is slashed.
    by_address = {c.sender: c for c in parties.values()}
    for panel in (Panel.AUDIT, Panel.COMMITTEE):
        t = ledger.timeline_of(miner, job_id, 0, 0)
        if panel is Panel.COMMITTEE:
            record_randomness_at(network, sponsor, t.committee_seed_block)
        ledger.draw_seats(sponsor, job_id, 0, 0, panel)
        seats = ledger.seats_of(sponsor, job_id, 0, 0, panel)
        holders = [s.validator for s in seats]
        assert miner.sender not in holders and len(set(holders)) == len(holders) == 3
        outsider = next(c for c in parties.values() if c.sender not in holders)
        with pytest.raises(LedgerNotSeatHolder):
            ledger.commit_verdict(outsider, job_id, 0, 0, panel, seats[0].number, b"\x01" * 32)
        for seat in seats:
            validator = by_address[seat.validator]
            salt = keccak(text=f"salt-{panel}-{seat.number}")
            h = ledger.verdict_commitment(validator, key, panel, seat.number, Verdict.FAIL, b"\x11" * 32, salt,
                                          validator.sender)  # fmt: skip
            ledger.commit_verdict(validator, job_id, 0, 0, panel, seat.number, h)
        network.mine(seats[0].commit_end + 1 - miner.block_number())
        for seat in seats:
            ledger.reveal_verdict(by_address[seat.validator], job_id, 0, 0, panel, seat.number, verdict=Verdict.FAIL,
                                  evidence_digest=b"\x11" * 32, salt=keccak(text=f"salt-{panel}-{seat.number}"),
                                  evidence_cid="bafy-evidence")  # fmt: skip
        network.mine(seats[0].reveal_end + 1 - miner.block_number())

    staked_before = ledger.stake_of(miner, miner.sender).staked
    ledger.settle_submission(sponsor, job_id, 0, 0)
    subject = ledger.subject_of(sponsor, job_id, 0, 0)
    assert subject.outcome is Outcome.REJECTED_CHEAT
    staked_after = ledger.stake_of(miner, miner.sender).staked
    # Collateral (20) plus 10% of the free stake left (280): 48 CRU.
    assert staked_before - staked_after == 48 * 10**18
    for panel in (Panel.AUDIT, Panel.COMMITTEE):
        for seat in ledger.seats_of(sponsor, job_id, 0, 0, panel):
            ledger.settle_seat(sponsor, job_id, 0, 0, panel, seat.number)
    assert ledger.books_balance(sponsor)
