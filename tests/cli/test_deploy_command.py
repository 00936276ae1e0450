"""`crucible deploy --rpc-url URL` as the README writes it (the option after the subcommand), and a deployment file
that other commands rely on is never overwritten silently."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from crucible.chain.client import ChainClient
from crucible.chain.deployment import load_deployment
from crucible.cli.main import cli
from crucible.localnet.chain import LocalChain
from crucible.localnet.network import LocalNetwork, dev_accounts


def test_deploy_takes_rpc_url_after_the_subcommand(chain: LocalChain, tmp_path: Path) -> None:
    out = tmp_path / "mine.json"
    result = CliRunner().invoke(cli, ["--json", "deploy", "--rpc-url", chain.rpc_url, "--out", str(out)],
                                env={"CRUCIBLE_PRIVATE_KEY": dev_accounts(1)[0].key.hex(),
                                     "CRUCIBLE_RPC_URL": "http://127.0.0.1:9"})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["deployment_file"] == str(out)
    client = ChainClient.open(chain.rpc_url, load_deployment(out))
    assert client.call(client.token.functions.name()) == "Crucible"


def test_deploy_never_overwrites_a_live_deployment_file(network: LocalNetwork) -> None:
    assert network.deployment_file is not None
    before = network.deployment_file.read_text()
    key = network.accounts[0].key.hex()
    nonce = network.client.w3.eth.get_transaction_count(network.accounts[0].address)
    result = CliRunner().invoke(cli, ["--deployment", str(network.deployment_file), "deploy", "--rpc-url",
                                      network.rpc_url], env={"CRUCIBLE_PRIVATE_KEY": key})  # fmt: skip
    assert result.exit_code == 1 and "describes a live deployment" in result.output and "--out" in result.output
    assert network.deployment_file.read_text() == before
    assert network.client.w3.eth.get_transaction_count(network.accounts[0].address) == nonce  # nothing deployed


def test_a_deployment_file_of_a_chain_that_is_gone_is_replaced_with_a_note(chain: LocalChain, tmp_path: Path) -> None:
    key = dev_accounts(1)[0].key.hex()
    target = tmp_path / "31337.json"
    stale = {"chain_id": 31337, "deployed_at_block": 10**6, "addresses": {"WorkLedger": "0x" + "12" * 20},
             "source_hash": "x", "block_hash": "0x" + "00" * 32}  # fmt: skip
    target.write_text(json.dumps(stale))
    result = CliRunner().invoke(cli, ["deploy", "--rpc-url", chain.rpc_url, "--out", str(target)],
                                env={"CRUCIBLE_PRIVATE_KEY": key})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "replacing" in result.output and "gone" in result.output
    assert load_deployment(target).block_hash != stale["block_hash"]


def test_a_deployment_file_from_a_wiped_chain_is_refused_by_every_command(chain: LocalChain, tmp_path: Path) -> None:
    """A wiped local chain redeployed by the same key gets the same addresses; the deployment block's hash tells."""
    key = dev_accounts(1)[0].key.hex()
    out = tmp_path / "d.json"
    assert CliRunner().invoke(cli, ["deploy", "--rpc-url", chain.rpc_url, "--out", str(out)],
                              env={"CRUCIBLE_PRIVATE_KEY": key}).exit_code == 0  # fmt: skip
    data = json.loads(out.read_text())
    data["block_hash"] = "0x" + "ee" * 32  # what a file written against the chain before the wipe holds
    out.write_text(json.dumps(data))
    result = CliRunner().invoke(cli, ["--rpc-url", chain.rpc_url, "--deployment", str(out), "stake", "show",
                                      "0x" + "11" * 20])  # fmt: skip
    assert result.exit_code == 1 and "belongs to another chain with id 31337" in result.output


def test_deploy_with_a_chain_preset_takes_its_epoch_and_unbonding(chain: LocalChain, tmp_path: Path) -> None:
    from crucible.protocol.presets import PRESETS  # noqa: PLC0415

    out = tmp_path / "l1.json"
    result = CliRunner().invoke(cli, ["deploy", "--rpc-url", chain.rpc_url, "--out", str(out), "--preset", "l1-12s"],
                                env={"CRUCIBLE_PRIVATE_KEY": dev_accounts(1)[0].key.hex()})  # fmt: skip
    assert result.exit_code == 0, result.output
    client = ChainClient.open(chain.rpc_url, load_deployment(out))
    assert client.call(client.stakes.functions.epochBlocks()) == PRESETS["l1-12s"].epoch_blocks
    assert client.call(client.stakes.functions.unbondingPeriodBlocks()) == PRESETS["l1-12s"].unbonding_blocks
