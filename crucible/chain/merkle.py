"""The checkpoint Merkle tree, exactly as the WorkLedger verifies it (contracts/src/libraries/PositionalMerkle.sol).

leaf_i = keccak256(abi.encode(jobId, round, slot, miner, i, checkpointDigest_i, traceDigest_i)) for the K + 1
boundaries of a slot; the leaves are padded with zero words to 2**depth (depth = ceil(log2(K + 1)), at least 1) and
every level hashes (left, right) in order. A proof has exactly `depth` siblings and the leaf's index picks the side
at each level, so one root commits exactly one checkpoint per boundary: a miner cannot hide two different
checkpoints for one boundary (as commutative pair hashing would allow). Binding the miner into every leaf makes a
copied commitment worthless to the copier.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi import encode
from eth_utils import keccak, to_checksum_address

EMPTY_LEAF = bytes(32)


def checkpoint_leaf(
    job_id: int, round_: int, slot: int, miner: str, index: int, checkpoint_digest: bytes, trace_digest: bytes
) -> bytes:
    return keccak(
        encode(
            ["uint256", "uint16", "uint16", "address", "uint256", "bytes32", "bytes32"],
            [job_id, round_, slot, to_checksum_address(miner), index, checkpoint_digest, trace_digest],
        )
    )


def depth_for(leaves: int) -> int:
    """The tree depth for `leaves` leaves: ceil(log2(leaves)), at least 1."""
    depth = 0
    while (1 << depth) < leaves:
        depth += 1
    return max(depth, 1)


def hash_pair(left: bytes, right: bytes) -> bytes:
    return keccak(left + right)


@dataclass(frozen=True)
class MerkleTree:
    """All levels of the padded tree, leaves first; `size` is the number of real leaves."""

    levels: tuple[tuple[bytes, ...], ...]
    size: int

    @classmethod
    def build(cls, leaves: list[bytes]) -> MerkleTree:
        if not leaves:
            raise ValueError("a Merkle tree needs at least one leaf")
        depth = depth_for(len(leaves))
        level = tuple(leaves) + (EMPTY_LEAF,) * ((1 << depth) - len(leaves))
        levels = [level]
        while len(level) > 1:
            level = tuple(hash_pair(level[i], level[i + 1]) for i in range(0, len(level), 2))
            levels.append(level)
        return cls(tuple(levels), len(leaves))

    @property
    def root(self) -> bytes:
        return self.levels[-1][0]

    @property
    def depth(self) -> int:
        return len(self.levels) - 1

    def proof(self, index: int) -> list[bytes]:
        """The `depth` sibling hashes from leaf `index` up to the root."""
        if not 0 <= index < self.size:
            raise IndexError(f"leaf {index} out of range (the tree has {self.size} leaves)")
        proof: list[bytes] = []
        for level in self.levels[:-1]:
            proof.append(level[index ^ 1])
            index //= 2
        return proof


def verify(proof: list[bytes], root: bytes, leaf: bytes, index: int) -> bool:
    """Whether `proof` places `leaf` at `index` under `root` (the proof's length is the tree's depth)."""
    if index >> len(proof):
        return False
    node = leaf
    for level, sibling in enumerate(proof):
        node = hash_pair(node, sibling) if (index >> level) & 1 == 0 else hash_pair(sibling, node)
    return node == root
