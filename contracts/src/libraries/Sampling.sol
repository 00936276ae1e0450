// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Sampling
/// @notice Every random choice of the protocol, derived from one seed per panel. The Python side mirrors these
/// functions exactly (crucible/chain/sampling.py), and a shared test vector checks that they agree.
library Sampling {
    uint256 internal constant BPS = 10_000;

    /// @notice The seed of a subject: the hash of block `seedBlock` mixed with the subject key, or 0 while that
    /// block hash is not visible (not mined yet, or more than 256 blocks old).
    function seedFromBlock(uint256 seedBlock, bytes32 subject) internal view returns (bytes32) {
        if (block.number <= seedBlock || block.number - seedBlock > 256) return 0;
        return keccak256(abi.encode(blockhash(seedBlock), subject));
    }

    /// @notice Whether a work slot with this seed is audited at probability `auditBps`.
    function isAudited(bytes32 seed, uint256 auditBps) internal pure returns (bool) {
        return uint256(keccak256(abi.encode(seed, "audit"))) % BPS < auditBps;
    }

    /// @notice The start boundary of the j-th sampled interval among `intervals`.
    function interval(bytes32 seed, uint256 j, uint256 intervals) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, "interval", j))) % intervals;
    }

    /// @notice The randomness that draws the validator of a seat (reduced modulo the validator count).
    function seatDraw(bytes32 seed, uint8 panel, uint8 seat) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, "seat", panel, seat)));
    }
}
