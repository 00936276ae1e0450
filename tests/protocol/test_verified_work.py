"""Real work, verified for real: miners train segments and pin bundles on Kubo, commit them on anvil, answer
the audit; the drawn validators fetch everything through the committed digests, replay the sampled intervals and
vote. The honest miner is paid; the lazy one (a skipped step in every interval) is caught and slashed."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from eth_utils import keccak

from crucible.adversary import run_cheat
from crucible.artifacts.store import ArtifactStore, sha256
from crucible.chain.client import ChainClient
from crucible.engine.compare import Tolerance
from crucible.errors import IpfsUnavailable
from crucible.engine.data import dataset_bytes, make_dataset
from crucible.engine.determinism import configure
from crucible.engine.jobspec import JobSpec
from crucible.engine.model import PRESETS, build_model
from crucible.localnet.network import LocalNetwork
from crucible.protocol import ledger
from crucible.protocol.types import JobContent, JobKind, JobParams, Outcome, Panel, Verdict
from crucible.staking import add_stake
from miner.work import answer_audit, mine_slot
from validator.audit import audit_slot


@pytest.fixture(scope="module")
def cast(network: LocalNetwork) -> dict[str, ChainClient]:
    clients = {name: network.client_for(network.accounts[i]) for i, name in enumerate(
        ["sponsor", "honest", "lazy", "v1", "v2", "v3"])}  # fmt: skip
    for name in ("honest", "lazy"):
        add_stake(clients[name], 300 * 10**18)
    for name in ("v1", "v2", "v3"):
        add_stake(clients[name], 200 * 10**18, register_validator=True)
    return clients


def commit_votes(cast, store, job_id, slot, panel, job, dataset, base, tolerance, device) -> list[tuple]:  # type: ignore[no-untyped-def]
    """Every drawn seat audits the slot and commits its verdict."""
    by_address = {c.sender: c for c in cast.values()}
    votes = []
    for seat in range(2 if panel is Panel.AUDIT else 3):
        validator = by_address[ledger.seat_holder(cast["sponsor"], job_id, 0, slot, panel, seat)]
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
                       seats_per_audit=2, committee_size=3)  # fmt: skip
    job_id = ledger.create_job(cast["sponsor"], params, content, spec_cid)

    honest = mine_slot(cast["honest"], store, job_id, 0, 0, job, dataset, base, tmp_path / "honest", device)
    lazy_spec = job.segment(job_id, 0, 1, cast["lazy"].sender)
    lazy_run = run_cheat("lazy (skipped step)", lazy_spec, base, dataset, tmp_path / "lazy", device)
    lazy = mine_slot(cast["lazy"], store, job_id, 0, 1, job, dataset, base, tmp_path / "lazy", device, run=lazy_run)

    timeline = ledger.timeline_of(cast["sponsor"], job_id, 0, 1)  # the later submission
    network.mine(timeline.seed_block + 1 - cast["sponsor"].block_number())
    answer_audit(cast["honest"], store, honest)
    answer_audit(cast["lazy"], store, lazy)

    honest_votes = commit_votes(cast, store, job_id, 0, Panel.AUDIT, job, dataset, base, tolerance, device)
    lazy_votes = commit_votes(cast, store, job_id, 1, Panel.AUDIT, job, dataset, base, tolerance, device)
    network.mine(timeline.commit_end + 1 - cast["sponsor"].block_number())
    assert reveal_votes(job_id, honest_votes) == [Verdict.PASS] * 2
    assert reveal_votes(job_id, lazy_votes) == [Verdict.FAIL] * 2
    network.mine(timeline.dispute_seed_block + 1 - cast["sponsor"].block_number())
    committee = commit_votes(cast, store, job_id, 1, Panel.COMMITTEE, job, dataset, base, tolerance, device)
    network.mine(timeline.dispute_commit_end + 1 - cast["sponsor"].block_number())
    assert reveal_votes(job_id, committee) == [Verdict.FAIL] * 3
    network.mine(timeline.dispute_reveal_end + 1 - cast["sponsor"].block_number())

    lazy_stake = cast["lazy"].call(cast["lazy"].stakes.functions.stakeOf(cast["lazy"].sender))[0]
    for slot in (0, 1):
        ledger.settle_submission(cast["sponsor"], job_id, 0, slot)
    assert ledger.subject_of(cast["sponsor"], job_id, 0, 0).outcome is Outcome.ACCEPTED
    assert ledger.subject_of(cast["sponsor"], job_id, 0, 1).outcome is Outcome.REJECTED_CHEAT
    assert cast["honest"].call(cast["honest"].vault.functions.claimableOf(cast["honest"].sender)) == params.miner_reward
    assert cast["lazy"].call(cast["lazy"].stakes.functions.stakeOf(cast["lazy"].sender))[0] < lazy_stake - params.miner_collateral
    for slot, panels in ((0, [(Panel.AUDIT, 2)]), (1, [(Panel.AUDIT, 2), (Panel.COMMITTEE, 3)])):
        for panel, seats in panels:
            for seat in range(seats):
                ledger.settle_seat(cast["sponsor"], job_id, 0, slot, panel, seat)
    assert ledger.books_balance(cast["sponsor"])

    # A validator whose own Kubo is down gets an error to retry on, never a verdict against the miner.
    dead = ArtifactStore("/ip4/127.0.0.1/tcp/9/http", timeout=2)
    with pytest.raises(IpfsUnavailable):
        audit_slot(cast["v1"], dead, job_id, 0, 0, job, dataset, base, tolerance, device)
