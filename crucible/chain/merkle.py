"""The checkpoint Merkle tree, exactly as the WorkLedger verifies it.

leaf_i = keccak256(abi.encode(jobId, round, slot, miner, i, checkpointDigest_i, traceDigest_i)); pairs are hashed
sorted (OpenZeppelin's commutative keccak), and an odd node at the end of a level moves up unchanged. Binding the
miner into every leaf makes a copied commitment worthless to the copier.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi import encode
from eth_utils import keccak, to_checksum_address


def checkpoint_leaf(
    job_id: int, round_: int, slot: int, miner: str, index: int, checkpoint_digest: bytes, trace_digest: bytes
) -> bytes:
    return keccak(
        encode(
            ["uint256", "uint16", "uint16", "address", "uint256", "bytes32", "bytes32"],
            [job_id, round_, slot, to_checksum_address(miner), index, checkpoint_digest, trace_digest],
        )
    )


def hash_pair(a: bytes, b: bytes) -> bytes:
    return keccak(a + b) if a < b else keccak(b + a)


@dataclass(frozen=True)
class MerkleTree:
    """All levels of the tree, leaves first."""

    levels: tuple[tuple[bytes, ...], ...]

    @classmethod
    def build(cls, leaves: list[bytes]) -> MerkleTree:
        if not leaves:
            raise ValueError("a Merkle tree needs at least one leaf")
        levels = [tuple(leaves)]
        while len(levels[-1]) > 1:
            level = levels[-1]
            parents = [hash_pair(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                parents.append(level[-1])
            levels.append(tuple(parents))
        return cls(tuple(levels))

    @property
    def root(self) -> bytes:
        return self.levels[-1][0]

    def proof(self, index: int) -> list[bytes]:
        """Sibling hashes from leaf `index` up to the root."""
        if not 0 <= index < len(self.levels[0]):
            raise IndexError(f"leaf {index} out of range")
        proof: list[bytes] = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                proof.append(level[sibling])
            index //= 2
        return proof


def verify(proof: list[bytes], root: bytes, leaf: bytes) -> bool:
    node = leaf
    for sibling in proof:
        node = hash_pair(node, sibling)
    return node == root
