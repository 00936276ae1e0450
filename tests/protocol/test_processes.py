"""The network as it runs for real: every miner and validator its own OS process (`crucible miner run`, `crucible
validator run`, the cheater through `python -m crucible.simulation.process`), each with its own keystore, journal and log, on a
chain that mines a block a second by itself, started and watched by the supervisor. A miner is killed with SIGKILL in
the middle of the round and the supervisor starts it again; the round still ends as it should, the books reconcile
to the wei, every journal fits the state tables, and SIGTERM stops every role cleanly."""

from __future__ import annotations

import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from crucible.artifacts.store import ArtifactStore
from crucible.chain.deployment import ProtocolParams
from crucible.journal import Journal
from crucible.localnet.network import LocalNetwork, start_local_network
from crucible.node import JOB_LIFECYCLE
from crucible.protocol import ledger
from crucible.protocol.presets import scaled_windows
from crucible.protocol.timelines import longest_resolution
from crucible.protocol.types import JobKind, JobParams, Outcome
from crucible.simulation.cast import cast, plan, specs, wait_ready
from crucible.simulation.observe import holdings, job_resolved, reconcile
from crucible.simulation.supervisor import Supervisor
from crucible.sponsor import post_job
from miner.daemon import LIFECYCLE as SLOT_LIFECYCLE
from tests.process import wait_for
from validator.daemon import SEAT_LIFECYCLE, SUBJECT_LIFECYCLE

WINDOWS = scaled_windows(10)
EPOCH = longest_resolution(WINDOWS) + 1


@pytest.fixture(scope="module")
def live_network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNetwork]:
    root = tmp_path_factory.mktemp("live")
    net = start_local_network(deployments_dir=root, with_ipfs=True, accounts=8,
                              params=ProtocolParams(unbonding_period_blocks=3 * EPOCH + 10, epoch_blocks=EPOCH))  # fmt: skip
    yield net
    net.close()


def test_roles_as_processes_finish_a_round_through_a_sigkill_and_stop_cleanly(
    live_network: LocalNetwork, tmp_path: Path
) -> None:
    net = live_network
    client = net.client
    roles = cast(net, tmp_path, plan(honest_miners=2, cheats=["lazy (skipped step)"], validators=3))
    before = {r.address: holdings(client, r.address) for r in roles}
    supervisor = Supervisor(specs(net, roles, tmp_path, poll=0.5), restart_delay=2.0)
    try:
        supervisor.start_all()
        wait_ready(client, roles, supervisor.watch, timeout=240)
        net.mine(2 * EPOCH + 1)  # validators are drawn two epochs after they join
        net.chain.set_block_time(1)  # from here on, blocks come on their own
        assert net.kubo is not None
        params = JobParams(kind=JobKind.PRETRAIN, num_rounds=1, slots_per_round=3, intervals_per_slot=4,
                           sampled_intervals=2, audit_bps=10_000, seats_per_audit=2, committee_size=3,
                           windows=WINDOWS)  # fmt: skip
        job = post_job(net.client_for(net.accounts[0]), ArtifactStore(net.kubo.api_multiaddr), kind="pretrain",
                       model="tiny", params=params, compute_cost_wei=10**18, collusion=0.1, dataset_size=256,
                       seed=51, steps_per_interval=2).job_id  # fmt: skip
        victim = roles[0]
        journal = victim.data_dir / "journal.sqlite"
        wait_for(lambda: _has_slot(journal), 120, f"{victim.label} to claim a slot", poll=0.5)
        supervisor.signal(victim.label, signal.SIGKILL, restart_after=2.0)
        supervisor.run(lambda: job_resolved(client, job), timeout=420, every=1.0)
        assert supervisor.roles[victim.label].restarts == 1
    finally:
        exits = supervisor.stop_all()
    assert set(exits.values()) == {0}, exits  # SIGTERM: every role stopped cleanly

    for role in roles:
        views = [ledger.subject_of(client, job, 0, s) for s in range(4)]
        mine = [v for v in views if v.miner == role.address]
        if role.kind == "miner":
            expected = {Outcome.ACCEPTED} if role.honest else {Outcome.REJECTED_CHEAT}
            assert mine and {v.outcome for v in mine} == expected, (role.label, [v.outcome for v in mine])
        log = (role.data_dir / f"{role.kind}.log").read_text()
        assert f"{role.kind} stopped (SIGTERM)" in log
        assert Journal(role.data_dir / "journal.sqlite", readonly=True).violations(
            [SLOT_LIFECYCLE, SUBJECT_LIFECYCLE, SEAT_LIFECYCLE, JOB_LIFECYCLE]) == []  # fmt: skip
    assert ledger.job_state(client, job).status.name == "COMPLETED"
    assert ledger.books_balance(client)
    assert reconcile(client, [r.address for r in roles], before) == {}  # every account, to the wei
    usage = supervisor.usage()
    assert all(u["cpu_s"] > 0 and u["peak_rss_mib"] > 0 for u in usage.values()), usage


def _has_slot(journal: Path) -> bool:
    if not journal.exists():
        return False
    try:
        return bool(Journal(journal, readonly=True).entries("slot"))
    except sqlite3.Error:  # the role is creating it right now
        return False
