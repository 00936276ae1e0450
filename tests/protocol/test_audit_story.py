"""A miner's work audited end to end through web3.py on a real anvil: the Merkle tree and proofs are built in
Python, the contract verifies them, the validators' seats and sampled intervals agree with the Python mirror of the
contract's sampling, a cheat is slashed, and the books reconcile to the wei."""

from __future__ import annotations

import hashlib

import pytest
from eth_utils import keccak

from crucible.chain import sampling
from crucible.chain.client import ChainClient
from crucible.chain.merkle import MerkleTree, checkpoint_leaf
from crucible.errors import LedgerInvalidMerkleProof, LedgerSlotTaken
from crucible.localnet.network import LocalNetwork
from crucible.protocol import ledger
from crucible.protocol.types import Boundary, JobContent, JobParams, Outcome, Panel, Verdict
from crucible.staking import add_stake

BOUNDARIES = 5  # intervals_per_slot = 4


def digests(tag: str) -> tuple[list[bytes], list[bytes]]:
    ckpts = [hashlib.sha256(f"{tag}-ckpt-{i}".encode()).digest() for i in range(BOUNDARIES)]
    traces = [hashlib.sha256(f"{tag}-trace-{i}".encode()).digest() for i in range(BOUNDARIES)]
    return ckpts, traces


@pytest.fixture(scope="module")
def parties(network: LocalNetwork) -> dict[str, ChainClient]:
    clients = {name: network.client_for(network.accounts[i]) for i, name in enumerate(
        ["sponsor", "miner", "v1", "v2", "v3"])}  # fmt: skip
    add_stake(clients["miner"], 300 * 10**18)
    for name in ("v1", "v2", "v3"):
        add_stake(clients[name], 200 * 10**18, register_validator=True)
    return clients


def post_job(sponsor: ChainClient) -> int:
    content = JobContent(keccak(text="spec"), keccak(text="tolerance"), keccak(text="base"))
    return ledger.create_job(sponsor, JobParams(seats_per_audit=3), content, "bafy-spec")


def submit(miner: ChainClient, job_id: int, slot: int, tag: str) -> tuple[ledger.Commitment, MerkleTree, list[bytes], list[bytes]]:  # type: ignore[name-defined]
    ckpts, traces = digests(tag)
    leaves = [checkpoint_leaf(job_id, 0, slot, miner.sender, i, ckpts[i], traces[i]) for i in range(BOUNDARIES)]
    tree = MerkleTree.build(leaves)
    ledger.claim_slot(miner, job_id, 0, slot)
    commitment, _ = ledger.submit_work(miner, job_id, 0, slot, bundle_cid="bafy-bundle", result_digest=ckpts[-1],
                                       merkle_root=tree.root, seal=keccak(text="random"))  # fmt: skip
    return commitment, tree, ckpts, traces


def boundaries_for(intervals: list[int], tree: MerkleTree, ckpts: list[bytes], traces: list[bytes]) -> list[Boundary]:
    return [Boundary(i, ckpts[i], traces[i], tree.proof(i)) for start in intervals for i in (start, start + 1)]


def test_python_proofs_verify_on_chain_and_a_cheat_is_slashed(network: LocalNetwork, parties: dict[str, ChainClient]) -> None:
    miner = parties["miner"]
    job_id = post_job(parties["sponsor"])
    commitment, tree, ckpts, traces = submit(miner, job_id, 0, "skipped-steps")
    timeline = ledger.timeline_of(miner, job_id, 0, 0)
    network.mine(timeline.seed_block + 1 - miner.block_number())

    # The Python mirror of the contract's sampling agrees with the chain.
    key = sampling.subject_key(job_id, 0, 0)
    block_hash = bytes(miner.w3.eth.get_block(timeline.seed_block)["hash"])
    seed = sampling.seed_from_blockhash(block_hash, key)
    intervals = ledger.sampled_intervals(miner, job_id, 0, 0)
    assert intervals == sampling.sampled_intervals(seed, 2, 4)
    validators = [miner.call(miner.stakes.functions.validatorAt(i)) for i in range(3)]
    for seat in range(3):
        expected = validators[sampling.seat_draw(seed, 0, seat) % 3]
        assert ledger.seat_holder(miner, job_id, 0, 0, Panel.AUDIT, seat) == expected

    # A tampered proof is refused by the contract, decoded into the matching Python exception.
    bad = boundaries_for(intervals, tree, ckpts, traces)
    bad[0] = Boundary(bad[0].index, bad[0].checkpoint_digest, bad[0].trace_digest, [b"\x00" * 32] * len(bad[0].proof))
    with pytest.raises(LedgerInvalidMerkleProof):
        ledger.reveal_checkpoints(miner, job_id, 0, 0, commitment, bad, ["cid"] * len(bad))
    receipt = ledger.reveal_checkpoints(
        miner, job_id, 0, 0, commitment, boundaries_for(intervals, tree, ckpts, traces), ["cid"] * 4
    )
    assert receipt["status"] == 1

    # Every drawn seat replays and finds the work wrong; the committee agrees; the miner is slashed.
    by_address = {c.sender: c for c in parties.values()}
    for panel, seed_block, commit_end, reveal_end in [
        (Panel.AUDIT, None, timeline.commit_end, timeline.reveal_end),
        (Panel.COMMITTEE, timeline.dispute_seed_block, timeline.dispute_commit_end, timeline.dispute_reveal_end),
    ]:
        if seed_block is not None:
            network.mine(seed_block + 1 - miner.block_number())
        seats = {seat: by_address[ledger.seat_holder(miner, job_id, 0, 0, panel, seat)] for seat in range(3)}
        for seat, validator in seats.items():
            salt = keccak(text=f"salt-{panel}-{seat}")
            h = ledger.verdict_commitment(validator, key, panel, seat, Verdict.FAIL, b"\x11" * 32, salt, validator.sender)
            ledger.commit_verdict(validator, job_id, 0, 0, panel, seat, h)
        network.mine(commit_end + 1 - miner.block_number())
        for seat, validator in seats.items():
            ledger.reveal_verdict(validator, job_id, 0, 0, panel, seat, verdict=Verdict.FAIL, evidence_digest=b"\x11" * 32,
                                  salt=keccak(text=f"salt-{panel}-{seat}"), evidence_cid="bafy-evidence")  # fmt: skip
        network.mine(reveal_end + 1 - miner.block_number())

    staked_before = miner.call(miner.stakes.functions.stakeOf(miner.sender))[0]
    ledger.settle_submission(parties["sponsor"], job_id, 0, 0)
    subject = ledger.subject_of(miner, job_id, 0, 0)
    assert subject.outcome is Outcome.REJECTED_CHEAT
    staked_after = miner.call(miner.stakes.functions.stakeOf(miner.sender))[0]
    assert staked_before - staked_after == 20 * 10**18 + (staked_before - 20 * 10**18) // 10
    for panel in (Panel.AUDIT, Panel.COMMITTEE):
        for seat in range(3):
            ledger.settle_seat(parties["sponsor"], job_id, 0, 0, panel, seat)
    assert ledger.subject_of(miner, job_id, 0, 0).pool_balance == 0
    assert ledger.books_balance(miner)


def test_a_taken_slot_is_refused_with_its_holder(parties: dict[str, ChainClient]) -> None:
    job_id = post_job(parties["sponsor"])
    ledger.claim_slot(parties["miner"], job_id, 0, 1)
    add_stake(parties["v1"], 1)  # v1 is staked well above the miner minimum already
    with pytest.raises(LedgerSlotTaken) as caught:
        ledger.claim_slot(parties["v1"], job_id, 0, 1)
    assert caught.value.holder == parties["miner"].sender
