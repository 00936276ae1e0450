"""Deploying to a local chain, and refusing deployment files that do not fit the chain they are used with."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from eth_account import Account

from crucible.chain.client import ChainClient
from crucible.chain.deploy import deploy_protocol
from crucible.chain.deployment import load_deployment, save_deployment
from crucible.errors import DeploymentError, InsufficientFunds, RpcUnavailable, WrongChain
from crucible.localnet.chain import LocalChain, start_chain
from crucible.localnet.network import LocalNetwork


def test_deployment_file_records_every_contract_and_is_bound(network: LocalNetwork) -> None:
    assert network.deployment_file is not None
    data = json.loads(network.deployment_file.read_text())
    assert data["chain_id"] == 31337
    assert set(data["addresses"]) == {"CrucibleToken", "StakeManager", "RewardVault", "LedgerSettlement", "WorkLedger",
                                      "JobRegistry", "LedgerLens"}  # fmt: skip
    client = ChainClient.open(network.rpc_url, load_deployment(network.deployment_file))
    ledger = client.ledger.address
    assert client.call(client.stakes.functions.protocol()) == ledger
    assert client.call(client.vault.functions.protocol()) == ledger
    assert client.call(client.ledger.functions.settlementModule()) == data["addresses"]["LedgerSettlement"]


def test_dev_accounts_are_funded(network: LocalNetwork) -> None:
    client = network.client
    for account in network.accounts:
        assert client.call(client.token.functions.balanceOf(account.address)) == 10_000 * 10**18


def test_a_deployment_for_another_chain_is_refused(network: LocalNetwork, tmp_path: Path) -> None:
    other = replace(network.client.deployment, chain_id=1)
    with pytest.raises(WrongChain, match="serves chain 31337, but the deployment is for chain 1"):
        ChainClient.open(network.rpc_url, other)


def test_a_stale_deployment_is_refused_after_the_chain_restarts(network: LocalNetwork) -> None:
    with start_chain() as fresh, pytest.raises(DeploymentError, match="stale"):
        ChainClient.open(fresh.rpc_url, network.client.deployment)


def test_a_missing_or_malformed_deployment_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DeploymentError, match="no deployment file"):
        load_deployment(tmp_path / "31337.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(DeploymentError, match="not valid JSON"):
        load_deployment(bad)
    bad.write_text(json.dumps({"chain_id": 1}))
    with pytest.raises(DeploymentError, match="malformed"):
        load_deployment(bad)


def test_a_failed_deploy_leaves_no_deployment_file(chain: LocalChain, tmp_path: Path) -> None:
    broke = Account.create()  # no ETH for gas
    with pytest.raises(InsufficientFunds):
        client = deploy_protocol(chain.rpc_url, broke)
        save_deployment(client.deployment, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_an_rpc_that_is_down_is_one_clear_error(network: LocalNetwork) -> None:
    with pytest.raises(RpcUnavailable, match="cannot reach the RPC at http://127.0.0.1:9"):
        ChainClient.open("http://127.0.0.1:9", network.client.deployment)
