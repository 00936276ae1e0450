"""The staking commands as a user runs them: exit codes, output, and one clear line for every kind of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from crucible.cli.main import cli
from crucible.localnet.network import LocalNetwork


@pytest.fixture
def run(network: LocalNetwork, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setenv("CRUCIBLE_RPC_URL", network.rpc_url)
    monkeypatch.setenv("CRUCIBLE_DEPLOYMENT", str(network.deployment_file))
    monkeypatch.delenv("CRUCIBLE_PRIVATE_KEY", raising=False)
    monkeypatch.delenv("CRUCIBLE_KEYSTORE", raising=False)

    def invoke(*args: str, key_of: int | None = None, env: dict[str, str] | None = None) -> Result:
        full_env = dict(env or {})
        if key_of is not None:
            full_env["CRUCIBLE_PRIVATE_KEY"] = network.accounts[key_of].key.hex()
        return CliRunner().invoke(cli, list(args), env=full_env, catch_exceptions=False)

    return invoke


def test_stake_unbond_withdraw_round_trip(run, network: LocalNetwork) -> None:  # type: ignore[no-untyped-def]
    added = run("stake", "add", "150", "--validator", key_of=6)
    assert added.exit_code == 0, added.output
    shown = json.loads(run("--json", "stake", "show", key_of=6).output)
    assert shown["staked_wei"] == 150 * 10**18 and shown["is_validator"] is True

    assert run("stake", "unbond", "50", key_of=6).exit_code == 0
    early = run("stake", "withdraw", key_of=6)
    assert early.exit_code == 1
    assert "StakeUnbondingNotReady" in early.output and "readyAt=" in early.output

    network.mine(int(network.client.call(network.client.stakes.functions.unbondingPeriodBlocks())))
    done = run("stake", "withdraw", key_of=6)
    assert done.exit_code == 0, done.output
    assert "withdrew 50 CRU" in done.output
    after = json.loads(run("--json", "stake", "show", key_of=6).output)
    assert after["staked_wei"] == 100 * 10**18 and after["unbonding_wei"] == 0
    assert after["wallet_wei"] == (10_000 - 100) * 10**18


def test_unbonding_more_than_is_free_is_refused_and_changes_nothing(run) -> None:  # type: ignore[no-untyped-def]
    run("stake", "add", "120", key_of=7)
    refused = run("stake", "unbond", "500", key_of=7)
    assert refused.exit_code == 1
    assert "StakeInsufficientFree" in refused.output and "free=120 CRU" in refused.output
    assert json.loads(run("--json", "stake", "show", key_of=7).output)["staked_wei"] == 120 * 10**18


def test_keystore_signs_and_a_wrong_password_is_one_clear_error(run, network: LocalNetwork, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    keystore = tmp_path / "key.json"
    env = {"CRUCIBLE_KEYSTORE_PASSWORD": "correct horse", "CRUCIBLE_PRIVATE_KEY": network.accounts[8].key.hex()}
    created = run("--json", "keys", "new", str(keystore), "--import-env", env=env)
    assert created.exit_code == 0, created.output
    assert json.loads(created.output)["address"] == network.accounts[8].address
    assert keystore.stat().st_mode & 0o777 == 0o600

    ok = run("--keystore", str(keystore), "stake", "add", "101", env={"CRUCIBLE_KEYSTORE_PASSWORD": "correct horse"})
    assert ok.exit_code == 0, ok.output
    wrong = run("--keystore", str(keystore), "stake", "show", env={"CRUCIBLE_KEYSTORE_PASSWORD": "nope"})
    assert wrong.exit_code == 1 and "wrong password" in wrong.output


def test_a_command_that_needs_a_key_says_how_to_give_one(run) -> None:  # type: ignore[no-untyped-def]
    result = run("stake", "add", "1")
    assert result.exit_code == 1 and "no signing key" in result.output


def test_staking_more_than_the_wallet_holds_sends_nothing(run, network: LocalNetwork) -> None:  # type: ignore[no-untyped-def]
    nonce_before = network.client.w3.eth.get_transaction_count(network.accounts[9].address)
    result = run("stake", "add", "20000", key_of=9)
    assert result.exit_code == 1 and "ERC20InsufficientBalance" in result.output
    assert network.client.w3.eth.get_transaction_count(network.accounts[9].address) == nonce_before


def test_bad_amounts_are_usage_errors(run) -> None:  # type: ignore[no-untyped-def]
    for amount in ("abc", "-5", "0", "0.0000000000000000001"):
        result = run("stake", "add", amount, key_of=5)
        assert result.exit_code == 2, (amount, result.output)


def test_an_rpc_that_is_down_or_a_missing_deployment_is_one_line(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    down = run("--rpc-url", "http://127.0.0.1:9", "stake", "show", "0x" + "11" * 20)
    assert down.exit_code == 1 and "cannot reach the RPC" in down.output
    missing = run("--deployment", str(tmp_path / "nope.json"), "stake", "show", "0x" + "11" * 20)
    assert missing.exit_code == 1 and "no deployment file" in missing.output
