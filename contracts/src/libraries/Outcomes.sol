// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ILedgerTypes} from "../interfaces/ILedgerTypes.sol";

/// @title Outcomes
/// @notice The settlement rule of a submission, as a pure function of what is known about it: whether it was audited
/// and planted, the verdicts revealed, and the time. One place, so the ledger, the lens and the tests agree.
///
/// The rule, in order:
///  1. no randomness after every seed try -> Unverified (nobody could check it; nothing paid, nothing slashed);
///  2. not audited -> Accepted after the unseal window (RejectedPlanted if the sentinel unsealed it);
///  3. an audited work slot whose sampled checkpoints were not revealed -> RejectedWithheld;
///  4. a panel with no revealed verdict is drawn again (Timelines.effective); when the last attempt also ends
///     silent -> Unverified (audited work nobody checked is never paid, nor slashed);
///  5. uncontested (no Fail; for a plant: no Pass) -> Accepted (or RejectedPlanted);
///  6. contested -> the committee's majority of seats (one vote per seat; ties for the miner, and against a plant);
///     a committee that never reveals is re-drawn, then the audit panel's majority decides.
/// A plant (unsealed by the sponsor's sentinel) is "contested" when an audit seat passed it: a plant must be proven
/// wrong before anyone who passed it loses.
library Outcomes {
    /// @notice Everything the rule looks at. Attempts are the effective ones (Timelines.effective).
    struct Facts {
        bool isAggregate;
        bool seedKnown;
        bool seedFailed;
        uint64 seedReadyAt; // while the seed is pending: from which block it may be known
        bool audited;
        bool revealed; // the miner revealed its sampled checkpoints
        bool planted;
        uint8 auditPass;
        uint8 auditFail;
        uint8 committeePass;
        uint8 committeeFail;
        ILedgerTypes.Timeline t; // for the effective attempts
        uint256 now;
    }

    /// @notice The outcome, or None and the block from which a decision is possible.
    function decide(Facts memory f) internal pure returns (ILedgerTypes.Outcome outcome, uint256 readyAt) {
        if (!f.seedKnown) {
            if (f.seedFailed) return (ILedgerTypes.Outcome.Unverified, 0);
            return (ILedgerTypes.Outcome.None, f.seedReadyAt);
        }
        ILedgerTypes.Timeline memory t = f.t;
        if (!f.audited) {
            // Unaudited work waits for the unseal window too, so a plant is unsealed at the same time as the audits
            // running beside it close, never earlier (an early unseal would tag the sentinel's address).
            if (f.now <= t.unsealEnd) return (ILedgerTypes.Outcome.None, t.unsealEnd + 1);
            return (f.planted ? ILedgerTypes.Outcome.RejectedPlanted : ILedgerTypes.Outcome.Accepted, 0);
        }
        if (!f.isAggregate && !f.revealed) {
            if (f.now <= t.revealDeadline) return (ILedgerTypes.Outcome.None, t.revealDeadline + 1);
            return (ILedgerTypes.Outcome.RejectedWithheld, 0);
        }
        if (f.now <= t.revealEnd) return (ILedgerTypes.Outcome.None, t.revealEnd + 1);
        // The effective attempt is the last one when no panel revealed anything: nobody checked the work.
        if (uint256(f.auditPass) + f.auditFail == 0) return (ILedgerTypes.Outcome.Unverified, 0);
        if (f.now <= t.unsealEnd) return (ILedgerTypes.Outcome.None, t.unsealEnd + 1);
        if (!contested(f.planted, f.auditPass, f.auditFail)) {
            return (f.planted ? ILedgerTypes.Outcome.RejectedPlanted : ILedgerTypes.Outcome.Accepted, 0);
        }
        if (f.now <= t.disputeRevealEnd) return (ILedgerTypes.Outcome.None, t.disputeRevealEnd + 1);
        if (uint256(f.committeePass) + f.committeeFail == 0) {
            // A committee that never showed up (every attempt) falls back to the audit panel's majority, so a
            // dispute always ends.
            return (verdictOf(f.auditFail > f.auditPass, f.planted), 0);
        }
        return (verdictOf(f.committeeFail > f.committeePass, f.planted), 0);
    }

    /// @notice Whether the audit verdicts contest the work (or, for a plant, contest that it is wrong).
    function contested(bool planted_, uint8 auditPass, uint8 auditFail) internal pure returns (bool) {
        return planted_ ? auditPass != 0 : auditFail != 0;
    }

    /// @notice The outcome of a majority: ties and doubts go to the miner, and against a plant (a validator that
    /// passed correct work can never lose to a sentinel).
    function verdictOf(bool failWins, bool planted_) internal pure returns (ILedgerTypes.Outcome) {
        if (failWins) return planted_ ? ILedgerTypes.Outcome.RejectedPlanted : ILedgerTypes.Outcome.RejectedCheat;
        return planted_ ? ILedgerTypes.Outcome.PlantRefuted : ILedgerTypes.Outcome.Accepted;
    }

    /// @notice Whether Pass is the winning side of this outcome.
    function passWins(ILedgerTypes.Outcome outcome) internal pure returns (bool) {
        return outcome == ILedgerTypes.Outcome.Accepted || outcome == ILedgerTypes.Outcome.PlantRefuted;
    }

    /// @notice Whether the miner's collateral (and a slice of its stake) is slashed.
    function slashesMiner(ILedgerTypes.Outcome outcome) internal pure returns (bool) {
        return outcome == ILedgerTypes.Outcome.RejectedCheat || outcome == ILedgerTypes.Outcome.RejectedWithheld
            || outcome == ILedgerTypes.Outcome.PlantRefuted;
    }

    /// @notice Whether the subject was a plant, so nothing slashed on it may return to the sponsor's escrow.
    function planted(ILedgerTypes.Outcome outcome) internal pure returns (bool) {
        return outcome == ILedgerTypes.Outcome.RejectedPlanted || outcome == ILedgerTypes.Outcome.PlantRefuted;
    }
}
