"""The shipped miner and validator daemons run a network on a real anvil and a real Kubo: they find the job, train,
pin, submit, answer audits, replay, vote, dispute, aggregate and settle on their own. The tests only let blocks pass
and read the outcome: honest parties are paid exactly, cheaters are slashed, and the books balance to the wei."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from crucible.artifacts.store import ArtifactStore
from crucible.cli.main import cli
from crucible.journal import Journal
from crucible.localnet.drive import drive
from crucible.localnet.network import LocalNetwork
from crucible.node import JOB_LIFECYCLE
from crucible.protocol import ledger
from crucible.protocol.plants import Plant
from crucible.protocol.types import Outcome, Panel
from crucible.simulation.actors import CheatingMiner, FalseAccuser, LazyValidator, Sentinel
from miner.daemon import LIFECYCLE as SLOT_LIFECYCLE
from tests.protocol.roles import (
    activate,
    earned,
    make_miner,
    make_validator,
    post,
    settled_with_seats,
    stake_of,
    use_validators,
)
from validator.daemon import SEAT_LIFECYCLE, SUBJECT_LIFECYCLE

HONEST_A, HONEST_B, CHEATER = 1, 2, 3
VALIDATORS = (4, 5, 6)


def job_done(network: LocalNetwork, job_id: int) -> bool:
    return ledger.job_state(network.client, job_id).status.finished


def all_settled(network: LocalNetwork, job_id: int, rounds: int, slots: int) -> bool:
    return all(ledger.subject_of(network.client, job_id, r, s).outcome.value for r in range(rounds) for s in range(slots))


@pytest.fixture(scope="module")
def crew(network: LocalNetwork, store: ArtifactStore, tmp_path_factory: pytest.TempPathFactory) -> dict:  # type: ignore[type-arg]
    root = tmp_path_factory.mktemp("crew")
    crew = {
        "root": root,
        "honest_a": make_miner(network, store, HONEST_A, root),
        "honest_b": make_miner(network, store, HONEST_B, root),
        "cheater": make_miner(network, store, CHEATER, root, cls=CheatingMiner, cheat="lazy (skipped step)",
                              aggregates=False),
        "validators": [make_validator(network, store, i, root) for i in VALIDATORS],
    }
    activate(network)  # the validators' weights count two epochs after they join
    return crew


def test_two_rounds_of_pretraining_pay_the_honest_and_slash_the_cheater(network: LocalNetwork, store: ArtifactStore, crew) -> None:  # type: ignore[no-untyped-def]
    posted = post(network, store, rounds=2, slots=3)
    crew["jobs"] = {"story": posted.job_id}
    before = {i: stake_of(network, i) for i in (HONEST_A, HONEST_B, CHEATER)}
    validator_stakes = {i: stake_of(network, i) for i in VALIDATORS}
    earned_before = {i: earned(network, i) for i in (HONEST_A, HONEST_B, CHEATER)}
    nodes = [("honest_a", crew["honest_a"]), ("honest_b", crew["honest_b"]), ("cheater", crew["cheater"])]
    nodes += [(f"validator{i}", v) for i, v in enumerate(crew["validators"])]
    drive(network, nodes, until=lambda: job_done(network, posted.job_id) and all(
        not n.journal.entries("subject", exclude_states=("done",)) for _, n in nodes[3:]), max_passes=600)  # fmt: skip

    params = ledger.job_params(network.client, posted.job_id)
    cheater = network.accounts[CHEATER].address
    work = {(r, s): ledger.subject_of(network.client, posted.job_id, r, s) for r in range(2) for s in range(3)}
    assert {v.outcome for v in work.values() if v.miner == cheater} == {Outcome.REJECTED_CHEAT}
    assert {v.outcome for v in work.values() if v.miner != cheater} == {Outcome.ACCEPTED}
    assert stake_of(network, CHEATER) < before[CHEATER] - 2 * params.miner_collateral  # collateral twice, and more
    aggregates = accepted_aggregates(network, posted.job_id, rounds=2, slots=3)
    assert len(aggregates) == 2
    # Each honest miner earned exactly its accepted slots' rewards plus the aggregation rewards it won.
    for i in (HONEST_A, HONEST_B):
        address = network.accounts[i].address
        slots = sum(1 for v in work.values() if v.miner == address)
        won = sum(1 for a in aggregates if a == address)
        assert earned(network, i) - earned_before[i] == slots * params.miner_reward + won * params.aggregator_reward
        assert stake_of(network, i) == before[i]
    assert earned(network, CHEATER) == earned_before[CHEATER]
    for i in VALIDATORS:  # honest validators are never slashed
        assert stake_of(network, i) == validator_stakes[i]
    assert ledger.books_balance(network.client)


def accepted_aggregates(network: LocalNetwork, job_id: int, *, rounds: int, slots: int) -> list[str]:
    """The miner of each round's accepted aggregate (earlier, rejected aggregates took slots W, W+1, ...)."""
    out = []
    for r in range(rounds):
        failed = ledger.round_of(network.client, job_id, r).failed_aggregates
        view = ledger.subject_of(network.client, job_id, r, slots + failed)
        assert view.outcome is Outcome.ACCEPTED
        out.append(view.miner)
    return out


LAZY, ACCUSER, SENTINEL = 7, 8, 9


def test_a_lazy_validator_is_caught_by_the_sponsors_plant(network: LocalNetwork, store: ArtifactStore, crew) -> None:  # type: ignore[no-untyped-def]
    lazy = make_validator(network, store, LAZY, crew["root"], cls=LazyValidator)
    sentinel = make_miner(network, store, SENTINEL, crew["root"], cls=Sentinel)
    use_validators(network, [LAZY, *VALIDATORS])  # four validators: an audit panel of four seats holds them all
    sentinel_address = network.accounts[SENTINEL].address
    posted = post(network, store, slots=1, seed=7, seats_per_audit=4, plants=[Plant(0, 0, sentinel_address)])
    sentinel.plant(posted.job_id, posted.plants)
    stakes = {i: stake_of(network, i) for i in (LAZY, SENTINEL, *VALIDATORS)}
    nodes = [("sentinel", sentinel), ("lazy", lazy)] + [(f"v{i}", v) for i, v in enumerate(crew["validators"])]
    drive(network, nodes, until=lambda: settled_with_seats(network, posted.job_id, 0, 0), max_passes=400)

    view = ledger.subject_of(network.client, posted.job_id, 0, 0)
    # The lazy seat passed the plant, so it went to the committee, whose honest majority confirmed it wrong.
    assert view.planted and view.outcome is Outcome.REJECTED_PLANTED
    params = ledger.job_params(network.client, posted.job_id)
    lazy_seats = sum(1 for panel in (Panel.AUDIT, Panel.COMMITTEE)
                     for seat in ledger.seats_of(network.client, posted.job_id, 0, 0, panel)
                     if seat.validator == network.accounts[LAZY].address)  # fmt: skip
    assert lazy_seats >= 1
    assert stake_of(network, LAZY) == stakes[LAZY] - lazy_seats * params.validator_slash
    assert stake_of(network, SENTINEL) == stakes[SENTINEL]  # the sponsor's sentinel is not slashed
    for i in VALIDATORS:  # honest validators who failed the plant are never slashed
        assert stake_of(network, i) == stakes[i]
    assert ledger.books_balance(network.client)


def test_a_false_accuser_is_slashed_when_the_committee_replays_honest_work(network: LocalNetwork, store: ArtifactStore, crew) -> None:  # type: ignore[no-untyped-def]
    accuser = make_validator(network, store, ACCUSER, crew["root"], cls=FalseAccuser)
    honest = crew["honest_a"]
    use_validators(network, [ACCUSER, *VALIDATORS])  # four seats: the accuser is on the audit panel
    posted = post(network, store, slots=1, seed=11, seats_per_audit=4)
    crew["jobs"]["accused"] = posted.job_id
    honest.config.jobs = frozenset({posted.job_id})  # (the earlier job's aggregation is not this story)
    accuser_stake, miner_stake, earned_before = stake_of(network, ACCUSER), stake_of(network, HONEST_A), earned(network, HONEST_A)
    nodes = [("honest", honest), ("accuser", accuser)] + [(f"v{i}", v) for i, v in enumerate(crew["validators"])]
    drive(network, nodes, until=lambda: settled_with_seats(network, posted.job_id, 0, 0), max_passes=400)

    view = ledger.subject_of(network.client, posted.job_id, 0, 0)
    params = ledger.job_params(network.client, posted.job_id)
    assert view.outcome is Outcome.ACCEPTED and view.audit_fail == 1 and view.audit_pass == 3
    assert view.committee_pass > view.committee_fail
    accuser_address = network.accounts[ACCUSER].address
    accuser_seats = sum(1 for panel in (Panel.AUDIT, Panel.COMMITTEE)
                        for seat in ledger.seats_of(network.client, posted.job_id, 0, 0, panel)
                        if seat.validator == accuser_address)  # fmt: skip
    assert stake_of(network, ACCUSER) == accuser_stake - accuser_seats * params.validator_slash
    assert stake_of(network, HONEST_A) == miner_stake
    assert earned(network, HONEST_A) - earned_before == params.miner_reward
    assert ledger.books_balance(network.client)


def test_anyone_can_read_the_record_and_check_past_verdicts_from_public_data(network: LocalNetwork, kubo, crew) -> None:  # type: ignore[no-untyped-def]
    env = {"CRUCIBLE_RPC_URL": network.rpc_url, "CRUCIBLE_DEPLOYMENT": str(network.deployment_file),
           "CRUCIBLE_IPFS_API": kubo.api_multiaddr}  # fmt: skip
    runner = CliRunner()
    story = crew["jobs"]["story"]
    slashed = json.loads(runner.invoke(cli, ["--json", "status", "slashes", "--job", str(story)], env=env).stdout)
    cheater = network.accounts[CHEATER].address
    assert {row["account"] for row in slashed["slashes"]} == {cheater}
    assert all(row["why"] == "REJECTED_CHEAT" for row in slashed["slashes"])
    for table in ("stakes", "submissions", "verdicts", "rewards"):
        shown = runner.invoke(cli, ["status", table], env=env)
        assert shown.exit_code == 0 and table in shown.output

    # The cheater's slot: the panel's Fail holds up under an independent replay.
    cheat_slot = next(s for s in range(3) if ledger.subject_of(network.client, story, 0, s).miner == cheater)
    held = runner.invoke(cli, ["--json", "verify", str(story), "0", str(cheat_slot), "--seat", "0"], env=env)
    assert held.exit_code == 0, held.output
    check = json.loads(held.stdout.splitlines()[0])
    assert check["on_chain"] == "FAIL" and check["replayed"] == "FAIL" and check["evidence_ok"]
    # The false accuser's Fail on honest work does not.
    accused = crew["jobs"]["accused"]
    accuser_seat = next(s.number for s in ledger.seats_of(network.client, accused, 0, 0, Panel.AUDIT)
                        if s.validator == network.accounts[ACCUSER].address)  # fmt: skip
    refuted = runner.invoke(cli, ["--json", "verify", str(accused), "0", "0", "--seat", str(accuser_seat)], env=env)
    assert refuted.exit_code == 1 and "does not hold up" in refuted.output


def test_every_state_the_daemons_journaled_is_in_their_tables(crew) -> None:  # type: ignore[no-untyped-def]
    """Every journal of the stories above (miners, sentinel, validators, lazy, accuser) went only through states and
    moves their transition tables allow, and the stories covered the tables' main paths."""
    lifecycles = [SLOT_LIFECYCLE, SUBJECT_LIFECYCLE, SEAT_LIFECYCLE, JOB_LIFECYCLE]
    reached: dict[str, set[str]] = {}
    journals = sorted(crew["root"].glob("*.sqlite"))
    assert len(journals) >= 8
    for path in journals:
        journal = Journal(path)
        assert journal.violations(lifecycles) == [], path.name
        for key, kind in journal.kinds().items():
            reached.setdefault(kind, set()).update(journal.history(key))
    assert {"claiming", "claimed", "trained", "submitting", "submitted", "done"} <= reached["slot"]
    assert {"drawn", "decided", "committed", "revealed"} <= reached["seat"]
    assert reached["subject"] == {"watching", "done"}
