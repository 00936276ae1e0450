"""Running a miner or a validator from the command line, and what each says to bad input: one clear line, a non-zero
exit, and nothing sent or lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from eth_account import Account

from crucible.artifacts.store import ArtifactStore
from crucible.chain.keys import create_keystore
from crucible.cli.main import cli
from crucible.journal import Journal
from crucible.localnet.kubo import KuboNode
from crucible.localnet.network import LocalNetwork
from tests.protocol.roles import post


@pytest.fixture
def env(network: LocalNetwork, kubo: KuboNode) -> dict[str, str]:
    return {"CRUCIBLE_RPC_URL": network.rpc_url, "CRUCIBLE_DEPLOYMENT": str(network.deployment_file),
            "CRUCIBLE_PRIVATE_KEY": network.accounts[1].key.hex(), "CRUCIBLE_IPFS_API": kubo.api_multiaddr}  # fmt: skip


def test_a_miner_stakes_claims_trains_and_submits_from_the_command_line(env, network, store: ArtifactStore, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    posted = post(network, store, slots=1, seed=31)
    result = CliRunner().invoke(cli, ["miner", "run", "--job", str(posted.job_id), "--stake", "300", "--data-dir",
                                      str(tmp_path), "--poll", "0", "--max-passes", "3"], env=env)  # fmt: skip
    assert result.exit_code == 0, result.output
    entry = Journal(tmp_path / "journal.sqlite").get(f"{posted.job_id}/0/0")
    assert entry is not None and entry.state == "submitted"
    assert "submitted bundle" in (tmp_path / "miner.log").read_text()


def test_a_miner_for_an_unknown_job_stops_with_one_clear_line(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(cli, ["miner", "run", "--job", "999", "--data-dir", str(tmp_path)], env=env)
    assert result.exit_code == 1 and "JobUnknown(jobId=999)" in result.output
    assert not (tmp_path / "journal.sqlite").exists()


def test_a_validator_whose_wallet_cannot_reach_the_minimum_stake_is_refused(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    empty = Account.create()
    result = CliRunner().invoke(cli, ["validator", "run", "--data-dir", str(tmp_path), "--max-passes", "1"],
                                env={**env, "CRUCIBLE_PRIVATE_KEY": empty.key.hex()})  # fmt: skip
    assert result.exit_code == 1 and "below the validator minimum" in result.output


def test_a_keystore_with_the_wrong_password_is_refused(env, network: LocalNetwork, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    keystore = tmp_path / "key.json"
    create_keystore(keystore, "right horse", network.accounts[2].key.hex())
    bad = {k: v for k, v in env.items() if k != "CRUCIBLE_PRIVATE_KEY"}
    result = CliRunner().invoke(cli, ["--keystore", str(keystore), "miner", "run", "--data-dir", str(tmp_path)],
                                env={**bad, "CRUCIBLE_KEYSTORE_PASSWORD": "wrong"})  # fmt: skip
    assert result.exit_code == 1 and "password" in result.output.lower()


def test_settling_before_the_deadline_says_from_which_block(env, network, store: ArtifactStore, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    posted = post(network, store, slots=1, seed=32)
    runner = CliRunner()
    mined = runner.invoke(cli, ["miner", "run", "--job", str(posted.job_id), "--stake", "300", "--data-dir",
                                str(tmp_path), "--poll", "0", "--max-passes", "3"], env=env)  # fmt: skip
    assert mined.exit_code == 0, mined.output
    result = runner.invoke(cli, ["job", "settle", str(posted.job_id), "0", "0"], env=env)
    assert result.exit_code == 1 and "LedgerTooEarly" in result.output


def test_verify_with_ipfs_unreachable_is_an_error_not_a_verdict(env) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(cli, ["verify", "1", "0", "0", "--ipfs-api", "/ip4/127.0.0.1/tcp/9/http"], env=env)
    assert result.exit_code == 1


def test_a_miner_process_killed_with_sigkill_resumes_from_its_journal(env, network, store: ArtifactStore, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    posted = post(network, store, slots=1, seed=33)
    key = f"{posted.job_id}/0/0"
    command = [sys.executable, "-m", "crucible", "miner", "run", "--job", str(posted.job_id), "--stake", "300",
               "--data-dir", str(tmp_path), "--poll", "0.1"]  # fmt: skip
    environ = {**os.environ, **env, "CRUCIBLE_PRIVATE_KEY": network.accounts[3].key.hex()}
    process = subprocess.Popen(command, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal_path = tmp_path / "journal.sqlite"
    deadline = time.monotonic() + 120
    state = None
    while time.monotonic() < deadline and state not in ("trained", "submitting", "submitted"):
        time.sleep(0.05)
        entry = Journal(journal_path).get(key) if journal_path.exists() else None
        state = entry.state if entry else None
    process.send_signal(signal.SIGKILL)  # no handler, no cleanup: the journal is all that is left
    process.wait(timeout=30)
    assert state is not None, "the miner never claimed the slot"

    finished = subprocess.run([*command, "--max-passes", "5"], env=environ, capture_output=True, timeout=300)
    assert finished.returncode == 0, finished.stderr.decode()[-2000:]
    journal = Journal(journal_path)
    assert journal.get(key).state == "submitted"
    assert journal.history(key).count("trained") == 1  # a finished run is never trained again
    logs = network.client.ledger.events.WorkSubmitted().get_logs(from_block=0, argument_filters={"jobId": posted.job_id})
    assert len(logs) == 1
