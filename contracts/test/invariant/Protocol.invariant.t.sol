// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {CrucibleTest} from "../utils/CrucibleTest.sol";
import {ProtocolHandler} from "./ProtocolHandler.sol";
import {IStakeManager} from "../../src/interfaces/IStakeManager.sol";
import {IWorkLedger} from "../../src/interfaces/IWorkLedger.sol";

/// @notice Invariants of the money: whatever sequence of staking, work, verdicts, settlements, claims and
/// withdrawals the fuzzer tries, the books balance and nobody gets out more than they put in and earned.
contract Protocol_Invariants is CrucibleTest {
    ProtocolHandler internal handler;

    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    function setUp() public override {
        super.setUp();
        address[] memory cast = new address[](8);
        for (uint256 i; i < 4; ++i) {
            cast[i] = validators[i];
            stakeAs(validators[i], 1_000 ether);
            vm.prank(validators[i]);
            stakes.registerValidator();
        }
        cast[4] = minerA;
        cast[5] = minerB;
        cast[6] = aggregator;
        cast[7] = makeAddr("minerC");
        handler = new ProtocolHandler(token, stakes, vault, ledger, registry, lens, sponsor, cast);
    }

    /// @dev Forge asks the test which contracts to call at random.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory out) {
        bytes4[] memory s = new bytes4[](13);
        s[0] = handler.stake.selector;
        s[1] = handler.requestUnbond.selector;
        s[2] = handler.withdraw.selector;
        s[3] = handler.claim.selector;
        s[4] = handler.roll.selector;
        s[5] = handler.createJob.selector;
        s[6] = handler.claimAndSubmit.selector;
        s[7] = handler.revealCheckpoints.selector;
        s[8] = handler.commitVerdict.selector;
        s[9] = handler.revealVerdict.selector;
        s[10] = handler.settleSubmission.selector;
        s[11] = handler.settleSeat.selector;
        s[12] = handler.vacateSlot.selector;
        out = new FuzzSelector[](1);
        out[0] = FuzzSelector(address(handler), s);
    }

    /// @notice Tokens held by the contracts == stakes + unbonding + escrows + pooled + unclaimed rewards.
    function invariant_tokenBalanceEqualsLiabilities() public view {
        assertBooksBalance();
    }

    /// @notice The running totals equal the sum of the per-account and per-submission records.
    function invariant_totalsMatchRecords() public view {
        uint256 bonded;
        uint256 claimable;
        for (uint256 i; i < handler.actorCount(); ++i) {
            IStakeManager.StakeInfo memory info = stakes.stakeOf(handler.actors(i));
            bonded += uint256(info.staked) + info.unbonding;
            claimable += vault.claimableOf(handler.actors(i));
        }
        claimable += vault.claimableOf(sponsor);
        (uint256 staked, uint256 unbonding) = stakes.totals();
        (uint256 escrow, uint256 pooled) = vault.totals();
        vm.assertEq(staked + unbonding, bonded, "stake totals");
        vm.assertEq(token.balanceOf(address(vault)), escrow + pooled + claimable, "vault == escrow + pool + claims");
        uint256 poolSum;
        for (uint256 i; i < handler.subjectCount(); ++i) {
            bytes32 key = handler.subjects(i);
            poolSum += _poolOf(key);
        }
        vm.assertEq(pooled, poolSum, "pooled == sum of submission pools");
    }

    /// @notice Nobody gets out more than deposited + earned - slashed; what is left is exactly what they hold.
    function invariant_nobodyWithdrawsMoreThanDepositedPlusEarnedMinusSlashed() public view {
        for (uint256 i; i < handler.actorCount(); ++i) {
            address a = handler.actors(i);
            uint256 inflow = handler.ghostDeposited(a) + handler.ghostEarned(a) + _initialStake(a);
            uint256 outflow = handler.ghostWithdrawn(a) + handler.ghostSlashed(a);
            vm.assertGe(inflow, outflow, "withdrew more than deposited + earned - slashed");
            IStakeManager.StakeInfo memory info = stakes.stakeOf(a);
            vm.assertEq(
                inflow - outflow, uint256(info.staked) + info.unbonding + vault.claimableOf(a), "per-actor conservation"
            );
        }
    }

    /// @notice Collateral never exceeds what is bonded: an open submission is always backed by slashable stake.
    function invariant_collateralIsAlwaysBacked() public view {
        for (uint256 i; i < handler.actorCount(); ++i) {
            IStakeManager.StakeInfo memory info = stakes.stakeOf(handler.actors(i));
            vm.assertLe(info.locked, info.staked, "locked <= staked");
        }
    }

    /// @notice A submission, and each seat, is settled (paid or slashed) at most once.
    function invariant_paidAtMostOnce() public view {
        vm.assertEq(handler.ghostDoubleSettlements(), 0, "double settlement");
    }

    /// @notice The handler's actions really reach the protocol's deep states: a cheat audited, disputed, slashed
    /// and its seats settled, all through the same entry points the fuzzer calls at random.
    function test_handlerDrivesAFullDispute() public {
        handler.stake(4, 200 ether); // minerA stakes
        handler.createJob(0); // auditBps = 100%
        handler.claimAndSubmit(0, 0, 0, true); // minerA cheats in slot 0
        handler.roll(2); // past the seed block
        handler.revealCheckpoints(0, 0);
        for (uint8 seat; seat < 2; ++seat) handler.commitVerdict(0, 0, false, seat, false);
        IWorkLedger.Timeline memory t = lens.timelineOf(1, 0, 0);
        vm.roll(t.commitEnd + 1);
        for (uint8 seat; seat < 2; ++seat) handler.revealVerdict(0, 0, false, seat);
        vm.assertEq(lens.subjectOf(1, 0, 0).auditFail, 2, "both auditors failed the cheat");
        vm.roll(t.disputeSeedBlock + 1);
        for (uint8 seat; seat < 2; ++seat) handler.commitVerdict(0, 0, true, seat, false);
        vm.roll(t.disputeCommitEnd + 1);
        for (uint8 seat; seat < 2; ++seat) handler.revealVerdict(0, 0, true, seat);
        vm.roll(t.disputeRevealEnd + 1);
        handler.settleSubmission(0, 0);
        for (uint8 seat; seat < 2; ++seat) {
            handler.settleSeat(0, 0, false, seat);
            handler.settleSeat(0, 0, true, seat);
        }
        vm.assertEq(uint256(lens.subjectOf(1, 0, 0).outcome), uint256(IWorkLedger.Outcome.RejectedCheat), "cheat caught");
        vm.assertEq(handler.ghostSubmissionsSettled(), 1, "settled once");
        vm.assertGe(handler.ghostSeatsSettled(), 2, "seats settled");
        vm.assertGt(handler.totalSlashed(), 0, "the cheat was slashed");
        invariant_tokenBalanceEqualsLiabilities();
        invariant_totalsMatchRecords();
        invariant_nobodyWithdrawsMoreThanDepositedPlusEarnedMinusSlashed();
    }

    function _initialStake(address a) internal view returns (uint256) {
        for (uint256 i; i < 4; ++i) if (validators[i] == a) return 1_000 ether;
        return 0;
    }

    function _poolOf(bytes32 key) internal view returns (uint256) {
        // The handler's subjects all live in round 0; find the slot by matching keys.
        for (uint256 j = 1; j <= registry.jobCount(); ++j) {
            for (uint16 slot; slot < 3; ++slot) {
                if (ledger.subjectKey(j, 0, slot) == key) return lens.subjectOf(j, 0, slot).poolBalance;
            }
        }
        return 0;
    }
}
