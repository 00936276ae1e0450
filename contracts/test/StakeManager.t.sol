// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {CrucibleTest} from "./utils/CrucibleTest.sol";
import {StakeManager} from "../src/StakeManager.sol";
import {IStakeManager} from "../src/interfaces/IStakeManager.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @notice A stake manager whose protocol is the test itself, so lock and slash can be called directly.
abstract contract StakeUnit is CrucibleTest {
    StakeManager internal sm;

    function setUp() public virtual override {
        super.setUp();
        sm = new StakeManager(token, MIN_MINER_STAKE, MIN_VALIDATOR_STAKE, UNBONDING_BLOCKS, EPOCH_BLOCKS);
        sm.setProtocol(address(this));
    }

    function put(address who, uint256 amount) internal {
        fund(who, amount);
        vm.prank(who);
        token.approve(address(sm), amount);
        vm.prank(who);
        sm.stake(amount);
    }

    function join(address who, uint256 amount) internal {
        put(who, amount);
        vm.prank(who);
        sm.registerValidator(new uint32[](0));
    }

    function info(address who) internal view returns (IStakeManager.StakeInfo memory) {
        return sm.stakeOf(who);
    }

    function assertSmBooks() internal view {
        (uint256 totalStaked, uint256 totalUnbonding) = sm.totals();
        vm.assertEq(token.balanceOf(address(sm)), totalStaked + totalUnbonding, "stake manager books");
    }
}

contract StakeManager_Staking is StakeUnit {
    function test_stake_unbond_withdraw_roundTrip() public {
        put(minerA, 300 ether);
        vm.prank(minerA);
        sm.requestUnbond(100 ether);
        vm.prank(minerA);
        vm.expectRevert(
            abi.encodeWithSelector(
                IStakeManager.StakeUnbondingNotReady.selector, minerA, block.number + UNBONDING_BLOCKS, block.number
            )
        );
        sm.withdraw();
        vm.roll(block.number + UNBONDING_BLOCKS);
        vm.prank(minerA);
        vm.assertEq(sm.withdraw(), 100 ether, "withdrew what was unbonding");
        vm.assertEq(info(minerA).staked, 200 ether, "rest still bonded");
        assertSmBooks();
    }

    function test_stake_revertsOnAmountsThatDoNotFit() public {
        fund(minerA, 1);
        vm.prank(minerA);
        vm.expectRevert(abi.encodeWithSelector(SafeCast.SafeCastOverflowedUintDowncast.selector, 128, 1 << 128));
        sm.stake(1 << 128);
    }

    function test_requestUnbond_revertsBeyondFreeStake() public {
        put(minerA, 100 ether);
        sm.lockCollateral(minerA, 40 ether);
        vm.prank(minerA);
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeInsufficientFree.selector, minerA, 70 ether, 60 ether));
        sm.requestUnbond(70 ether);
    }

    function test_constructor_refusesAnUnbondingShorterThanThreeEpochs() public {
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeInvalidConfig.selector, 1_200, 400));
        new StakeManager(token, 1, 1, 1_200, 400);
    }
}

/// @notice Collateral is isolated per slot: a slash takes its slot's collateral plus a share of what is free or
/// unbonding, never another open slot's collateral, so every open slot can always be settled.
contract StakeManager_Collateral is StakeUnit {
    function test_slashCollateral_takesItsSlotAndAShareOfFreeAndUnbonding() public {
        put(minerA, 500 ether);
        sm.lockCollateral(minerA, 20 ether);
        sm.lockCollateral(minerA, 20 ether); // a second open slot
        vm.prank(minerA);
        sm.requestUnbond(260 ether); // free was 460
        vm.expectEmit(true, false, false, true);
        emit IStakeManager.CollateralSlashed(minerA, 20 ether, 20 ether, address(this));
        uint256 slashed = sm.slashCollateral(minerA, 20 ether, 1_000, address(this));
        // 20 collateral + 10% of (free 200 + unbonding 260).
        vm.assertEq(slashed, 20 ether + 46 ether, "collateral plus a share of free and unbonding stake");
        vm.assertEq(info(minerA).locked, 20 ether, "the other slot's collateral is untouched");
        vm.assertEq(info(minerA).staked, 500 ether - 260 ether - 20 ether - 46 ether, "free stake first");
        vm.assertEq(info(minerA).unbonding, 260 ether, "unbonding only after free stake");
        sm.unlockCollateral(minerA, 20 ether); // the other slot still settles
        assertSmBooks();
    }

    function testFuzz_slashes_neverBreakLockedBackedByStake(uint256 free, uint256 slots, uint256 bps, uint256 extra)
        public
    {
        free = bound(free, 0, 1_000 ether);
        slots = bound(slots, 1, 6);
        bps = bound(bps, 0, 10_000);
        put(minerA, free + slots * 20 ether);
        for (uint256 i; i < slots; ++i) sm.lockCollateral(minerA, 20 ether);
        sm.slash(minerA, bound(extra, 0, 5_000 ether), address(this)); // a validator slash on the same account
        for (uint256 i; i < slots; ++i) {
            sm.slashCollateral(minerA, 20 ether, bps, address(this));
            vm.assertLe(info(minerA).locked, info(minerA).staked, "locked <= staked");
        }
        vm.assertEq(info(minerA).locked, 0, "every slot settled");
        assertSmBooks();
    }

    function test_slash_neverTouchesLockedCollateral() public {
        put(minerA, 100 ether);
        sm.lockCollateral(minerA, 80 ether);
        vm.assertEq(sm.slash(minerA, 50 ether, address(this)), 20 ether, "only free stake is reachable");
        vm.assertEq(info(minerA).locked, 80 ether, "the open slot keeps its collateral");
    }

    function test_claimingWork_reArmsTheUnbondingClock() public {
        put(minerA, 300 ether);
        vm.prank(minerA);
        sm.requestUnbond(100 ether);
        vm.roll(block.number + UNBONDING_BLOCKS - 10);
        sm.lockCollateral(minerA, 20 ether);
        vm.assertEq(info(minerA).unbondReadyAt, block.number + UNBONDING_BLOCKS, "unbonding answers for the new slot");
    }

    function test_unlock_moreThanLocked_isLoudNeverSilent() public {
        put(minerA, 100 ether);
        sm.lockCollateral(minerA, 10 ether);
        vm.expectEmit(true, false, false, true);
        emit IStakeManager.CollateralShortfall(minerA, 30 ether, 10 ether);
        sm.unlockCollateral(minerA, 30 ether);
        vm.assertEq(info(minerA).locked, 0, "released what was there");
    }
}

/// @notice The validator set: weights move two epochs after a change, draws read a frozen epoch.
contract StakeManager_Validators is StakeUnit {
    function test_registration_countsOnlyTwoEpochsLater() public {
        put(validators[0], 300 ether);
        uint256 epoch = sm.currentEpoch();
        vm.prank(validators[0]);
        vm.expectEmit(true, false, false, true);
        emit IStakeManager.ValidatorRegistered(validators[0], 0, epoch + 2, new uint32[](0));
        sm.registerValidator(new uint32[](0));
        vm.assertEq(sm.weightAt(validators[0], epoch), 0, "not drawable this epoch");
        vm.assertEq(sm.weightAt(validators[0], epoch + 1), 0, "nor the next");
        vm.assertEq(sm.weightAt(validators[0], epoch + 2), 300, "weight = whole tokens staked");
    }

    function test_deregistered_staysDrawableUntilItsWeightDrops() public {
        join(validators[0], 300 ether);
        activate();
        uint256 epoch = sm.currentEpoch();
        vm.prank(validators[0]);
        sm.deregisterValidator();
        vm.assertEq(sm.weightAt(validators[0], epoch), 300, "still drawable now");
        vm.assertEq(sm.weightAt(validators[0], epoch + 2), 0, "gone two epochs later");
    }

    function test_topUp_andUnbond_moveWeightsOnlyLater() public {
        join(validators[0], 300 ether);
        activate();
        uint256 epoch = sm.currentEpoch();
        put(validators[0], 700 ether);
        vm.assertEq(sm.weightAt(validators[0], epoch), 300, "a top-up does not count now");
        vm.assertEq(sm.weightAt(validators[0], epoch + 2), 1_000, "it counts two epochs later");
        vm.prank(validators[0]);
        sm.requestUnbond(950 ether);
        vm.assertEq(sm.weightAt(validators[0], epoch + 2), 0, "below the minimum: no weight");
    }

    function test_draw_readsOnlyTheCurrentOrPreviousEpoch() public {
        join(validators[0], 300 ether);
        activate();
        uint256 epoch = sm.currentEpoch();
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeEpochUnavailable.selector, epoch - 2, epoch));
        sm.drawValidators(epoch - 2, bytes32(0), 1, address(0), 0);
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeEpochUnavailable.selector, epoch + 1, epoch));
        sm.drawValidators(epoch + 1, bytes32(0), 1, address(0), 0);
    }

    function test_draw_isWithoutReplacement_skipsTheExcluded_andThoseWhoCannotPay() public {
        for (uint256 i; i < 5; ++i) join(validators[i], 300 ether);
        activate();
        sm.lockCollateral(validators[4], 295 ether); // at risk: 5 CRU, below a 10 CRU seat slash
        uint256 epoch = sm.currentEpoch();
        for (uint256 k; k < 50; ++k) {
            address[] memory drawn = sm.drawValidators(epoch, keccak256(abi.encode(k)), 3, validators[0], 10 ether);
            vm.assertEq(drawn.length, 3, "three seats");
            for (uint256 a; a < 3; ++a) {
                vm.assertNotEq(drawn[a], validators[0], "the excluded miner is never drawn");
                vm.assertNotEq(drawn[a], validators[4], "a validator that cannot pay the slash is skipped");
                for (uint256 b = a + 1; b < 3; ++b) vm.assertNotEq(drawn[a], drawn[b], "distinct seats");
            }
        }
        vm.assertEq(sm.drawValidators(epoch, bytes32(0), 5, validators[0], 10 ether).length, 3, "only three eligible");
    }

    /// @dev 4,000 single-seat draws over stakes 100 / 200 / 700: frequencies follow stake (each within 4.5 standard
    /// deviations of its expectation; the seeds are fixed, so the test is deterministic).
    function test_draw_isStakeWeighted() public {
        join(validators[0], 100 ether);
        join(validators[1], 200 ether);
        join(validators[2], 700 ether);
        activate();
        uint256 epoch = sm.currentEpoch();
        uint256[3] memory hits;
        uint256 n = 4_000;
        for (uint256 k; k < n; ++k) {
            address v = sm.drawValidators(epoch, keccak256(abi.encode("w", k)), 1, address(0), 0)[0];
            for (uint256 i; i < 3; ++i) if (v == validators[i]) ++hits[i];
        }
        uint256[3] memory per1000 = [uint256(100), 200, 700];
        for (uint256 i; i < 3; ++i) {
            uint256 expected = n * per1000[i] / 1_000;
            // sd = sqrt(n p (1-p)) <= 29 for these p; 4.5 sd = 131.
            vm.assertLe(hits[i], expected + 131, "not above its stake share");
            vm.assertGe(hits[i] + 131, expected, "not below its stake share");
        }
    }
}
