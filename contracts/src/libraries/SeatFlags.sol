// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title SeatFlags
/// @notice The bits of a seat's `flags`, shared by the ledger, the lens and (through LedgerLens.seatFlags) Python.
/// A seat is drawn first, then committed, then revealed Pass or Fail, and finally settled.
library SeatFlags {
    uint8 internal constant DRAWN = 1;
    uint8 internal constant COMMITTED = 2;
    uint8 internal constant PASS = 4;
    uint8 internal constant FAIL = 8;
    uint8 internal constant SETTLED = 16;

    /// @notice A seat that revealed a verdict.
    function revealed(uint8 flags) internal pure returns (bool) {
        return flags & (PASS | FAIL) != 0;
    }
}
