// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Payouts
/// @notice The arithmetic of a settled submission's pool: who wins, what each winner gets. Pure, so the ledger and
/// the tests compute the same numbers.
///
/// A settled subject's pool holds (a) the audit winners' rewards, reserved at settlement, and (b) the bounty base:
/// everything slashed on this subject (the miner's slash, then each losing seat's). Audit winners of a rejected
/// submission are paid out of the miner's slash (the registry requires the collateral to cover a full panel), so a
/// rejected aggregate's re-audit never eats the escrow that a later, correct aggregate needs. Each winner receives
/// an equal share of `bountyBps` of the bounty base; the rest, and rounding dust, goes back to the escrow, or is
/// burned when the subject was a plant (slashes on a plant never flow back to its planter).
library Payouts {
    uint256 internal constant BPS = 10_000;

    /// @notice The seats on each side of a settled subject.
    struct Sides {
        uint256 auditWinners;
        uint256 committeeWinners;
        uint256 losers;
    }

    function sides(bool passWins, uint8 auditPass, uint8 auditFail, uint8 committeePass, uint8 committeeFail)
        internal
        pure
        returns (Sides memory s)
    {
        s.auditWinners = passWins ? auditPass : auditFail;
        s.committeeWinners = passWins ? committeePass : committeeFail;
        s.losers = passWins ? uint256(auditFail) + committeeFail : uint256(auditPass) + committeePass;
    }

    /// @notice How much of `slashed` is taken to fund `rewardsDue` (the rest stays as bounty base).
    function fundRewardsFromSlash(uint256 slashed, uint256 rewardsDue)
        internal
        pure
        returns (uint256 fromSlash, uint256 stillDue)
    {
        fromSlash = slashed < rewardsDue ? slashed : rewardsDue;
        stillDue = rewardsDue - fromSlash;
    }

    /// @notice Each winner's equal share of `bountyBps` of the bounty base.
    function bountyEach(uint256 bountyBase, uint256 bountyBps, uint256 winners) internal pure returns (uint256) {
        if (winners == 0) return 0;
        return bountyBase * bountyBps / BPS / winners;
    }
}
