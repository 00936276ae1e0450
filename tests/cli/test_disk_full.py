"""A miner whose disk fills up while it writes a checkpoint: the process runs under a file-size limit (RLIMIT_FSIZE,
what a full disk looks like to a writer: the write fails with EFBIG, as ENOSPC would) smaller than one checkpoint of
the job's model. It says so in one line (where, and until which block the slot can still be submitted), leaves the
slot claimed with nothing half-written and nothing pinned or submitted, keeps running, and once the disk has room
again a restart trains the slot and submits it, once."""

from __future__ import annotations

import resource
import subprocess
from pathlib import Path

from crucible.artifacts.store import ArtifactStore
from crucible.journal import Journal
from crucible.localnet.kubo import KuboNode
from crucible.localnet.network import LocalNetwork
from crucible.protocol.events import WorkSubmitted, fetch
from crucible.protocol.types import JobKind, JobParams
from crucible.sponsor import post_job
from tests.cli.test_role_commands import fresh_key
from tests.process import CRUCIBLE, crucible_env
from tests.protocol.roles import FAST

LIMIT = 1 << 20  # 1 MiB per file: the journal and the log fit, one checkpoint of the "small" model (3 MiB) does not


def limit_file_size() -> None:
    """preexec_fn: every file the child writes stops at LIMIT bytes (Python ignores SIGXFSZ: writes fail EFBIG)."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def test_a_full_disk_while_writing_a_checkpoint_leaves_the_slot_claimed_and_nothing_submitted(
    network: LocalNetwork, kubo: KuboNode, store: ArtifactStore, tmp_path: Path
) -> None:
    params = JobParams(kind=JobKind.PRETRAIN, num_rounds=1, slots_per_round=1, intervals_per_slot=4, sampled_intervals=2,
                       audit_bps=10_000, seats_per_audit=2, committee_size=3, windows=FAST)  # fmt: skip
    posted = post_job(network.client_for(network.accounts[0]), store, kind="pretrain", model="small", params=params,
                      compute_cost_wei=10**18, collusion=0.1, dataset_size=64, seed=41, steps_per_interval=1)  # fmt: skip
    env = crucible_env(CRUCIBLE_RPC_URL=network.rpc_url, CRUCIBLE_DEPLOYMENT=str(network.deployment_file),
                       CRUCIBLE_PRIVATE_KEY=fresh_key(network), CRUCIBLE_IPFS_API=kubo.api_multiaddr)  # fmt: skip
    command = [*CRUCIBLE, "miner", "run", "--job", str(posted.job_id), "--stake", "300", "--data-dir", str(tmp_path),
               "--poll", "0"]  # fmt: skip
    full = subprocess.run([*command, "--max-passes", "3"], env=env, capture_output=True, text=True, timeout=300,
                          start_new_session=True, preexec_fn=limit_file_size)  # fmt: skip
    assert full.returncode == 0, full.stderr[-3000:]  # a full disk is the operator's to fix; the role keeps serving
    key = f"{posted.job_id}/0/0"
    log = (tmp_path / "miner.log").read_text()
    said = [line for line in log.splitlines() if "StorageFull" in line]
    assert len(said) >= 2, log[-3000:]  # pass 1 claims; every later pass tries to train and says why it cannot
    assert f"the disk is full writing slot {key}'s run (still claimed, retried next pass; submit by block" in said[0]
    assert str(tmp_path / "work") in said[0] and "File too large" in said[0]
    journal = Journal(tmp_path / "journal.sqlite")
    assert journal.get(key).state == "claimed"  # type: ignore[union-attr]
    assert not (tmp_path / "work" / key.replace("/", "-")).exists()  # nothing half-written left behind
    assert fetch(network.client, WorkSubmitted, job_id=posted.job_id) == []

    room = subprocess.run([*command, "--max-passes", "3"], env=env, capture_output=True, text=True, timeout=300,
                          start_new_session=True)  # fmt: skip
    assert room.returncode == 0, room.stderr[-3000:]
    assert Journal(tmp_path / "journal.sqlite").get(key).state == "submitted"  # type: ignore[union-attr]
    assert journal.history(key).count("trained") == 1
    assert len(fetch(network.client, WorkSubmitted, job_id=posted.job_id)) == 1
