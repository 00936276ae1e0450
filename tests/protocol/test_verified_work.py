"""Real work, verified for real: miners train segments and pin bundles on Kubo, commit them on anvil, answer
the audit; the drawn validators fetch everything through the committed digests, replay the sampled intervals and
vote. The honest miner is paid; the lazy one (a skipped step in every interval) is caught and slashed."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from eth_utils import keccak

from crucible.artifacts.store import ArtifactStore, sha256
from crucible.chain.client import ChainClient
from crucible.engine.compare import Tolerance
from crucible.engine.data import dataset_bytes, make_dataset
from crucible.engine.determinism import configure
from crucible.engine.jobspec import JobSpec
from crucible.engine.model import PRESETS, build_model
from crucible.engine.segment import run_segment
from crucible.errors import IpfsUnavailable
from crucible.localnet.network import LocalNetwork
from crucible.protocol import ledger
from crucible.protocol.types import JobContent, JobKind, JobParams, Outcome, Panel, Verdict
from crucible.simulation.adversary import run_cheat
from crucible.staking import add_stake
from miner.work import answer_audit, mine_slot
from tests.protocol.roles import FAST, activate, record_randomness_at
from validator.audit import audit_slot


@pytest.fixture(scope="module")
def cast(network: LocalNetwork) -> dict[str, ChainClient]:
    clients = {name: network.client_for(network.accounts[i]) for i, name in enumerate(
        ["sponsor", "honest", "lazy", "v1", "v2", "v3"])}  # fmt: skip
    for name in ("honest", "lazy"):
        add_stake(clients[name], 300 * 10**18)
    for name in ("v1", "v2", "v3"):
        add_stake(clients[name], 200 * 10**18, register_validator=True)
    activate(network)
    return clients


def commit_votes(cast, store, job_id, slot, panel, job, dataset, base, tolerance, device) -> list[tuple]:  # type: ignore[no-untyped-def]
    """The panel is drawn; every drawn seat audits the slot and commits its verdict."""
    by_address = {c.sender: c for c in cast.values()}
    ledger.draw_seats(cast["sponsor"], job_id, 0, slot, panel)
    votes = []
    for drawn in ledger.seats_of(cast["sponsor"], job_id, 0, slot, panel):
        seat = drawn.number
        validator = by_address[drawn.validator]
        report = audit_slot(validator, store, job_id, 0, slot, job, dataset, base, tolerance, device)
        evidence = report.evidence()
        salt = keccak(text=f"{slot}-{panel}-{seat}")
        key = ledger.subject_of(validator, job_id, 0, slot).key
        h = ledger.verdict_commitment(validator, key, panel, seat, report.verdict, sha256(evidence), salt, validator.sender)
        ledger.commit_verdict(validator, job_id, 0, slot, panel, seat, h)
        votes.append((validator, slot, panel, seat, report.verdict, sha256(evidence), salt, store.add(evidence)))
    return votes


def reveal_votes(job_id: int, votes: list[tuple]) -> list[Verdict]:  # type: ignore[type-arg]
    for validator, slot, panel, seat, verdict, evidence_digest, salt, evidence_cid in votes:
        ledger.reveal_verdict(validator, job_id, 0, slot, panel, seat, verdict=verdict, evidence_digest=evidence_digest,
                              salt=salt, evidence_cid=evidence_cid)  # fmt: skip
    return [v[4] for v in votes]


def test_honest_work_is_accepted_and_a_lazy_miner_is_slashed(network: LocalNetwork, cast, store: ArtifactStore, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    device = torch.device("cpu")
    configure(device)
    cfg = PRESETS["tiny"]
    dataset = make_dataset("sft", 512, cfg.block_size, seed=3)
    data = dataset_bytes(dataset)
    job = JobSpec("sft", cfg, store.add(data), sha256(data).hex(), job_seed=99, steps_per_interval=4, intervals=4)
    spec_cid = store.add(job.to_bytes())
    base = {f"model.{n}": p.detach() for n, p in build_model(cfg, 5, device).named_parameters()}
    tolerance = Tolerance()
    content = JobContent(job.digest(), sha256(tolerance.to_bytes()), keccak(text="base"))
    params = JobParams(kind=JobKind.SFT, slots_per_round=2, intervals_per_slot=4, sampled_intervals=2,
                       seats_per_audit=2, committee_size=3, windows=FAST)  # fmt: skip
    job_id = ledger.create_job(cast["sponsor"], params, content, spec_cid)

    lazy_spec = job.segment(job_id, 0, 1, cast["lazy"].sender)
    lazy_run = run_cheat("lazy (skipped step)", lazy_spec, base, dataset, tmp_path / "lazy", device)
    honest_run = run_segment(job.segment(job_id, 0, 0, cast["honest"].sender), base, dataset, tmp_path / "honest", device)
    # Both submit in one pass; each seed block's randomness is recorded as it is mined.
    honest = mine_slot(cast["honest"], store, job_id, 0, 0, job, dataset, base, tmp_path / "honest", device, run=honest_run)
    record_randomness_at(network, cast["sponsor"], ledger.timeline_of(cast["sponsor"], job_id, 0, 0).seed_block)
    lazy = mine_slot(cast["lazy"], store, job_id, 0, 1, job, dataset, base, tmp_path / "lazy", device, run=lazy_run)
    timeline = ledger.timeline_of(cast["sponsor"], job_id, 0, 1)  # the later submission
    record_randomness_at(network, cast["sponsor"], timeline.seed_block)
    answer_audit(cast["honest"], store, honest)
    answer_audit(cast["lazy"], store, lazy)

    honest_votes = commit_votes(cast, store, job_id, 0, Panel.AUDIT, job, dataset, base, tolerance, device)
    lazy_votes = commit_votes(cast, store, job_id, 1, Panel.AUDIT, job, dataset, base, tolerance, device)
    network.mine(timeline.commit_end + 1 - cast["sponsor"].block_number())
    assert reveal_votes(job_id, honest_votes) == [Verdict.PASS] * 2
    assert reveal_votes(job_id, lazy_votes) == [Verdict.FAIL] * 2
    record_randomness_at(network, cast["sponsor"], ledger.timeline_of(cast["sponsor"], job_id, 0, 1).committee_seed_block)
    committee = commit_votes(cast, store, job_id, 1, Panel.COMMITTEE, job, dataset, base, tolerance, device)
    network.mine(timeline.dispute_commit_end + 1 - cast["sponsor"].block_number())
    assert reveal_votes(job_id, committee) == [Verdict.FAIL] * 3
    network.mine(ledger.timeline_of(cast["sponsor"], job_id, 0, 1).dispute_reveal_end + 1 - cast["sponsor"].block_number())

    lazy_stake = ledger.stake_of(cast["lazy"], cast["lazy"].sender).staked
    for slot in (0, 1):
        ledger.settle_submission(cast["sponsor"], job_id, 0, slot)
    assert ledger.subject_of(cast["sponsor"], job_id, 0, 0).outcome is Outcome.ACCEPTED
    assert ledger.subject_of(cast["sponsor"], job_id, 0, 1).outcome is Outcome.REJECTED_CHEAT
    assert cast["honest"].call(cast["honest"].vault.functions.claimableOf(cast["honest"].sender)) == params.miner_reward
    assert ledger.stake_of(cast["lazy"], cast["lazy"].sender).staked < lazy_stake - params.miner_collateral
    for slot in (0, 1):
        for panel in (Panel.AUDIT, Panel.COMMITTEE):
            seats = ledger.seats_of(cast["sponsor"], job_id, 0, slot, panel)
            for seat in sorted(seats, key=lambda s: s.won(ledger.subject_of(cast["sponsor"], job_id, 0, slot).outcome)):
                ledger.settle_seat(cast["sponsor"], job_id, 0, slot, panel, seat.number)
    assert ledger.books_balance(cast["sponsor"])

    # A validator whose own Kubo is down gets an error to retry on, never a verdict against the miner.
    dead = ArtifactStore("/ip4/127.0.0.1/tcp/9/http", timeout=2)
    with pytest.raises(IpfsUnavailable):
        audit_slot(cast["v1"], dead, job_id, 0, 0, job, dataset, base, tolerance, device)
