"""The staking commands as a user runs them: exit codes, output, and one clear line for every kind of bad input."""

from __future__ import annotations

import json
import re
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


def _fresh(network: LocalNetwork, eth: int = 0, cru: int = 0) -> str:
    from eth_account import Account

    from crucible.localnet.faucet import fund

    account = Account.create()
    if eth or cru:
        fund(network.client, account.address, eth_wei=eth * 10**18, cru_wei=cru * 10**18)
    return str(account.key.to_0x_hex())


def test_joining_the_validator_set_below_its_minimum_is_refused_before_anything_is_sent(run, network: LocalNetwork) -> None:  # type: ignore[no-untyped-def]
    key = _fresh(network, eth=10, cru=1000)
    address = network.client.w3.eth.account.from_key(key).address
    nonce = network.client.w3.eth.get_transaction_count(address)
    result = run("stake", "add", "50", "--validator", env={"CRUCIBLE_PRIVATE_KEY": key})
    assert result.exit_code == 1
    assert "--validator needs at least 100 CRU staked" in result.output and "add at least 100 CRU" in result.output
    assert network.client.w3.eth.get_transaction_count(address) == nonce  # nothing half done
    ok = run("--json", "stake", "add", "150", "--validator", env={"CRUCIBLE_PRIVATE_KEY": key})
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["is_validator"] is True


def test_a_fresh_key_gets_eth_and_cru_from_the_faucet_on_a_local_chain(run, network: LocalNetwork) -> None:  # type: ignore[no-untyped-def]
    key = _fresh(network)  # no ETH at all: it could not pay for a transaction of its own
    result = run("--json", "faucet", "1000", env={"CRUCIBLE_PRIVATE_KEY": key})
    assert result.exit_code == 0, result.output
    funded = json.loads(result.output)
    assert funded["wallet_wei"] == 1000 * 10**18 and funded["eth_wei"] == 10 * 10**18
    staked = run("stake", "add", "100", env={"CRUCIBLE_PRIVATE_KEY": key})
    assert staked.exit_code == 0, staked.output


def test_fund_gives_any_address_eth_and_cru_without_a_key(run, network: LocalNetwork) -> None:  # type: ignore[no-untyped-def]
    address = "0x" + "5a" * 20
    result = run("--json", "fund", address, "--eth", "2", "--cru", "30")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["wallet_wei"] == 30 * 10**18
    assert network.client.w3.eth.get_balance(network.client.w3.to_checksum_address(address)) == 2 * 10**18
    bad = run("fund", "0x123")
    assert bad.exit_code == 2 and "'0x123' is not an address" in bad.output


def test_withdraw_wait_waits_for_the_unbonding_period(run, network: LocalNetwork) -> None:  # type: ignore[no-untyped-def]
    import threading

    key = _fresh(network, eth=10, cru=500)
    assert run("stake", "add", "200", env={"CRUCIBLE_PRIVATE_KEY": key}).exit_code == 0
    assert run("stake", "unbond", "50", env={"CRUCIBLE_PRIVATE_KEY": key}).exit_code == 0
    stop = threading.Event()

    def blocks_pass() -> None:  # the test chain automines: stand in for a chain that mines by itself
        while not stop.wait(0.2):
            network.mine(50)

    miner = threading.Thread(target=blocks_pass, daemon=True)
    miner.start()
    try:
        done = run("stake", "withdraw", "--wait", env={"CRUCIBLE_PRIVATE_KEY": key})
    finally:
        stop.set()
        miner.join()
    assert done.exit_code == 0, done.output
    assert "waiting for block" in done.output and "withdrew 50 CRU" in done.output


def test_tables_never_cut_a_transaction_hash_or_an_address(run, network: LocalNetwork) -> None:  # type: ignore[no-untyped-def]
    key = _fresh(network, eth=10, cru=500)
    result = run("stake", "add", "120", env={"CRUCIBLE_PRIVATE_KEY": key, "COLUMNS": "60"})
    assert result.exit_code == 0, result.output
    assert re.search(r"0x[0-9a-f]{64}\b", result.output), result.output
    table = run("status", "stakes", env={"COLUMNS": "60"})
    address = network.client.w3.eth.account.from_key(key).address
    assert address in table.output and "…" not in table.output


def test_json_output_is_also_chosen_by_crucible_json(run, network: LocalNetwork) -> None:  # type: ignore[no-untyped-def]
    result = run("stake", "show", network.accounts[0].address, env={"CRUCIBLE_JSON": "1"})
    assert result.exit_code == 0 and json.loads(result.output)["account"] == network.accounts[0].address


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity", "1e60", "sNaN", "1e-30", "12,5", ""])
def test_amounts_that_are_not_numbers_of_cru_are_one_line(run, amount: str) -> None:  # type: ignore[no-untyped-def]
    result = run("stake", "add", amount, key_of=5)
    assert result.exit_code == 2, result.output
    assert "AMOUNT" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("address", ["0x123", "0x" + "g" * 40, "70997970C51812dc3A010C7d01b50e0d17dc79C8",
                                     "0x70997970C51812dc3A010C7d01b50e0d17dc79c8"])  # fmt: skip
def test_addresses_are_checked_before_use(run, address: str) -> None:  # type: ignore[no-untyped-def]
    result = run("stake", "show", address)
    assert result.exit_code == 2 and "ADDRESS" in result.output and "Traceback" not in result.output
