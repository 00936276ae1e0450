"""Running a miner or a validator from the command line, and what each says to bad input: one clear line, a non-zero
exit, and nothing sent or lost. Miners work 2+ slots (the README's job has 2). Real processes are started in their own
process group and killed with it on every exit path."""

from __future__ import annotations

import fcntl
import logging
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from eth_account import Account

from crucible.artifacts.store import ArtifactStore
from crucible.chain.keys import create_keystore
from crucible.cli.main import cli
from crucible.journal import Journal
from crucible.localnet.faucet import fund
from crucible.localnet.kubo import KuboNode
from crucible.localnet.network import LocalNetwork
from crucible.protocol.types import JobKind, JobParams
from crucible.sponsor import PostedJob, post_job
from tests.process import CRUCIBLE, crucible_env, ignore_sigint, spawn, timed_wait, wait_for
from tests.protocol.roles import FAST, post
from validator.daemon import Validator, ValidatorConfig

ETH = 10**18


@pytest.fixture
def env(network: LocalNetwork, kubo: KuboNode) -> dict[str, str]:
    return {"CRUCIBLE_RPC_URL": network.rpc_url, "CRUCIBLE_DEPLOYMENT": str(network.deployment_file),
            "CRUCIBLE_PRIVATE_KEY": network.accounts[1].key.hex(), "CRUCIBLE_IPFS_API": kubo.api_multiaddr}  # fmt: skip


def fresh_key(network: LocalNetwork) -> str:
    """A new account with ETH for gas and 1000 CRU (what `crucible fund` gives)."""
    account = Account.create()
    fund(network.client, account.address, eth_wei=10 * ETH, cru_wei=1000 * ETH)
    return str(account.key.to_0x_hex())


def long_job(network: LocalNetwork, store: ArtifactStore, seed: int) -> PostedJob:
    """A job whose slots train for several seconds (to signal a miner in the middle of training)."""
    params = JobParams(kind=JobKind.PRETRAIN, num_rounds=1, slots_per_round=2, intervals_per_slot=4, sampled_intervals=2,
                       audit_bps=10_000, seats_per_audit=2, committee_size=3, windows=FAST)  # fmt: skip
    return post_job(network.client_for(network.accounts[0]), store, kind="pretrain", model="tiny", params=params,
                    compute_cost_wei=10**18, collusion=0.1, dataset_size=256, seed=seed, steps_per_interval=300)  # fmt: skip


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A Kubo API address that accepts connections and never answers (a hung IPFS node)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield f"/ip4/127.0.0.1/tcp/{sock.getsockname()[1]}/http"


def test_a_miner_works_two_slots_of_a_job_from_the_command_line(env, network, store: ArtifactStore, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    posted = post(network, store, slots=2, seed=31)
    result = CliRunner().invoke(cli, ["miner", "run", "--job", str(posted.job_id), "--stake", "300", "--data-dir",
                                      str(tmp_path), "--poll", "0", "--max-passes", "6"], env=env)  # fmt: skip
    assert result.exit_code == 0, result.output
    journal = Journal(tmp_path / "journal.sqlite")
    assert [journal.get(f"{posted.job_id}/0/{slot}").state for slot in (0, 1)] == ["submitted", "submitted"]  # type: ignore[union-attr]
    assert (tmp_path / "miner.log").read_text().count("submitted bundle") == 2


def test_an_unexpected_failure_is_one_line_and_its_traceback_is_in_the_log(env, network, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from miner.daemon import Miner

    def explode(self: Miner) -> None:
        raise RuntimeError("boom in a pass")

    monkeypatch.setattr(Miner, "tick", explode)
    result = CliRunner().invoke(cli, ["miner", "run", "--data-dir", str(tmp_path), "--max-passes", "1"],
                                env={**env, "CRUCIBLE_PRIVATE_KEY": fresh_key(network)})  # fmt: skip
    assert result.exit_code == 1
    assert "miner stopped by an unexpected RuntimeError: boom in a pass" in result.output
    assert f"traceback in {tmp_path / 'miner.log'}" in result.output
    log = (tmp_path / "miner.log").read_text()
    assert "Traceback (most recent call last)" in log and "RuntimeError: boom in a pass" in log


def test_two_miners_on_one_data_dir_is_a_clear_error(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with open(tmp_path / "lock", "a+") as held:  # what a running miner holds
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write("pid 4242\n")
        held.flush()
        result = CliRunner().invoke(cli, ["miner", "run", "--data-dir", str(tmp_path), "--max-passes", "1"], env=env)
    assert result.exit_code == 1
    assert f"--data-dir {tmp_path} is in use by a running miner (pid 4242)" in result.output
    assert not (tmp_path / "journal.sqlite").exists()


def test_a_journal_from_another_chain_is_refused(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    Journal(tmp_path / "journal.sqlite").set_meta("deployment", "31337:0x" + "ab" * 32 + ":0x" + "cd" * 20)
    result = CliRunner().invoke(cli, ["validator", "run", "--data-dir", str(tmp_path), "--max-passes", "1"], env=env)
    assert result.exit_code == 1 and "belongs to another chain or deployment" in result.output


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
    posted = post(network, store, slots=2, seed=32)
    runner = CliRunner()
    mined = runner.invoke(cli, ["miner", "run", "--job", str(posted.job_id), "--stake", "300", "--data-dir",
                                str(tmp_path), "--poll", "0", "--max-passes", "3"], env=env)  # fmt: skip
    assert mined.exit_code == 0, mined.output
    (done,) = [e for e in Journal(tmp_path / "journal.sqlite").entries("slot") if e.state == "submitted"]
    result = runner.invoke(cli, ["job", "settle", str(posted.job_id), "0", str(done.data["slot"])], env=env)
    assert result.exit_code == 1 and "LedgerTooEarly" in result.output


def test_verify_with_ipfs_unreachable_is_an_error_not_a_verdict(env) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(cli, ["verify", "1", "0", "0", "--ipfs-api", "/ip4/127.0.0.1/tcp/9/http"], env=env)
    assert result.exit_code == 1


def test_a_role_logs_what_it_waits_for(network: LocalNetwork, store: ArtifactStore, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    key = fresh_key(network)
    client = network.client_for(Account.from_key(key))
    node = Validator(client, store, Journal(tmp_path / "journal.sqlite"), device=torch.device("cpu"),
                     config=ValidatorConfig(stake_wei=100 * ETH), logger=logging.getLogger("crucible.validator.wait"))  # fmt: skip
    node.start()
    with caplog.at_level(logging.INFO, logger="crucible.validator.wait"):
        node.run(poll_seconds=0, max_ticks=2, status_seconds=0)
    lines = [r.getMessage() for r in caplog.records]
    assert any(re.match(r"block \d+: ", line) for line in lines), lines


def test_a_miner_process_killed_with_sigkill_resumes_from_its_journal(env, network, store: ArtifactStore, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    posted = post(network, store, slots=2, seed=33)
    command = [*CRUCIBLE, "miner", "run", "--job", str(posted.job_id), "--stake", "300", "--data-dir", str(tmp_path),
               "--poll", "0.1"]  # fmt: skip
    environ = crucible_env(**{**env, "CRUCIBLE_PRIVATE_KEY": network.accounts[3].key.hex()})
    journal_path = tmp_path / "journal.sqlite"

    def states() -> list[str]:
        if not journal_path.exists():
            return []
        return [e.state for e in Journal(journal_path).entries("slot")]

    with spawn(command, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as process:
        wait_for(lambda: any(s in ("trained", "submitting", "submitted") for s in states()), 120, "a trained slot")
        process.send_signal(signal.SIGKILL)  # no handler, no cleanup: the journal is all that is left
        process.wait(timeout=30)
    finished = subprocess.run([*command, "--max-passes", "6"], env=environ, capture_output=True, timeout=300,
                              start_new_session=True)  # fmt: skip
    assert finished.returncode == 0, finished.stderr.decode()[-2000:]
    journal = Journal(journal_path)
    for slot in (0, 1):
        assert journal.get(f"{posted.job_id}/0/{slot}").state == "submitted"  # type: ignore[union-attr]
        assert journal.history(f"{posted.job_id}/0/{slot}").count("trained") == 1  # never trained twice
    logs = network.client.ledger.events.WorkSubmitted().get_logs(from_block=0, argument_filters={"jobId": posted.job_id})
    assert len(logs) == 2


def test_sigterm_stops_a_miner_mid_training_and_a_restart_finishes_the_slot(env, network, store: ArtifactStore, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    posted = long_job(network, store, seed=34)
    environ = crucible_env(**{**env, "CRUCIBLE_PRIVATE_KEY": fresh_key(network)})
    command = [*CRUCIBLE, "miner", "run", "--job", str(posted.job_id), "--stake", "300", "--data-dir", str(tmp_path),
               "--poll", "0.1", "--slots-per-round", "1"]  # fmt: skip
    with spawn(command, env=environ) as process:
        wait_for(lambda: any((tmp_path / "work").rglob("*.safetensors")), 120, "the first checkpoint of the run")
        process.send_signal(signal.SIGTERM)
        code, took = timed_wait(process, 10)
        err = process.stderr.read()
    assert code == 0, err[-2000:]
    log = (tmp_path / "miner.log").read_text()
    assert "miner stopped (SIGTERM); the journal keeps every step" in log
    (entry,) = Journal(tmp_path / "journal.sqlite").entries("slot")
    assert entry.state == "claimed"  # the run was abandoned before it was journaled as trained
    finished = subprocess.run([*command, "--max-passes", "3"], env=environ, capture_output=True, timeout=300,
                              start_new_session=True)  # fmt: skip
    assert finished.returncode == 0, finished.stderr.decode()[-2000:]
    assert Journal(tmp_path / "journal.sqlite").get(entry.key).state == "submitted"  # type: ignore[union-attr]


def test_sigint_stops_a_validator_that_started_with_sigint_ignored(env, network, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    environ = crucible_env(**{**env, "CRUCIBLE_PRIVATE_KEY": fresh_key(network)})
    command = [*CRUCIBLE, "validator", "run", "--data-dir", str(tmp_path), "--poll", "0.2"]
    with spawn(command, env=environ, preexec_fn=ignore_sigint) as process:
        wait_for(lambda: "running" in _read(tmp_path / "validator.log"), 120, "the validator to start")
        os.kill(process.pid, signal.SIGINT)  # `kill -INT` to a background job of a script
        code, took = timed_wait(process, 10)
    assert code == 130
    assert "validator stopped (SIGINT)" in _read(tmp_path / "validator.log")


def test_a_role_stuck_in_a_call_exits_within_ten_seconds_and_a_second_signal_at_once(env, network, store: ArtifactStore, black_hole: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    post(network, store, slots=2, seed=35)  # an active job: the miner fetches its spec from the hung IPFS node
    environ = crucible_env(**{**env, "CRUCIBLE_PRIVATE_KEY": fresh_key(network), "CRUCIBLE_IPFS_API": black_hole})
    for second_signal in (False, True):
        data_dir = tmp_path / str(second_signal)
        with spawn([*CRUCIBLE, "miner", "run", "--data-dir", str(data_dir), "--poll", "0.1"], env=environ) as process:
            wait_for(lambda d=data_dir: "running" in _read(d / "miner.log"), 120, "the miner to start")
            time.sleep(1.0)  # now inside the first pass, waiting on the IPFS node that never answers
            process.send_signal(signal.SIGTERM)
            if second_signal:
                time.sleep(0.5)
                process.send_signal(signal.SIGTERM)
            code, took = timed_wait(process, 10)
            err = process.stderr.read()
        if second_signal:
            assert code == 128 + signal.SIGTERM and took < 3, (code, took)
            assert "second signal (SIGTERM)" in err
        else:
            assert code == 0 and took < 10, (code, took)
            assert "still busy after 8 s" in err


def test_bad_role_options_are_one_line(env) -> None:  # type: ignore[no-untyped-def]
    for args, option in [(["--stake", "NaN"], "--stake"), (["--stake", "1e60"], "--stake"), (["--poll", "-1"], "--poll"),
                         (["--max-passes", "0"], "--max-passes"), (["--job", "0"], "--job"),
                         (["--slots-per-round", "0"], "--slots-per-round"),
                         (["--ipfs-api", "http://127.0.0.1"], "--ipfs-api"), (["--ipfs-api", "5001"], "--ipfs-api")]:  # fmt: skip
        result = CliRunner().invoke(cli, ["miner", "run", *args], env=env)
        assert result.exit_code == 2, (args, result.output)
        assert option in result.output and "Traceback" not in result.output


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""

