"""Audit randomness on the EVM the suite runs on (anvil, or Hardhat's node with CRUCIBLE_EVM=hardhat): a
`recordRandomness` transaction stores its own block's prevrandao (the beacon's mix), and on a chain that reports a
zero prevrandao the contracts fall back to the parent block's hash. Each block's value is its own."""

from __future__ import annotations

from eth_abi import encode
from eth_utils import keccak

from crucible.localnet.network import LocalNetwork
from crucible.protocol import ledger


def expected_randomness(network: LocalNetwork, number: int) -> bytes:
    block = network.client.w3.eth.get_block(number)
    prevrandao = bytes(block["mixHash"])
    if any(prevrandao):
        return prevrandao
    return keccak(encode(["bytes32", "uint256"], [bytes(block["parentHash"]), number]))


def test_recorded_randomness_is_the_blocks_own_prevrandao(network: LocalNetwork) -> None:
    client = network.client_for(network.accounts[2])
    recorded = {}
    for _ in range(3):
        receipt = ledger.record_randomness(client)
        number = int(receipt["blockNumber"])
        recorded[number] = ledger.randomness_at(client, number)
        assert recorded[number] == expected_randomness(network, number)
        assert any(recorded[number]), f"block {number}: no randomness recorded"
    assert len(set(recorded.values())) == len(recorded), f"blocks share their randomness: {recorded}"


def test_a_second_record_in_the_same_block_changes_nothing(network: LocalNetwork) -> None:
    client = network.client_for(network.accounts[2])
    number = int(ledger.record_randomness(client)["blockNumber"])
    first = ledger.randomness_at(client, number)
    network.mine(3)
    assert ledger.randomness_at(client, number) == first  # fixed for good once recorded
    assert not any(ledger.randomness_at(client, number + 1))  # nobody recorded the next one
