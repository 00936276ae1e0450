"""An RPC that fails the way real providers do (through a loopback relay in front of the real chain): one that answers
with errors (HTTP 503, JSON-RPC -32603), one that serves an older chain than it already served (a lagging backend,
a load balancer flapping between two), one that is gone. Each is one clear error naming the RPC, for a command and
for a daemon's pass, and nothing half-done: a read at a block the node no longer has is refused, not answered from
the past."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from web3 import Web3

from crucible.chain.client import ChainClient
from crucible.cli.main import cli
from crucible.errors import RpcErrorResponse, RpcStale, RpcUnavailable
from crucible.localnet.network import LocalNetwork
from crucible.protocol import ledger
from crucible.simulation.rpc_relay import Mode, RpcRelay


@pytest.fixture
def relay(network: LocalNetwork) -> Iterator[RpcRelay]:
    with RpcRelay(network.rpc_url) as relay:
        relay.add("client")
        yield relay


def through(relay: RpcRelay, network: LocalNetwork, index: int = 1) -> ChainClient:
    w3 = Web3(Web3.HTTPProvider(relay.ports["client"].url, request_kwargs={"timeout": 5}))
    return ChainClient(w3=w3, deployment=network.client.deployment, account=network.accounts[index],
                       compiled=network.client.compiled)  # fmt: skip


def test_an_rpc_answering_errors_is_one_error_that_says_so(relay: RpcRelay, network: LocalNetwork) -> None:
    client = through(relay, network)
    nonce = network.client.w3.eth.get_transaction_count(network.accounts[1].address)
    relay.set_mode(Mode.ERRORS, every=1)  # every request fails
    with pytest.raises(RpcErrorResponse, match="answered"):
        ledger.stake_of(client, client.sender)
    with pytest.raises(RpcErrorResponse):
        client.block_number()
    with pytest.raises(RpcErrorResponse):
        client.transact(client.token.functions.approve(client.stakes.address, 1))
    assert network.client.w3.eth.get_transaction_count(network.accounts[1].address) == nonce  # nothing was sent
    relay.set_mode(Mode.PASS)
    assert ledger.stake_of(client, client.sender).staked >= 0


def test_a_lagging_rpc_is_refused_instead_of_answering_from_the_past(relay: RpcRelay, network: LocalNetwork) -> None:
    client = through(relay, network)
    network.mine(5)
    head = client.begin_pass()  # a daemon's pass: its reads are made at this block
    relay.set_mode(Mode.LAGGING, lag=3)
    with pytest.raises(RpcStale, match=f"does not have block {head}"):
        ledger.stake_of(client, client.sender)
    with pytest.raises(RpcStale, match=f"answered block {head - 3} after having served block {head}"):
        client.block_number()
    client.end_pass()
    relay.set_mode(Mode.FLAPPING, lag=3)  # a load balancer over an up-to-date and a lagging backend
    answers = []
    for _ in range(6):
        try:
            answers.append(client.block_number())
        except RpcStale:
            answers.append(None)
    assert None in answers and all(a is None or a >= head for a in answers)  # never a step back in time
    relay.set_mode(Mode.PASS)
    assert client.begin_pass() >= head


def test_a_command_through_a_failing_rpc_is_one_line_and_a_non_zero_exit(relay: RpcRelay, network: LocalNetwork) -> None:
    env = {"CRUCIBLE_RPC_URL": relay.ports["client"].url, "CRUCIBLE_DEPLOYMENT": str(network.deployment_file)}
    relay.set_mode(Mode.ERRORS, every=1)
    result = CliRunner().invoke(cli, ["stake", "show", network.accounts[1].address], env=env)
    assert result.exit_code == 1
    assert result.output.startswith("error: ") and result.output.count("\n") == 1, result.output
    assert relay.ports["client"].url in result.output and ("HTTP 503" in result.output or "-32603" in result.output)
    relay.set_mode(Mode.DOWN)
    result = CliRunner().invoke(cli, ["stake", "show", network.accounts[1].address], env=env)
    assert result.exit_code == 1 and "cannot reach the RPC" in result.output, result.output
    with pytest.raises(RpcUnavailable):
        through(relay, network).block_number()
