"""A sponsor's planted errors: the set of (round, slot, sentinel) it seals at job creation.

Only a slot the sponsor named, held by the sentinel it named, can ever be unsealed as a plant: the job commits the
Merkle root of these leaves (contracts/src/libraries/Commitments.sol plantLeaf; pairs hashed sorted, as
OpenZeppelin's MerkleProof verifies them), and the sentinel unseals its plant after the audit verdicts are public
with the leaf's salt and proof. The salts stay with the sponsor until then, so nobody can tell a plant from honest
work, or the sentinel's address from any other miner's.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from eth_utils import keccak

from crucible.chain.vectors import plant_leaf

NO_PLANTS = bytes(32)


@dataclass(frozen=True)
class Plant:
    round: int
    slot: int
    sentinel: str
    salt: bytes = field(default_factory=lambda: os.urandom(32))

    @property
    def leaf(self) -> bytes:
        return plant_leaf(self.round, self.slot, self.sentinel, self.salt)


def _pair(a: bytes, b: bytes) -> bytes:
    return keccak(a + b) if a < b else keccak(b + a)


@dataclass(frozen=True)
class PlantSet:
    """The sealed set: its root goes on-chain, each plant's proof stays with the sponsor until it unseals."""

    plants: tuple[Plant, ...]
    levels: tuple[tuple[bytes, ...], ...]

    @classmethod
    def build(cls, plants: list[Plant]) -> PlantSet:
        if not plants:
            return cls((), ())
        levels = [tuple(p.leaf for p in plants)]
        while len(levels[-1]) > 1:
            level = levels[-1]
            parents = [_pair(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                parents.append(level[-1])
            levels.append(tuple(parents))
        return cls(tuple(plants), tuple(levels))

    @property
    def root(self) -> bytes:
        return self.levels[-1][0] if self.levels else NO_PLANTS

    def proof(self, plant: Plant) -> list[bytes]:
        index = self.plants.index(plant)
        proof: list[bytes] = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                proof.append(level[sibling])
            index //= 2
        return proof
