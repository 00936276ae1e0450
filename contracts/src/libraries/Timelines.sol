// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IJobTypes} from "../interfaces/IJobTypes.sol";
import {ILedgerTypes} from "../interfaces/ILedgerTypes.sol";

/// @title Timelines
/// @notice The deadlines of a submission (see ILedgerTypes), derived from its block, the job's windows and how many
/// times its seed, its audit panel and its committee had to be retried. Every retry is at a block fixed in advance,
/// so a submission's longest possible life is bounded (`longestResolution`), which is what lets the registry
/// require unbonding and validator activation to outlast it.
library Timelines {
    /// @notice Tries at a seed block whose randomness nobody recorded (each retry forces an audit).
    uint256 internal constant MAX_SEED_ATTEMPTS = 3;
    /// @notice Draws of an audit panel or a committee that may end with no revealed verdict before the rule gives up.
    uint256 internal constant MAX_PANEL_ATTEMPTS = 3;

    function compute(
        uint256 submittedAt,
        uint256 seedAttempt,
        uint256 auditAttempt,
        uint256 committeeAttempt,
        IJobTypes.Windows memory w
    ) internal pure returns (ILedgerTypes.Timeline memory t) {
        // Safe from overflow: block numbers, uint32 windows and attempt counts below 256 stay far below 2**64.
        unchecked {
            uint256 period = uint256(w.seedDelay) + w.commitWindow + w.revealWindow;
            uint256 seedBlock = submittedAt + uint256(w.seedDelay) * (seedAttempt + 1);
            t.seedBlock = uint64(seedBlock);
            t.revealDeadline = uint64(seedBlock + w.checkpointRevealWindow);
            // Attempt 0 of the audit panel draws from the audit seed and commits after the checkpoint reveal;
            // attempt r >= 1 draws from the randomness of (previous reveal end + seedDelay).
            uint256 revealEnd = uint256(t.revealDeadline) + w.commitWindow + w.revealWindow + auditAttempt * period;
            t.revealEnd = uint64(revealEnd);
            t.commitEnd = uint64(revealEnd - w.revealWindow);
            t.panelSeedBlock = auditAttempt == 0 ? t.seedBlock : uint64(revealEnd - w.revealWindow - w.commitWindow);
            t.unsealEnd = uint64(revealEnd + w.unsealWindow);
            uint256 committeeSeed = uint256(t.unsealEnd) + w.seedDelay + committeeAttempt * period;
            t.committeeSeedBlock = uint64(committeeSeed);
            t.disputeCommitEnd = uint64(committeeSeed + w.commitWindow);
            t.disputeRevealEnd = uint64(committeeSeed + w.commitWindow + w.revealWindow);
        }
    }

    /// @notice Where a submission stands: what the chain has recorded about its seed and its panels.
    struct Progress {
        uint256 submittedAt;
        uint256 seedAttempt;
        bool panelsRun; // audited, and its checkpoints revealed (or an aggregate)
        uint8 auditAttempt; // valid when auditTallied
        bool auditTallied; // an audit seat revealed
        uint8 committeeAttempt; // valid when committeeTallied
        bool committeeTallied; // a committee seat revealed
    }

    /// @notice The timeline with the attempts in effect at `currentBlock`: a panel's attempt is frozen once one of its
    /// seats revealed; until then it is the latest attempt whose window has opened, since every earlier one ended
    /// without a verdict. Panels only run for audited work whose checkpoints are revealed (or aggregates).
    function effective(Progress memory p, uint256 currentBlock, IJobTypes.Windows memory w)
        internal
        pure
        returns (ILedgerTypes.Timeline memory t, uint8 audit, uint8 committee)
    {
        if (!p.panelsRun) return (compute(p.submittedAt, p.seedAttempt, 0, 0, w), 0, 0);
        uint256 period = uint256(w.seedDelay) + w.commitWindow + w.revealWindow;
        t = compute(p.submittedAt, p.seedAttempt, 0, 0, w);
        audit = p.auditTallied ? p.auditAttempt : _attemptAt(t.revealEnd, period, currentBlock);
        t = compute(p.submittedAt, p.seedAttempt, audit, 0, w);
        committee = p.committeeTallied ? p.committeeAttempt : _attemptAt(t.disputeRevealEnd, period, currentBlock);
        t = compute(p.submittedAt, p.seedAttempt, audit, committee, w);
    }

    /// @dev Attempt r (r >= 1) runs until firstEnd + r * period.
    function _attemptAt(uint256 firstEnd, uint256 period, uint256 currentBlock) private pure returns (uint8) {
        if (currentBlock <= firstEnd) return 0;
        uint256 attempt = (currentBlock - firstEnd - 1) / period + 1;
        // Safe cast: bounded by MAX_PANEL_ATTEMPTS.
        return uint8(attempt < MAX_PANEL_ATTEMPTS ? attempt : MAX_PANEL_ATTEMPTS - 1);
    }

    /// @notice The last block at which a panel whose commits end at `commitEnd` may still be drawn: half the commit
    /// window before its end. A seat drawn later could not commit in time through no fault of its holder, and silence
    /// is slashed; a panel nobody drew by then fails without a verdict and the next attempt re-draws from its seed.
    function drawDeadline(uint256 commitEnd, uint256 commitWindow) internal pure returns (uint256) {
        return commitEnd - commitWindow / 2;
    }

    /// @notice Blocks from a claim to the last block at which that claim's settlement can still be undecided.
    function longestResolution(IJobTypes.Windows memory w) internal pure returns (uint256) {
        ILedgerTypes.Timeline memory t =
            compute(w.submitWindow, MAX_SEED_ATTEMPTS - 1, MAX_PANEL_ATTEMPTS - 1, MAX_PANEL_ATTEMPTS - 1, w);
        return t.disputeRevealEnd;
    }
}
