"""Calls on the work ledger, the registry and the lens, in the protocol's own words (typed in, typed out)."""

from __future__ import annotations

from typing import NamedTuple

from eth_utils import keccak
from web3.types import TxReceipt

from crucible.chain.client import ChainClient
from crucible.protocol.events import EscrowPaid, JobCreated, PoolPaid, fetch, from_receipt
from crucible.protocol.types import (
    Boundary,
    Commitment,
    JobContent,
    JobParams,
    JobStatus,
    Panel,
    Round,
    Seat,
    StakeInfo,
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
    (event,) = from_receipt(client, JobCreated, receipt)
    return event.job_id


class JobState(NamedTuple):
    sponsor: str
    status: JobStatus
    round: int  # the open round


def job_state(client: ChainClient, job_id: int) -> JobState:
    """A job's sponsor, status and open round."""
    sponsor, status, current = client.call(client.ledger.functions.jobState(job_id))
    return JobState(str(sponsor), JobStatus(int(status)), int(current))


def job_params(client: ChainClient, job_id: int) -> JobParams:
    return JobParams.from_abi(client.call(client.ledger.functions.jobParams(job_id)))


def stake_of(client: ChainClient, account: str) -> StakeInfo:
    return StakeInfo.from_abi(client.call(client.stakes.functions.stakeOf(account)))


def round_of(client: ChainClient, job_id: int, round_: int) -> Round:
    return Round.from_abi(client.call(client.ledger.functions.roundOf(job_id, round_)))


def claim_slot(client: ChainClient, job_id: int, round_: int, slot: int) -> TxReceipt:
    return client.transact(client.ledger.functions.claimSlot(job_id, round_, slot))


def submit_work(
    client: ChainClient, job_id: int, round_: int, slot: int, *, bundle_cid: str, result_digest: bytes, merkle_root: bytes
) -> tuple[Commitment, TxReceipt]:
    receipt = client.transact(client.ledger.functions.submit(job_id, round_, slot, bundle_cid, result_digest, merkle_root))
    return Commitment(keccak(text=bundle_cid), result_digest, merkle_root), receipt


RECORD_RANDOMNESS_GAS = 80_000


def record_randomness(client: ChainClient) -> TxReceipt:
    """Records this block's randomness (anyone may; a second call in the same block changes nothing). The gas is
    fixed: an estimate taken in a block that already has its randomness would price the no-op, not the write."""
    return client.transact(client.ledger.functions.recordRandomness(), gas=RECORD_RANDOMNESS_GAS)


def randomness_at(client: ChainClient, block: int) -> bytes:
    return bytes(client.call(client.ledger.functions.randomnessAt(block)))


def record_seed(client: ChainClient, job_id: int, round_: int, slot: int) -> TxReceipt:
    return client.transact(client.ledger.functions.recordSeed(job_id, round_, slot))


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


def draw_seats(client: ChainClient, job_id: int, round_: int, slot: int, panel: Panel) -> TxReceipt:
    return client.transact(client.ledger.functions.drawSeats(job_id, round_, slot, panel))


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


def unseal_plant(client: ChainClient, job_id: int, round_: int, slot: int, salt: bytes, proof: list[bytes]) -> TxReceipt:
    return client.transact(client.ledger.functions.unsealPlant(job_id, round_, slot, salt, proof))


def settle_submission(client: ChainClient, job_id: int, round_: int, slot: int) -> TxReceipt:
    return client.transact(client.ledger.functions.settleSubmission(job_id, round_, slot))


def settle_seat(client: ChainClient, job_id: int, round_: int, slot: int, panel: Panel, seat: int) -> TxReceipt:
    return client.transact(client.ledger.functions.settleSeat(job_id, round_, slot, panel, seat))


def vacate_slot(client: ChainClient, job_id: int, round_: int, slot: int) -> TxReceipt:
    return client.transact(client.ledger.functions.vacateSlot(job_id, round_, slot))


def subject_key(client: ChainClient, job_id: int, round_: int, slot: int) -> bytes:
    return bytes(client.call(client.ledger.functions.subjectKey(job_id, round_, slot)))


def subject_of(client: ChainClient, job_id: int, round_: int, slot: int) -> SubjectView:
    return SubjectView.from_abi(client.call(client.lens.functions.subjectOf(job_id, round_, slot)))


def timeline_of(client: ChainClient, job_id: int, round_: int, slot: int) -> Timeline:
    return Timeline.from_abi(client.call(client.lens.functions.timelineOf(job_id, round_, slot)))


def attempts_of(client: ChainClient, job_id: int, round_: int, slot: int) -> tuple[int, int, int]:
    """(seed try, audit attempt, committee attempt) in effect now."""
    seed, audit, committee = client.call(client.lens.functions.attemptsOf(job_id, round_, slot))
    return int(seed), int(audit), int(committee)


def audit_status(client: ChainClient, job_id: int, round_: int, slot: int) -> tuple[bool, bool]:
    """(known, audited)."""
    known, audited = client.call(client.lens.functions.auditStatus(job_id, round_, slot))
    return bool(known), bool(audited)


def sampled_intervals(client: ChainClient, job_id: int, round_: int, slot: int) -> list[int]:
    return [int(i) for i in client.call(client.lens.functions.sampledIntervals(job_id, round_, slot))]


def seats_of(client: ChainClient, job_id: int, round_: int, slot: int, panel: Panel) -> list[Seat]:
    """Every drawn seat of a panel, all attempts."""
    numbers, seats = client.call(client.lens.functions.seatsOf(job_id, round_, slot, panel))
    return [Seat.from_abi(n, s) for n, s in zip(numbers, seats, strict=True)]


def seat_of(client: ChainClient, subject: bytes, panel: Panel, seat: int) -> Seat:
    return Seat.from_abi(seat, client.call(client.ledger.functions.seatOf(subject, panel, seat)))


def randomness_blocks(client: ChainClient, job_id: int, round_: int, slot: int) -> list[int]:
    return [int(b) for b in client.call(client.lens.functions.randomnessBlocks(job_id, round_, slot))]


def credited_accounts(client: ChainClient) -> set[str]:
    """Every account the vault ever credited, from its events since deployment."""
    return {e.to for e in fetch(client, EscrowPaid)} | {e.to for e in fetch(client, PoolPaid)}


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
