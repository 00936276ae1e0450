"""Every rule the chain and the Python side must agree on has one definition per side and a test holding them
together: the shared vector file, the interval sampling, the plant leaves, the timelines and the seat flags."""

from __future__ import annotations

import json
from dataclasses import astuple

from eth_utils import keccak

from crucible.chain.sampling import sampled_intervals
from crucible.chain.vectors import VECTOR_FILE, merkle_vectors, plant_leaf
from crucible.localnet.network import LocalNetwork
from crucible.protocol.plants import Plant, PlantSet
from crucible.protocol.timelines import compute, longest_resolution
from crucible.protocol.types import MAX_PANEL_ATTEMPTS, SeatFlags, Windows


def test_the_shared_vector_file_is_what_python_produces() -> None:
    assert json.loads(VECTOR_FILE.read_text()) == merkle_vectors()  # rewrite with `python -m crucible.chain.vectors`


def test_interval_sampling_and_plant_leaves_agree_with_the_lens(network: LocalNetwork) -> None:
    lens = network.client.lens.functions
    for i, (m, intervals) in enumerate([(1, 1), (3, 3), (2, 9), (8, 200)]):
        seed = bytes([i + 1]) * 32
        assert [int(x) for x in network.client.call(lens.intervalsFor(seed, m, intervals))] == sampled_intervals(seed, m, intervals)
    sentinel = network.accounts[3].address
    assert bytes(network.client.call(lens.plantLeaf(2, 5, sentinel, b"\x07" * 32))) == plant_leaf(2, 5, sentinel, b"\x07" * 32)


def test_a_plant_set_opens_each_leaf_and_nothing_else() -> None:
    plants = [Plant(0, s, "0x" + "ab" * 20) for s in range(5)]
    tree = PlantSet.build(plants)
    assert PlantSet.build([]).root == bytes(32)
    for p in plants:
        node = p.leaf
        for sibling in tree.proof(p):
            node = _sorted_pair(node, sibling)
        assert node == tree.root


def _sorted_pair(a: bytes, b: bytes) -> bytes:
    """OpenZeppelin's MerkleProof rule, restated independently of crucible.protocol.plants."""
    return keccak(a + b) if a < b else keccak(b + a)


def test_python_timelines_match_the_contracts(network: LocalNetwork) -> None:
    registry = network.client.registry.functions
    for w in [Windows(), Windows(50, 2, 20, 20, 20, 10, 100), Windows(30, 1, 10, 10, 10, 4, 60)]:
        assert longest_resolution(w) == int(network.client.call(registry.longestResolution(astuple(w))))
        t = compute(1_000, 1, MAX_PANEL_ATTEMPTS - 1, 1, w)
        period = w.seed_delay + w.commit_window + w.reveal_window
        assert t.seed_block == 1_000 + 2 * w.seed_delay
        assert t.panel_seed_block == t.commit_end - w.commit_window
        assert t.reveal_end == t.seed_block + w.checkpoint_reveal_window + w.commit_window + w.reveal_window + 2 * period
        assert t.committee_seed_block == t.unseal_end + w.seed_delay + period


def test_seat_flags_are_the_contracts(network: LocalNetwork) -> None:
    flags = network.client.call(network.client.lens.functions.seatFlags())
    assert tuple(flags) == (SeatFlags.DRAWN, SeatFlags.COMMITTED, SeatFlags.PASS, SeatFlags.FAIL, SeatFlags.SETTLED)
