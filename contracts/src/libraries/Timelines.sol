// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IJobTypes} from "../interfaces/IJobTypes.sol";
import {IWorkLedger} from "../interfaces/IWorkLedger.sol";

/// @title Timelines
/// @notice The deadlines of a submission, derived from its block and the job's windows (see IWorkLedger).
library Timelines {
    function compute(uint256 submittedAt, IJobTypes.Windows memory w)
        internal
        pure
        returns (IWorkLedger.Timeline memory t)
    {
        // Safe from overflow: block numbers and uint32 windows stay far below 2**64.
        unchecked {
            t.seedBlock = uint64(submittedAt + w.seedDelay);
            t.revealDeadline = t.seedBlock + w.checkpointRevealWindow;
            t.commitEnd = t.revealDeadline + w.commitWindow;
            t.revealEnd = t.commitEnd + w.revealWindow;
            t.unsealEnd = t.revealEnd + w.unsealWindow;
            t.disputeSeedBlock = t.unsealEnd + w.seedDelay;
            t.disputeCommitEnd = t.disputeSeedBlock + w.commitWindow;
            t.disputeRevealEnd = t.disputeCommitEnd + w.revealWindow;
        }
    }
}
