"""Calls on the work ledger, the registry and the lens, in the protocol's own words."""

from __future__ import annotations

from eth_utils import keccak
from web3.logs import DISCARD
from web3.types import TxReceipt

from crucible.chain.client import ChainClient
from crucible.protocol.types import (
    Boundary,
    Commitment,
    JobContent,
    JobParams,
    Panel,
    SubjectView,
    Timeline,
    Verdict,
)


def create_job(client: ChainClient, params: JobParams, content: JobContent, spec_cid: str) -> int:
    """Approves the escrow and creates the job; returns its id."""
    escrow = client.call(client.registry.functions.requiredEscrow(params.as_abi()))
    if client.call(client.token.functions.allowance(client.sender, client.registry.address)) < escrow:
        client.transact(client.token.functions.approve(client.registry.address, escrow))
    receipt = client.transact(client.registry.functions.createJob(params.as_abi(), content.as_abi(), spec_cid))
    (event,) = client.registry.events.JobCreated().process_receipt(receipt, errors=DISCARD)
    return int(event["args"]["jobId"])


def claim_slot(client: ChainClient, job_id: int, round_: int, slot: int) -> TxReceipt:
    return client.transact(client.ledger.functions.claimSlot(job_id, round_, slot))


def submit_work(
    client: ChainClient,
    job_id: int,
    round_: int,
    slot: int,
    *,
    bundle_cid: str,
    result_digest: bytes,
    merkle_root: bytes,
    seal: bytes,
) -> tuple[Commitment, TxReceipt]:
    receipt = client.transact(
        client.ledger.functions.submit(job_id, round_, slot, bundle_cid, result_digest, merkle_root, seal)
    )
    return Commitment(keccak(text=bundle_cid), result_digest, merkle_root, seal), receipt


def reveal_checkpoints(
    client: ChainClient,
    job_id: int,
    round_: int,
    slot: int,
    commitment: Commitment,
    boundaries: list[Boundary],
    cids: list[str],
) -> TxReceipt:
    return client.transact(
        client.ledger.functions.revealCheckpoints(
            job_id, round_, slot, commitment.as_abi(), [b.as_abi() for b in boundaries], cids
        )
    )


def verdict_commitment(
    client: ChainClient,
    subject: bytes,
    panel: Panel,
    seat: int,
    verdict: Verdict,
    evidence_digest: bytes,
    salt: bytes,
    validator: str,
) -> bytes:
    return bytes(
        client.call(
            client.lens.functions.verdictCommitment(subject, panel, seat, verdict, evidence_digest, salt, validator)
        )
    )


def commit_verdict(
    client: ChainClient, job_id: int, round_: int, slot: int, panel: Panel, seat: int, commit_hash: bytes
) -> TxReceipt:
    return client.transact(client.ledger.functions.commitVerdict(job_id, round_, slot, panel, seat, commit_hash))


def reveal_verdict(
    client: ChainClient,
    job_id: int,
    round_: int,
    slot: int,
    panel: Panel,
    seat: int,
    *,
    verdict: Verdict,
    evidence_digest: bytes,
    salt: bytes,
    evidence_cid: str,
) -> TxReceipt:
    reveal = (int(verdict), evidence_digest, salt, evidence_cid)
    return client.transact(client.ledger.functions.revealVerdict(job_id, round_, slot, panel, seat, reveal))


def settle_submission(client: ChainClient, job_id: int, round_: int, slot: int) -> TxReceipt:
    return client.transact(client.ledger.functions.settleSubmission(job_id, round_, slot))


def settle_seat(client: ChainClient, job_id: int, round_: int, slot: int, panel: Panel, seat: int) -> TxReceipt:
    return client.transact(client.ledger.functions.settleSeat(job_id, round_, slot, panel, seat))


def subject_of(client: ChainClient, job_id: int, round_: int, slot: int) -> SubjectView:
    return SubjectView.from_abi(tuple(client.call(client.lens.functions.subjectOf(job_id, round_, slot))))


def timeline_of(client: ChainClient, job_id: int, round_: int, slot: int) -> Timeline:
    return Timeline(*client.call(client.lens.functions.timelineOf(job_id, round_, slot)))


def sampled_intervals(client: ChainClient, job_id: int, round_: int, slot: int) -> list[int]:
    return [int(i) for i in client.call(client.lens.functions.sampledIntervals(job_id, round_, slot))]


def seat_holder(client: ChainClient, job_id: int, round_: int, slot: int, panel: Panel, seat: int) -> str:
    return str(client.call(client.lens.functions.seatHolder(job_id, round_, slot, panel, seat)))


def credited_accounts(client: ChainClient) -> set[str]:
    """Every account the vault ever credited, from its events since deployment."""
    start = client.deployment.deployed_at_block
    accounts: set[str] = set()
    for event in (client.vault.events.EscrowPaid, client.vault.events.PoolPaid):
        for log in event().get_logs(from_block=start):
            accounts.add(str(log["args"]["to"]))
    return accounts


def books(client: ChainClient) -> dict[str, int]:
    """The token balances of the contracts and the liabilities they must equal, to the wei."""
    staked, unbonding = client.call(client.stakes.functions.totals())
    escrow, pooled = client.call(client.vault.functions.totals())
    claimable = sum(client.call(client.vault.functions.claimableOf(a)) for a in credited_accounts(client))
    balance = client.token.functions.balanceOf
    return {
        "stake_manager_balance": client.call(balance(client.stakes.address)),
        "vault_balance": client.call(balance(client.vault.address)),
        "staked": staked,
        "unbonding": unbonding,
        "escrow": escrow,
        "pooled": pooled,
        "claimable": claimable,
    }


def books_balance(client: ChainClient) -> bool:
    """True when tokens held == stakes + unbonding + escrows + pooled + unclaimed rewards."""
    b = books(client)
    return (
        b["stake_manager_balance"] == b["staked"] + b["unbonding"]
        and b["vault_balance"] == b["escrow"] + b["pooled"] + b["claimable"]
    )
