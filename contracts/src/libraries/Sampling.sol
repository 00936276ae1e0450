// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Sampling
/// @notice Every random choice of the protocol, derived from randomness recorded on-chain (block.prevrandao of a
/// block fixed before the choice). The Python side mirrors these functions exactly (crucible/chain/sampling.py),
/// and a shared test vector checks that they agree.
library Sampling {
    uint256 internal constant BPS = 10_000;

    /// @notice The audit seed of a subject from the randomness of its seed block: decides whether the work is audited
    /// and which intervals are replayed.
    function auditSeed(bytes32 randomness, bytes32 subject) internal pure returns (bytes32) {
        return keccak256(abi.encode("crucible.audit", randomness, subject));
    }

    /// @notice The seed a panel's seats are drawn from (attempt: 0 for the first draw, then one per re-draw).
    function panelSeed(bytes32 randomness, bytes32 subject, uint8 panel, uint256 attempt)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode("crucible.panel", randomness, subject, panel, attempt));
    }

    /// @notice Whether a work slot with this seed is audited at probability `auditBps`.
    function isAudited(bytes32 seed, uint256 auditBps) internal pure returns (bool) {
        return uint256(keccak256(abi.encode(seed, "audit"))) % BPS < auditBps;
    }

    /// @notice `m` distinct interval indices out of `intervals` (m <= intervals), in draw order: a partial
    /// Fisher-Yates shuffle over a virtual array, so the cost is O(m^2) whatever `intervals` is.
    function intervals(bytes32 seed, uint256 m, uint256 intervals_) internal pure returns (uint256[] memory out) {
        out = new uint256[](m);
        uint256[] memory movedFrom = new uint256[](m); // sparse swap map: position -> value, m entries at most
        uint256[] memory movedValue = new uint256[](m);
        uint256 moves;
        for (uint256 j; j < m; ++j) {
            uint256 range = intervals_ - j;
            uint256 pick = uint256(keccak256(abi.encode(seed, "interval", j))) % range;
            uint256 last = range - 1;
            uint256 picked = _lookup(movedFrom, movedValue, moves, pick);
            uint256 lastValue = _lookup(movedFrom, movedValue, moves, last);
            out[j] = picked;
            // The last live position's value moves into the picked position.
            bool updated;
            for (uint256 k; k < moves; ++k) {
                if (movedFrom[k] == pick) {
                    movedValue[k] = lastValue;
                    updated = true;
                    break;
                }
            }
            if (!updated) {
                movedFrom[moves] = pick;
                movedValue[moves] = lastValue;
                ++moves;
            }
        }
    }

    function _lookup(uint256[] memory from, uint256[] memory value, uint256 moves, uint256 position)
        private
        pure
        returns (uint256)
    {
        for (uint256 k; k < moves; ++k) {
            if (from[k] == position) return value[k];
        }
        return position;
    }

    /// @notice The randomness of the `attempt`-th try to draw a stake-weighted seat from `seed`.
    function drawRandomness(bytes32 seed, uint256 attempt) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, "seat", attempt)));
    }
}
