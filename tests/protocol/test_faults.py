"""Faults in the middle of a round: a miner killed between its submit transaction and its journal write, a validator
killed between its commit and its reveal, Kubo stopped while validators need it, the RPC cut under a miner, an RPC
that answers with errors and one that serves an older chain (a lagging backend behind a load balancer). Each time
the process (or a new one on the same journal) picks up where the chain and the journal say it was: nothing is lost,
nothing is sent twice, the logs say what happened, and the round completes."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from crucible.artifacts.store import ArtifactStore
from crucible.chain.client import ChainClient
from crucible.journal import Journal
from crucible.localnet.drive import drive
from crucible.localnet.kubo import KuboNode
from crucible.localnet.network import LocalNetwork
from crucible.protocol import ledger
from crucible.protocol.events import VerdictCommitted, VerdictRevealed, WorkSubmitted, fetch
from crucible.protocol.types import JobContent, JobParams, Outcome
from crucible.simulation.rpc_relay import Mode, RpcRelay
from miner.daemon import Miner, MinerConfig
from tests.protocol.proxy import Relay
from tests.protocol.roles import CPU, FAST, make_miner, make_validator, post, settled_with_seats, use_validators
from validator.daemon import Validator, ValidatorConfig


class Crash(BaseException):
    """Stands in for SIGKILL: unwinds the process's stack without any handler running."""


class DiesBeforeRecording(Journal):
    """The role's journal file, on a machine that loses power right when the role goes to record `state`: the
    transaction before it has landed on the real chain, the journal never hears of it."""

    def __init__(self, path: Path, state: str) -> None:
        super().__init__(path)
        self.state = state

    def put(self, key: str, kind: str, state: str, data: dict[str, Any], note: str = "") -> Any:
        if state == self.state:
            raise Crash(state)
        return super().put(key, kind, state, data, note)


def submissions_by(network: LocalNetwork, job_id: int, miner: str) -> int:
    return len(fetch(network.client, WorkSubmitted, job_id=job_id, miner=miner))


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("faults")


def test_a_miner_killed_after_submitting_resumes_without_training_or_submitting_again(
    network: LocalNetwork, store: ArtifactStore, root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    validator = make_validator(network, store, 4, root)
    use_validators(network, [4])
    miner = make_miner(network, store, 1, root, aggregates=False)
    posted = post(network, store, slots=1, seed=21)
    miner.journal = DiesBeforeRecording(miner.journal.path, "submitted")
    with pytest.raises(Crash):
        drive(network, [("miner", miner)], until=lambda: False, max_passes=20)
    key = f"{posted.job_id}/0/0"
    assert miner.journal.get(key).state == "submitting"  # the submit landed; the journal never heard of it

    reborn = Miner(network.client_for(network.accounts[1]), store, Journal(miner.journal.path), device=CPU,
                   config=MinerConfig(work_dir=miner.config.work_dir, aggregate=False))  # fmt: skip
    with caplog.at_level(logging.INFO):
        drive(network, [("miner", reborn), ("validator", validator)],
              until=lambda: settled_with_seats(network, posted.job_id, 0, 0), max_passes=200)  # fmt: skip
    history = reborn.journal.history(key)
    assert history.count("trained") == 1 and history.count("submitting") == 1  # trained once, committed once
    assert submissions_by(network, posted.job_id, network.accounts[1].address) == 1
    assert ledger.subject_of(network.client, posted.job_id, 0, 0).outcome is Outcome.ACCEPTED
    assert any(f"slot {key}: submitted bundle" in r.getMessage() for r in caplog.records)


def test_a_validator_killed_between_commit_and_reveal_still_reveals_once(
    network: LocalNetwork, store: ArtifactStore, root: Path
) -> None:
    validator = make_validator(network, store, 5, root)
    use_validators(network, [5])  # the only validator: it holds the one seat a panel can draw
    miner = make_miner(network, store, 2, root, aggregates=False)
    posted = post(network, store, slots=1, seed=22)
    miner.config.jobs = frozenset({posted.job_id})
    validator.journal = DiesBeforeRecording(validator.journal.path, "committed")
    with pytest.raises(Crash):
        drive(network, [("miner", miner), ("validator", validator)], until=lambda: False, max_passes=60)
    reborn = Validator(network.client_for(network.accounts[5]), store, Journal(validator.journal.path), device=CPU,
                       config=ValidatorConfig())  # fmt: skip
    stake = ledger_stake(network, 5)
    drive(network, [("miner", miner), ("validator", reborn)],
          until=lambda: settled_with_seats(network, posted.job_id, 0, 0), max_passes=200)  # fmt: skip
    view = ledger.subject_of(network.client, posted.job_id, 0, 0)
    commits = fetch(network.client, VerdictCommitted, subject=view.key)
    reveals = fetch(network.client, VerdictRevealed, subject=view.key)
    assert len(commits) == len(reveals) == 1  # its seat, committed once and revealed
    assert view.outcome is Outcome.ACCEPTED and view.audit_pass == 1
    assert ledger_stake(network, 5) == stake  # a revealed, correct verdict is never slashed
    use_validators(network, [4, 5])


def test_kubo_stopped_mid_round_delays_the_audit_but_the_round_completes(
    network: LocalNetwork, kubo: KuboNode, store: ArtifactStore, root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    validator = make_validator(network, store, 6, root)
    use_validators(network, [6])
    miner = make_miner(network, store, 3, root, aggregates=False)
    posted = post(network, store, slots=1, seed=23)
    miner.config.jobs = frozenset({posted.job_id})
    # Run until the miner has revealed its sampled checkpoints, then take IPFS away from everybody.
    drive(network, [("miner", miner)], until=lambda: ledger.subject_of(network.client, posted.job_id, 0, 0).status.value >= 3,
          max_passes=60)  # fmt: skip
    kubo.stop()
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            assert not validator.safe_tick()
            network.mine(1)
    assert any("IpfsUnavailable" in r.getMessage() for r in caplog.records)
    key = ledger.subject_of(network.client, posted.job_id, 0, 0).key
    assert fetch(network.client, VerdictCommitted, subject=key) == []  # no verdict was made up while IPFS was away
    restarted = kubo.restart(same_ports=True)  # same API address: the roles' clients just work again
    kubo.process, kubo.owns_repo = restarted.process, restarted.owns_repo  # the fixture stops it at the end
    drive(network, [("miner", miner), ("validator", validator)],
          until=lambda: settled_with_seats(network, posted.job_id, 0, 0), max_passes=200)  # fmt: skip
    assert ledger.subject_of(network.client, posted.job_id, 0, 0).outcome is Outcome.ACCEPTED


def test_the_rpc_going_away_is_logged_and_survived(
    network: LocalNetwork, store: ArtifactStore, root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    relay = Relay(int(network.rpc_url.rsplit(":", 1)[1])).start()
    account = network.accounts[3]
    client = ChainClient(w3=Web3(Web3.HTTPProvider(relay.url, request_kwargs={"timeout": 3})),
                         deployment=network.client.deployment, account=account, compiled=network.client.compiled)  # fmt: skip
    miner = Miner(client, store, Journal(root / "relay-miner.sqlite"), device=CPU,
                  config=MinerConfig(work_dir=root / "relay-miner", aggregate=False))  # fmt: skip
    validator = make_validator(network, store, 6, root / "v")
    posted = post(network, store, slots=1, seed=24)
    miner.config.jobs = frozenset({posted.job_id})
    drive(network, [("miner", miner)], until=lambda: miner.journal.entries("slot") != [], max_passes=10)
    relay.cut()
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            assert not miner.safe_tick()
            network.mine(1)
    assert any("RpcUnavailable" in r.getMessage() for r in caplog.records)
    relay.start()
    try:
        drive(network, [("miner", miner), ("validator", validator)],
              until=lambda: settled_with_seats(network, posted.job_id, 0, 0), max_passes=200)  # fmt: skip
    finally:
        relay.cut()
    assert ledger.subject_of(network.client, posted.job_id, 0, 0).outcome is Outcome.ACCEPTED
    assert submissions_by(network, posted.job_id, account.address) == 1


def test_an_rpc_answering_errors_and_then_a_stale_chain_delays_a_miner_but_loses_nothing(
    network: LocalNetwork, store: ArtifactStore, root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    validator = make_validator(network, store, 6, root / "flaky-v")
    use_validators(network, [6])
    account = network.accounts[3]
    with RpcRelay(network.rpc_url) as relay:
        url = relay.add("miner").url
        client = ChainClient(w3=Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 5})),
                             deployment=network.client.deployment, account=account, compiled=network.client.compiled)  # fmt: skip
        miner = Miner(client, store, Journal(root / "flaky-miner.sqlite"), device=CPU,
                      config=MinerConfig(work_dir=root / "flaky-miner", aggregate=False))  # fmt: skip
        miner.start()  # staked while the RPC is healthy
        # Every transaction mines a block here, so the fault phases below eat blocks of the checkpoint-reveal
        # window; a wider one keeps the test about losing nothing, not about racing that window.
        windows = replace(FAST, checkpoint_reveal_window=max(FAST.checkpoint_reveal_window, 30))
        posted = post(network, store, slots=1, seed=27, windows=windows)
        miner.config.jobs = frozenset({posted.job_id})
        key = f"{posted.job_id}/0/0"
        relay.set_mode(Mode.ERRORS, every=5)  # one request in five fails: HTTP 503 or JSON-RPC -32603

        def step() -> bool:  # the validator (on a healthy RPC) keeps the audit's randomness meanwhile
            healthy = miner.safe_tick()
            validator.safe_tick()
            network.mine(1)
            return healthy

        passes = []
        with caplog.at_level(logging.WARNING):
            while len(passes) < 40 and (miner.journal.get(key) is None or miner.journal.get(key).state != "submitted"):
                passes.append(step())
        assert miner.journal.get(key).state == "submitted", f"not submitted after {len(passes)} passes"
        assert False in passes and any("RpcErrorResponse" in r.getMessage() for r in caplog.records)
        relay.set_mode(Mode.FLAPPING, lag=3)  # a load balancer over an up-to-date and a lagging backend
        caplog.clear()
        stale = []
        with caplog.at_level(logging.WARNING):
            for _ in range(6):
                stale.append(step())
        assert False in stale and any("RpcStale" in r.getMessage() for r in caplog.records)
        relay.set_mode(Mode.PASS)
        drive(network, [("miner", miner), ("validator", validator)],
              until=lambda: settled_with_seats(network, posted.job_id, 0, 0), max_passes=200)  # fmt: skip
    assert ledger.subject_of(network.client, posted.job_id, 0, 0).outcome is Outcome.ACCEPTED
    assert submissions_by(network, posted.job_id, account.address) == 1  # submitted once, through every fault
    history = miner.journal.history(key)
    assert history.count("trained") == 1 and history[-1] == "done"


def ledger_stake(network: LocalNetwork, index: int) -> int:
    client = network.client
    return ledger.stake_of(client, network.accounts[index].address).staked


def test_a_job_whose_artifacts_never_check_out_is_logged_and_does_not_stop_other_work(
    network: LocalNetwork, store: ArtifactStore, root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sponsor = network.client_for(network.accounts[0])
    bogus_spec = store.add(b'{"not": "the spec the chain commits"}')
    content = JobContent(bytes(32), bytes(32), bytes(32))  # digests nothing on IPFS matches
    bad = ledger.create_job(sponsor, JobParams(windows=FAST), content, bogus_spec)
    good = post(network, store, slots=1, seed=25)
    miner = make_miner(network, store, 2, root / "bad-job", aggregates=False)
    miner.config.jobs = frozenset({bad, good.job_id})
    with caplog.at_level(logging.ERROR):
        drive(network, [("miner", miner)], until=lambda: miner.journal.get(f"{good.job_id}/0/0") is not None,
              max_passes=5)  # fmt: skip
    assert any(f"job {bad}" in r.getMessage() and "DigestMismatch" in r.getMessage() for r in caplog.records)
    assert not [e for e in miner.journal.entries("slot") if e.data["job"] == bad]  # nothing claimed, nothing locked
    assert miner.journal.get(f"job/{bad}").state == "invalid"  # said once, then skipped


def test_a_slot_taken_first_by_someone_else_is_given_up_without_locking_anything(
    network: LocalNetwork, store: ArtifactStore, root: Path
) -> None:
    posted = post(network, store, slots=1, seed=26)
    rival = network.client_for(network.accounts[1])
    ledger.claim_slot(rival, posted.job_id, 0, 0)
    miner = make_miner(network, store, 3, root / "late", aggregates=False)
    locked = ledger.stake_of(network.client, miner.address).locked
    assert not miner._claim(posted.job_id, 0, 0)
    entry = miner.journal.get(f"{posted.job_id}/0/0")
    assert entry.state == "lost" and miner.journal.history(entry.key) == ["claiming", "lost"]
    assert ledger.stake_of(network.client, miner.address).locked == locked
