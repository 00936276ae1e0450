// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @notice Synthetic work for tests: the digests of a four-boundary slot (intervalsPerSlot = 3) and its position-bound
/// Merkle tree (depth 2, (left, right) hashed in order), as PositionalMerkle and the Python engine build it.
library WorkFixtures {
    function ckptDigest(bytes32 variant, uint256 i) internal pure returns (bytes32) {
        return keccak256(abi.encode("checkpoint", variant, i));
    }

    function traceDigest(bytes32 variant, uint256 i) internal pure returns (bytes32) {
        return keccak256(abi.encode("trace", variant, i));
    }

    function leaf(uint256 jobId, uint16 round, uint16 slot, address miner, uint256 i, bytes32 variant)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(jobId, round, slot, miner, i, ckptDigest(variant, i), traceDigest(variant, i)));
    }

    function leaves(uint256 jobId, uint16 round, uint16 slot, address miner, bytes32 variant)
        internal
        pure
        returns (bytes32[4] memory out)
    {
        for (uint256 i; i < 4; ++i) out[i] = leaf(jobId, round, slot, miner, i, variant);
    }

    function hashPair(bytes32 left, bytes32 right) internal pure returns (bytes32) {
        return keccak256(abi.encode(left, right));
    }

    function root(bytes32[4] memory l) internal pure returns (bytes32) {
        return hashPair(hashPair(l[0], l[1]), hashPair(l[2], l[3]));
    }

    function proof(bytes32[4] memory l, uint256 i) internal pure returns (bytes32[] memory p) {
        p = new bytes32[](2);
        p[0] = l[i ^ 1];
        p[1] = i < 2 ? hashPair(l[2], l[3]) : hashPair(l[0], l[1]);
    }
}
