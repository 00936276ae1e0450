"""Bad input to documented options and arguments: one line naming the option and the accepted form, a non-zero exit,
no traceback, and nothing done. These need no chain: every check runs before anything is sent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from crucible.cli.main import cli

NO_CHAIN = {"CRUCIBLE_RPC_URL": "http://127.0.0.1:9"}


def _run(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), env={**NO_CHAIN, **(env or {})})


@pytest.mark.parametrize(("args", "needle"), [
    (["--rpc-url", "localhost:8545", "stake", "show"], "--rpc-url"),
    (["job", "status", "-1"], "JOB_ID"),
    (["job", "status", "0"], "JOB_ID"),
    (["job", "status", str(2**256)], "JOB_ID"),
    (["job", "settle", "1", "0", "70000"], "SLOT"),
    (["verify", "1", "0", "0", "--seat", "-1"], "--seat"),
    (["verify", "1", "-1", "0"], "ROUND"),
    (["status", "slashes", "--job", "0"], "--job"),
    (["status", "everything"], "is not one of"),
    (["faucet", "Infinity"], "AMOUNT"),
    (["faucet", "1e60"], "AMOUNT"),
    (["fund", "0x123"], "ADDRESS"),
    (["fund", "0x" + "ab" * 20, "--eth", "-1"], "--eth"),
    (["deploy", "--unbonding-blocks", "0"], "--unbonding-blocks"),
    (["deploy", "--min-miner-stake", "NaN"], "--min-miner-stake"),
    (["network", "wait", "--timeout", "-1"], "--timeout"),
    (["stake", "withdraw", "--wait", "now"], "Got unexpected extra argument"),
])  # fmt: skip
def test_bad_values_are_usage_errors_naming_the_option(args: list[str], needle: str) -> None:
    result = _run(*args)
    assert result.exit_code == 2, result.output
    assert needle in result.output and "Traceback" not in result.output


def test_a_json_file_that_is_not_a_keystore_is_one_line(tmp_path: Path) -> None:
    for name, content in [("deployment.json", json.dumps({"chain_id": 31337})), ("list.json", "[1, 2]"),
                          ("text.json", "not json at all")]:  # fmt: skip
        path = tmp_path / name
        path.write_text(content)
        result = CliRunner().invoke(cli, ["--keystore", str(path), "keys", "address"],
                                    env={"CRUCIBLE_KEYSTORE_PASSWORD": "x"})  # fmt: skip
        assert result.exit_code == 1, result.output
        assert str(path) in result.output and "keystore" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(cli, ["--keystore", str(tmp_path), "keys", "address"])
    assert result.exit_code == 2 and "--keystore" in result.output  # a directory


def test_keys_new_refuses_to_overwrite_and_checks_an_imported_key(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    env = {"CRUCIBLE_KEYSTORE_PASSWORD": "pw"}
    assert CliRunner().invoke(cli, ["keys", "new", str(path)], env=env).exit_code == 0
    again = CliRunner().invoke(cli, ["keys", "new", str(path)], env=env)
    assert again.exit_code == 2 and "refusing to overwrite" in again.output
    bad = CliRunner().invoke(cli, ["keys", "new", str(tmp_path / "b.json"), "--import-env"],
                             env={**env, "CRUCIBLE_PRIVATE_KEY": "0x1234"})  # fmt: skip
    assert bad.exit_code == 1 and "CRUCIBLE_PRIVATE_KEY does not hold a valid private key" in bad.output
    assert not (tmp_path / "b.json").exists()
    unset = CliRunner().invoke(cli, ["keys", "new", str(tmp_path / "c.json"), "--import-env"], env=env)
    assert unset.exit_code == 2 and "CRUCIBLE_PRIVATE_KEY is not set" in unset.output
    address = CliRunner().invoke(cli, ["--keystore", str(path), "keys", "address"], env=env)
    assert address.exit_code == 0 and address.output.strip().startswith("0x")


def test_an_http_url_for_ipfs_is_taken_as_the_multiaddr_it_means() -> None:
    from crucible.cli.params import ipfs_multiaddr

    assert ipfs_multiaddr("http://127.0.0.1:5001") == "/ip4/127.0.0.1/tcp/5001/http"
    assert ipfs_multiaddr("http://localhost:5001/") == "/dns/localhost/tcp/5001/http"
    for bad in ("http://127.0.0.1", "/ip4/127.0.0.1/tcp/99999/http", "/ip4/host/tcp/5001/http", "5001",
                "http://127.0.0.1:5001/api/v0"):  # fmt: skip
        with pytest.raises(ValueError):
            ipfs_multiaddr(bad)


def test_an_unexpected_error_is_one_line_unless_debugging(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr("crucible.chain.keys.load_account", broken)
    result = CliRunner().invoke(cli, ["keys", "address"], env={"CRUCIBLE_DEBUG": ""})
    assert result.exit_code == 1 and "unexpected ZeroDivisionError: a bug" in result.output
    assert "CRUCIBLE_DEBUG=1" in result.output
