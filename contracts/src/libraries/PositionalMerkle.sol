// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title PositionalMerkle
/// @notice A fixed-depth Merkle tree whose proofs are bound to the leaf's index: the tree over the K + 1 checkpoint
/// boundaries of a slot is padded with zero leaves to 2**depth, depth = ceil(log2(K + 1)), and each level hashes
/// (left, right) in order, the index's bits choosing the side. A root therefore commits exactly one leaf per index
/// (unlike commutative pair hashing, where one root can hide several leaves for one boundary).
/// crucible/chain/merkle.py builds the same tree; a shared test vector keeps them equal.
library PositionalMerkle {
    /// @notice The tree depth for `leaves` leaves (at least 1).
    function depthFor(uint256 leaves) internal pure returns (uint256 depth) {
        while ((uint256(1) << depth) < leaves) ++depth;
        if (depth == 0) depth = 1;
    }

    /// @notice Whether `proof` places `leaf` at `index` under `root` in a tree of `depth` levels.
    function verify(bytes32[] calldata proof, bytes32 root, bytes32 leaf, uint256 index, uint256 depth)
        internal
        pure
        returns (bool)
    {
        if (proof.length != depth || index >> depth != 0) return false;
        bytes32 node = leaf;
        for (uint256 level; level < depth; ++level) {
            bytes32 sibling = proof[level];
            node = (index >> level) & 1 == 0 ? _hash(node, sibling) : _hash(sibling, node);
        }
        return node == root;
    }

    function _hash(bytes32 left, bytes32 right) private pure returns (bytes32 out) {
        assembly ("memory-safe") {
            mstore(0x00, left)
            mstore(0x20, right)
            out := keccak256(0x00, 0x40)
        }
    }
}
