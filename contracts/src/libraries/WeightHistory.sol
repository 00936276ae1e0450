// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title WeightHistory
/// @notice A value with its last four epochs of history, packed in one storage word: the checkpointed stake weights
/// of the sortition tree. Writes always land at a future epoch (current + 2), reads at the current or the previous
/// epoch, so four entries are exactly enough to answer every read deterministically.
///
/// Layout: bits [0, 32) the last written epoch L; bits [32 + 56k, 88 + 56k) the value for epochs e with e % 4 == k,
/// valid for L - 3 <= e <= L; epochs after L read the value of L.
library WeightHistory {
    uint256 internal constant SLOTS = 4;
    uint256 internal constant VALUE_BITS = 56;
    uint256 internal constant MAX_VALUE = (1 << VALUE_BITS) - 1;
    uint256 private constant VALUE_MASK = MAX_VALUE;

    /// @notice A read reached further back than the four epochs kept.
    error WeightHistoryUnavailable(uint256 epoch, uint256 lastEpoch);
    /// @notice A write would go below zero or above MAX_VALUE.
    error WeightHistoryOutOfRange(uint256 epoch, int256 delta);
    /// @notice A write tried to change an epoch older than the last written one.
    error WeightHistoryRewrite(uint256 epoch, uint256 lastEpoch);

    function lastEpoch(uint256 packed) internal pure returns (uint256) {
        return uint32(packed);
    }

    /// @notice The value at `epoch`.
    function at(uint256 packed, uint256 epoch) internal pure returns (uint256) {
        uint256 last = uint32(packed);
        if (epoch >= last) return _slot(packed, last);
        if (last - epoch >= SLOTS) revert WeightHistoryUnavailable(epoch, last);
        return _slot(packed, epoch);
    }

    /// @notice Adds `delta` to the value from `epoch` on (epoch must not be older than the last write).
    function add(uint256 packed, uint256 epoch, int256 delta) internal pure returns (uint256) {
        uint256 last = uint32(packed);
        if (epoch < last) revert WeightHistoryRewrite(epoch, last);
        if (epoch > last) {
            // Carry the last value forward into every epoch between the last write and this one (at most four
            // ring entries matter: older ones fall out of the window anyway).
            uint256 carried = _slot(packed, last);
            uint256 from = epoch - last > SLOTS ? epoch - SLOTS + 1 : last + 1;
            for (uint256 e = from; e <= epoch; ++e) {
                packed = _setSlot(packed, e, carried);
            }
            // Safe: epoch < 2**32 (block numbers / epoch length), checked by the caller's uint32 epochs.
            packed = (packed & ~uint256(type(uint32).max)) | uint32(epoch);
        }
        int256 next = int256(_slot(packed, epoch)) + delta;
        if (next < 0 || uint256(next) > MAX_VALUE) revert WeightHistoryOutOfRange(epoch, delta);
        return _setSlot(packed, epoch, uint256(next));
    }

    function _slot(uint256 packed, uint256 epoch) private pure returns (uint256) {
        return (packed >> (32 + VALUE_BITS * (epoch % SLOTS))) & VALUE_MASK;
    }

    function _setSlot(uint256 packed, uint256 epoch, uint256 value) private pure returns (uint256) {
        uint256 shift = 32 + VALUE_BITS * (epoch % SLOTS);
        return (packed & ~(VALUE_MASK << shift)) | (value << shift);
    }
}
