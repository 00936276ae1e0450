// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {LedgerStory} from "./WorkLedger.t.sol";
import {IJobTypes} from "../src/interfaces/IJobTypes.sol";
import {ILedgerTypes} from "../src/interfaces/ILedgerTypes.sol";
import {SeatFlags} from "../src/libraries/SeatFlags.sol";

/// @notice Every mix of audit verdicts (Pass, Fail, silent, committed but never revealed, per seat) and committee
/// verdicts, on plain work and on a sponsor's plant, settled end to end: the outcome follows the rule, every seat
/// settles exactly once, every token is accounted for against an independent model of the payouts (computed here,
/// not read back from the ledger), and nothing is paid twice.
contract SettlementMatrix is LedgerStory {
    bytes32 internal constant PLANT_SALT = keccak256("plant salt");
    uint256 internal constant SAY_PASS = 0;
    uint256 internal constant SAY_FAIL = 1;
    uint256 internal constant SILENT = 2;
    uint256 internal constant COMMIT_ONLY = 3;

    // Default parameters (CrucibleTest.defaultParams): what the model needs.
    uint256 internal constant MINER_REWARD = 10 ether;
    uint256 internal constant VALIDATOR_REWARD = 1 ether;
    uint256 internal constant COLLATERAL = 20 ether;
    uint256 internal constant MINER_SLASH_BPS = 1_000;
    uint256 internal constant BOUNTY_BPS = 5_000;
    uint256 internal constant SEAT_SLASH = 10 ether;
    uint256 internal constant PLANT_BOND = 50 ether;

    uint256 internal job;
    address internal miner;
    bool internal planted;

    /// @dev Balances before settlement, for everyone who can gain or lose.
    struct Books {
        uint256[] stake; // validators, then the miner
        uint256[] claimable; // validators, then the miner
        uint256 escrow;
        uint256 supply;
    }

    /// @dev What the model expects.
    struct Model {
        ILedgerTypes.Outcome outcome;
        uint256 auditWinners;
        uint256 committeeWinners;
        uint256 losers;
        uint256 silent;
        uint256 minerSlash;
        uint256 fromEscrow;
        uint256 bountyEach;
        uint256 rest;
        uint256 bond;
    }

    function testFuzz_everyVerdictMixSettlesOnce_andEveryTokenIsAccountedFor(
        uint256 auditMix,
        uint256 committeeMix,
        bool plant
    ) public {
        planted = plant;
        _submitWork();
        (uint256 aPass, uint256 aFail) = _runPanel(AUDIT, auditMix);
        bool contested;
        uint256 cPass;
        uint256 cFail;
        if (aPass + aFail == 0) {
            _rollThroughEveryAttempt(false); // nobody checked it: Unverified, plant or not
        } else {
            if (planted) {
                vm.roll(timeline(job, 0, 0).revealEnd + 1);
                ledger.unsealPlant(job, 0, 0, PLANT_SALT, new bytes32[](0));
            }
            contested = planted ? aPass != 0 : aFail != 0;
            if (contested) {
                ILedgerTypes.Timeline memory t = timeline(job, 0, 0);
                recordAt(t.committeeSeedBlock);
                vm.roll(t.committeeSeedBlock + 1);
                (cPass, cFail) = _runPanel(COMMITTEE, committeeMix);
                if (cPass + cFail == 0) _rollThroughEveryAttempt(true);
                else vm.roll(timeline(job, 0, 0).disputeRevealEnd + 1);
            } else {
                vm.roll(timeline(job, 0, 0).unsealEnd + 1);
            }
        }
        Model memory m = _model(aPass, aFail, contested, cPass, cFail);
        Books memory before = _books();

        ledger.settleSubmission(job, 0, 0);
        vm.assertEq(uint256(view_(job, 0, 0).outcome), uint256(m.outcome), "the outcome rule");
        settleAllSeats(job, 0, 0);

        _assertSettledOnce();
        _assertMoney(before, m);
        assertBooksBalance();
    }

    // ------------------------------------------------------------ the run

    function _submitWork() internal {
        IJobTypes.JobParams memory p = defaultParams();
        if (planted) {
            p.plantBond = uint96(PLANT_BOND);
            job = postJobWithPlants(p, plantRootOf(0, 0, sentinel, PLANT_SALT));
            miner = sentinel;
        } else {
            job = postJob(p);
            miner = minerA;
        }
        ILedgerTypes.Commitment memory c = claimAndSubmit(job, 0, 0, miner, HONEST);
        seed(job, 0, 0);
        revealSampled(job, 0, 0, miner, HONEST, c);
    }

    /// @dev Draws the panel's first attempt and plays each seat's behaviour (2 bits per seat of `mix`); returns the
    /// revealed Pass and Fail votes and leaves the chain just after the commit window.
    function _runPanel(ILedgerTypes.Panel panel, uint256 mix) internal returns (uint256 pass, uint256 fail) {
        ledger.drawSeats(job, 0, 0, panel);
        ILedgerTypes.Timeline memory t = timeline(job, 0, 0);
        for (uint256 seat; seat < 3; ++seat) {
            uint256 b = (mix >> (2 * seat)) & 3;
            if (b != SILENT) commitSeat(job, 0, 0, panel, seat, b == SAY_FAIL ? FAIL : PASS);
        }
        vm.roll((panel == AUDIT ? t.commitEnd : t.disputeCommitEnd) + 1);
        for (uint256 seat; seat < 3; ++seat) {
            uint256 b = (mix >> (2 * seat)) & 3;
            if (b == SAY_PASS) {
                revealSeat(job, 0, 0, panel, seat, PASS);
                ++pass;
            } else if (b == SAY_FAIL) {
                revealSeat(job, 0, 0, panel, seat, FAIL);
                ++fail;
            }
        }
    }

    /// @dev Every later attempt of the panel also stays silent (nobody draws it): roll past the last one.
    function _rollThroughEveryAttempt(bool committee) internal {
        for (uint256 i; i < 3; ++i) {
            ILedgerTypes.Timeline memory t = timeline(job, 0, 0);
            vm.roll((committee ? t.disputeRevealEnd : t.revealEnd) + 1);
        }
        if (!committee) vm.roll(timeline(job, 0, 0).unsealEnd + 1);
    }

    // ------------------------------------------------------------ the independent model

    function _model(uint256 aPass, uint256 aFail, bool contested, uint256 cPass, uint256 cFail)
        internal
        view
        returns (Model memory m)
    {
        // The rule (libraries/Outcomes.sol), restated.
        if (aPass + aFail == 0) {
            m.outcome = ILedgerTypes.Outcome.Unverified;
        } else if (!contested) {
            m.outcome = planted ? ILedgerTypes.Outcome.RejectedPlanted : ILedgerTypes.Outcome.Accepted;
        } else {
            bool failWins = cPass + cFail == 0 ? aFail > aPass : cFail > cPass;
            if (planted) {
                m.outcome = failWins ? ILedgerTypes.Outcome.RejectedPlanted : ILedgerTypes.Outcome.PlantRefuted;
            } else {
                m.outcome = failWins ? ILedgerTypes.Outcome.RejectedCheat : ILedgerTypes.Outcome.Accepted;
            }
        }
        bool passWins = m.outcome == ILedgerTypes.Outcome.Accepted || m.outcome == ILedgerTypes.Outcome.PlantRefuted;
        bool slashesMiner =
            m.outcome == ILedgerTypes.Outcome.RejectedCheat || m.outcome == ILedgerTypes.Outcome.PlantRefuted;
        for (uint8 panel; panel < 2; ++panel) {
            (, ILedgerTypes.Seat[] memory seats) = lens.seatsOf(job, 0, 0, ILedgerTypes.Panel(panel));
            for (uint256 i; i < seats.length; ++i) {
                uint8 flags = seats[i].flags;
                if (!SeatFlags.revealed(flags)) ++m.silent;
                else if ((flags & SeatFlags.PASS != 0) != passWins) ++m.losers;
                else if (panel == 0) ++m.auditWinners;
                else ++m.committeeWinners;
            }
        }
        // The miner: collateral plus minerSlashBps of the rest (480 CRU free) when the verdict went against it.
        if (slashesMiner) m.minerSlash = COLLATERAL + (500 ether - COLLATERAL) * MINER_SLASH_BPS / 10_000;
        if (m.outcome == ILedgerTypes.Outcome.PlantRefuted) m.bond = PLANT_BOND;
        // Audit winners' rewards: out of the miner's slash (and the forfeited bond) when there is one, else escrow.
        uint256 due = m.auditWinners * VALIDATOR_REWARD;
        uint256 base = m.minerSlash + m.bond;
        uint256 fromSlash = slashesMiner ? (base < due ? base : due) : 0;
        m.fromEscrow = due - fromSlash;
        uint256 bountyBase = base - fromSlash + m.losers * SEAT_SLASH;
        uint256 winners = m.auditWinners + m.committeeWinners;
        if (winners != 0) m.bountyEach = bountyBase * BOUNTY_BPS / 10_000 / winners;
        m.rest = bountyBase - winners * m.bountyEach;
    }

    // ------------------------------------------------------------ checks

    function _books() internal view returns (Books memory b) {
        b.stake = new uint256[](validators.length + 1);
        b.claimable = new uint256[](validators.length + 1);
        for (uint256 i; i <= validators.length; ++i) {
            address a = i < validators.length ? validators[i] : miner;
            b.stake[i] = uint256(stakes.stakeOf(a).staked) + stakes.stakeOf(a).unbonding;
            b.claimable[i] = vault.claimableOf(a);
        }
        b.escrow = vault.escrowOf(job);
        b.supply = token.totalSupply();
    }

    function _assertSettledOnce() internal {
        bytes32 k = subject(job, 0, 0);
        ILedgerTypes.SubjectView memory v = view_(job, 0, 0);
        vm.assertEq(v.pendingLosers, 0, "every loser settled");
        vm.assertEq(v.winnersPaid, v.winners, "every winner paid exactly once");
        vm.assertEq(v.poolBalance, 0, "the subject's pool is closed");
        (, uint256 pooled) = vault.totals();
        vm.assertEq(pooled, 0, "nothing left pooled");
        for (uint8 panel; panel < 2; ++panel) {
            (uint256[] memory numbers, ILedgerTypes.Seat[] memory seats) =
                lens.seatsOf(job, 0, 0, ILedgerTypes.Panel(panel));
            for (uint256 i; i < seats.length; ++i) {
                vm.assertTrue(seats[i].flags & SeatFlags.SETTLED != 0, "every drawn seat settled");
                vm.expectRevert(
                    abi.encodeWithSelector(
                        ILedgerTypes.LedgerSeatAlreadyDone.selector, k, ILedgerTypes.Panel(panel), numbers[i]
                    )
                );
                ledger.settleSeat(job, 0, 0, ILedgerTypes.Panel(panel), uint8(numbers[i]));
            }
        }
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerWrongStatus.selector, k, v.status));
        ledger.settleSubmission(job, 0, 0);
    }

    function _assertMoney(Books memory before, Model memory m) internal view {
        Books memory later = _books();
        bool passWins = m.outcome == ILedgerTypes.Outcome.Accepted || m.outcome == ILedgerTypes.Outcome.PlantRefuted;
        bool plantOutcome =
            m.outcome == ILedgerTypes.Outcome.RejectedPlanted || m.outcome == ILedgerTypes.Outcome.PlantRefuted;
        uint256 rewardEach = m.auditWinners != 0 ? VALIDATOR_REWARD : 0;
        // Each validator: per seat, a winner's reward and bounty, a loser's or silent seat's slash.
        for (uint256 i; i < validators.length; ++i) {
            uint256 gained;
            uint256 lost;
            for (uint8 panel; panel < 2; ++panel) {
                (, ILedgerTypes.Seat[] memory seats) = lens.seatsOf(job, 0, 0, ILedgerTypes.Panel(panel));
                for (uint256 s; s < seats.length; ++s) {
                    if (seats[s].validator != validators[i]) continue;
                    uint8 flags = seats[s].flags;
                    if (!SeatFlags.revealed(flags) || (flags & SeatFlags.PASS != 0) != passWins) lost += SEAT_SLASH;
                    else gained += m.bountyEach + (panel == 0 ? rewardEach : 0);
                }
            }
            vm.assertEq(later.stake[i], before.stake[i] - lost, "a validator loses exactly its seats' slashes");
            vm.assertEq(later.claimable[i], before.claimable[i] + gained, "and gains exactly its seats' pay");
        }
        uint256 last = validators.length;
        vm.assertEq(later.stake[last], before.stake[last] - m.minerSlash, "the miner's slash");
        uint256 minerPay = m.outcome == ILedgerTypes.Outcome.Accepted ? MINER_REWARD : 0;
        vm.assertEq(later.claimable[last], before.claimable[last] + minerPay, "the miner's pay");
        // What nobody is paid: back to the escrow, or burned when the subject was a plant.
        uint256 leftover = m.rest + m.silent * SEAT_SLASH;
        uint256 escrowOut = minerPay + m.fromEscrow + m.bond;
        uint256 escrowIn = plantOutcome ? 0 : leftover;
        vm.assertEq(later.escrow + escrowOut, before.escrow + escrowIn, "the escrow moves by exactly the model");
        vm.assertEq(before.supply - later.supply, plantOutcome ? leftover : 0, "burned: only what a plant left over");
    }
}
