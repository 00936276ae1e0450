// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {CrucibleTest} from "./utils/CrucibleTest.sol";
import {IStakeManager} from "../src/interfaces/IStakeManager.sol";
import {StakeManager} from "../src/StakeManager.sol";

contract StakeManager_Stake is CrucibleTest {
    function test_stake_movesTokensAndRecordsStake() public {
        stakeAs(minerA, 150 ether);
        vm.assertEq(stakes.stakeOf(minerA).staked, 150 ether, "staked");
        vm.assertEq(token.balanceOf(address(stakes)), 150 ether, "custody");
        assertBooksBalance();
    }

    function test_stake_revertsOnZero() public {
        vm.expectRevert(IStakeManager.StakeZeroAmount.selector);
        vm.prank(minerA);
        stakes.stake(0);
    }

    function test_stake_revertsWithoutAllowance() public {
        fund(minerA, 10 ether);
        vm.expectRevert();
        vm.prank(minerA);
        stakes.stake(10 ether);
    }

    function test_stakeWithPermit_stakesWithoutApproval() public {
        uint256 key = 0xA11CE;
        address alice = vm.addr(key);
        fund(alice, 120 ether);
        bytes32 digest = _permitDigest(alice, address(stakes), 120 ether, 0, block.timestamp + 1);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        vm.prank(alice);
        stakes.stakeWithPermit(120 ether, block.timestamp + 1, v, r, s);
        vm.assertEq(stakes.stakeOf(alice).staked, 120 ether, "staked with permit");
    }

    function test_stakeWithPermit_replayedSignatureCannotStakeTwice() public {
        uint256 key = 0xB0B;
        address bob = vm.addr(key);
        fund(bob, 240 ether);
        bytes32 digest = _permitDigest(bob, address(stakes), 120 ether, 0, block.timestamp + 1);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        vm.prank(bob);
        stakes.stakeWithPermit(120 ether, block.timestamp + 1, v, r, s);
        // The nonce is spent: the same signature grants nothing, so the second stake finds no allowance.
        vm.expectRevert();
        vm.prank(bob);
        stakes.stakeWithPermit(120 ether, block.timestamp + 1, v, r, s);
    }

    function test_stakeWithPermit_signatureFromAnotherChainIsWorthless() public {
        uint256 key = 0xC0C;
        address carol = vm.addr(key);
        fund(carol, 120 ether);
        bytes32 digest = _permitDigest(carol, address(stakes), 120 ether, 0, block.timestamp + 1);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        vm.chainId(1337);
        vm.expectRevert();
        vm.prank(carol);
        stakes.stakeWithPermit(120 ether, block.timestamp + 1, v, r, s);
    }

    function testFuzz_stake_accumulates(uint256 a, uint256 b) public {
        a = bound(a, 1, 1_000_000 ether);
        b = bound(b, 1, 1_000_000 ether);
        stakeAs(minerA, a);
        stakeAs(minerA, b);
        vm.assertEq(stakes.stakeOf(minerA).staked, a + b, "sum of stakes");
        assertBooksBalance();
    }

    function _permitDigest(address owner, address spender, uint256 value, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes32)
    {
        bytes32 typehash =
            keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");
        bytes32 structHash = keccak256(abi.encode(typehash, owner, spender, value, nonce, deadline));
        return keccak256(abi.encodePacked("\x19\x01", token.DOMAIN_SEPARATOR(), structHash));
    }
}

contract StakeManager_RequestUnbond is CrucibleTest {
    function test_requestUnbond_movesStakeToUnbonding() public {
        stakeAs(minerA, 200 ether);
        vm.prank(minerA);
        stakes.requestUnbond(50 ether);
        IStakeManager.StakeInfo memory info = stakes.stakeOf(minerA);
        vm.assertEq(info.staked, 150 ether, "staked");
        vm.assertEq(info.unbonding, 50 ether, "unbonding");
        vm.assertEq(info.unbondReadyAt, block.number + UNBONDING_BLOCKS, "ready at");
    }

    function test_requestUnbond_revertsOnZero() public {
        vm.expectRevert(IStakeManager.StakeZeroAmount.selector);
        vm.prank(minerA);
        stakes.requestUnbond(0);
    }

    function test_requestUnbond_revertsBeyondFreeStake() public {
        stakeAs(minerA, 200 ether);
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeInsufficientFree.selector, minerA, 201 ether, 200 ether));
        vm.prank(minerA);
        stakes.requestUnbond(201 ether);
    }

    function test_requestUnbond_cannotTouchLockedCollateral() public {
        stakeAs(minerA, 200 ether);
        vm.prank(address(ledger));
        stakes.lockCollateral(minerA, 150 ether);
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeInsufficientFree.selector, minerA, 60 ether, 50 ether));
        vm.prank(minerA);
        stakes.requestUnbond(60 ether);
    }

    function test_requestUnbond_restartsTheClock() public {
        stakeAs(minerA, 200 ether);
        vm.prank(minerA);
        stakes.requestUnbond(50 ether);
        vm.roll(block.number + 1_500);
        vm.prank(minerA);
        stakes.requestUnbond(10 ether);
        vm.assertEq(stakes.stakeOf(minerA).unbondReadyAt, block.number + UNBONDING_BLOCKS, "clock restarted");
    }

    function test_requestUnbond_dropsUnderstakedValidator() public {
        stakeAs(validators[0], 150 ether);
        vm.prank(validators[0]);
        stakes.registerValidator();
        vm.prank(validators[0]);
        stakes.requestUnbond(60 ether);
        vm.assertFalse(stakes.isValidator(validators[0]), "left the set");
        vm.assertEq(stakes.validatorCount(), 0, "empty set");
    }
}

contract StakeManager_Withdraw is CrucibleTest {
    function test_withdraw_paysAfterUnbondingPeriod() public {
        stakeAs(minerA, 200 ether);
        vm.prank(minerA);
        stakes.requestUnbond(80 ether);
        vm.roll(block.number + UNBONDING_BLOCKS);
        vm.prank(minerA);
        stakes.withdraw();
        vm.assertEq(token.balanceOf(minerA), 80 ether, "withdrawn");
        vm.assertEq(stakes.stakeOf(minerA).unbonding, 0, "nothing left unbonding");
        assertBooksBalance();
    }

    function test_withdraw_revertsBeforeReady() public {
        stakeAs(minerA, 200 ether);
        vm.prank(minerA);
        stakes.requestUnbond(80 ether);
        uint256 readyAt = block.number + UNBONDING_BLOCKS;
        vm.roll(readyAt - 1);
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeUnbondingNotReady.selector, minerA, readyAt, readyAt - 1));
        vm.prank(minerA);
        stakes.withdraw();
    }

    function test_withdraw_revertsWithNothingUnbonding() public {
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeNothingToWithdraw.selector, minerA));
        vm.prank(minerA);
        stakes.withdraw();
    }

    function testFuzz_withdraw_neverBeforeTheFullPeriod(uint256 amount, uint256 wait) public {
        amount = bound(amount, 1, 500 ether);
        wait = bound(wait, 0, UNBONDING_BLOCKS * 2);
        stakeAs(minerA, 500 ether);
        vm.prank(minerA);
        stakes.requestUnbond(amount);
        vm.roll(block.number + wait);
        vm.prank(minerA);
        if (wait < UNBONDING_BLOCKS) vm.expectRevert();
        stakes.withdraw();
        assertBooksBalance();
    }
}

contract StakeManager_Slash is CrucibleTest {
    function test_slash_onlyProtocol() public {
        stakeAs(minerA, 200 ether);
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeUnauthorizedProtocol.selector, minerB));
        vm.prank(minerB);
        stakes.slash(minerA, 1 ether, minerB);
    }

    function test_slash_takesStakeThenUnbonding() public {
        stakeAs(minerA, 200 ether);
        vm.prank(minerA);
        stakes.requestUnbond(150 ether);
        vm.prank(address(ledger));
        uint256 slashed = stakes.slash(minerA, 80 ether, address(vault));
        vm.assertEq(slashed, 80 ether, "slashed in full");
        IStakeManager.StakeInfo memory info = stakes.stakeOf(minerA);
        vm.assertEq(info.staked, 0, "stake first");
        vm.assertEq(info.unbonding, 120 ether, "then unbonding");
        vm.assertEq(token.balanceOf(address(vault)), 80 ether, "to the recipient");
    }

    function test_slash_reachesMaturedUnbondsAndLeavesTheRestWithdrawable() public {
        // The bug this guards against: a slash that wipes or strands expired-but-unwithdrawn unbonds.
        stakeAs(minerA, 200 ether);
        vm.prank(minerA);
        stakes.requestUnbond(200 ether);
        vm.roll(block.number + UNBONDING_BLOCKS + 5);
        vm.prank(address(ledger));
        stakes.slash(minerA, 30 ether, address(vault));
        vm.prank(minerA);
        uint256 out = stakes.withdraw();
        vm.assertEq(out, 170 ether, "the rest is still withdrawable");
        assertStakeBooks();
    }

    function test_slash_capsAtWhatTheAccountHolds() public {
        stakeAs(minerA, 120 ether);
        vm.prank(address(ledger));
        uint256 slashed = stakes.slash(minerA, 1_000 ether, address(vault));
        vm.assertEq(slashed, 120 ether, "capped");
        assertStakeBooks();
    }

    function test_slash_clampsLockedCollateral() public {
        stakeAs(minerA, 120 ether);
        vm.prank(address(ledger));
        stakes.lockCollateral(minerA, 100 ether);
        vm.prank(address(ledger));
        stakes.slash(minerA, 50 ether, address(vault));
        vm.assertEq(stakes.stakeOf(minerA).locked, 70 ether, "locked never exceeds staked");
    }

    function testFuzz_slash_conservesTokens(uint256 stake, uint256 unbond, uint256 amount) public {
        stake = bound(stake, 1, 1_000_000 ether);
        unbond = bound(unbond, 0, stake);
        amount = bound(amount, 0, 2_000_000 ether);
        stakeAs(minerA, stake);
        if (unbond != 0) {
            vm.prank(minerA);
            stakes.requestUnbond(unbond);
        }
        vm.prank(address(ledger));
        uint256 slashed = stakes.slash(minerA, amount, address(vault));
        IStakeManager.StakeInfo memory info = stakes.stakeOf(minerA);
        vm.assertEq(slashed, amount < stake ? amount : stake, "slashed what it could");
        vm.assertEq(info.staked + info.unbonding + slashed, stake, "nothing created or lost");
        vm.assertEq(token.balanceOf(address(stakes)) + token.balanceOf(address(vault)), stake, "custody");
    }
}

contract StakeManager_Collateral is CrucibleTest {
    function test_lockCollateral_onlyProtocol() public {
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeUnauthorizedProtocol.selector, minerA));
        vm.prank(minerA);
        stakes.lockCollateral(minerA, 1);
    }

    function test_lockCollateral_revertsBeyondFree() public {
        stakeAs(minerA, 100 ether);
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeInsufficientFree.selector, minerA, 101 ether, 100 ether));
        vm.prank(address(ledger));
        stakes.lockCollateral(minerA, 101 ether);
    }

    function test_unlockCollateral_revertsBeyondLocked() public {
        stakeAs(minerA, 100 ether);
        vm.prank(address(ledger));
        stakes.lockCollateral(minerA, 10 ether);
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeUnlockExceedsLocked.selector, minerA, 11 ether, 10 ether));
        vm.prank(address(ledger));
        stakes.unlockCollateral(minerA, 11 ether);
    }

    function test_unlockCollateral_onlyProtocol() public {
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeUnauthorizedProtocol.selector, minerA));
        vm.prank(minerA);
        stakes.unlockCollateral(minerA, 1);
    }

    function test_setProtocol_onlyOnce() public {
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeProtocolAlreadySet.selector, address(ledger)));
        stakes.setProtocol(minerA);
    }

    function test_setProtocol_onlyDeployer() public {
        StakeManager fresh = new StakeManager(token, 1, 1, 10);
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeUnauthorizedProtocol.selector, minerA));
        vm.prank(minerA);
        fresh.setProtocol(minerA);
    }
}

contract StakeManager_Validators is CrucibleTest {
    function test_registerValidator_needsMinimumStake() public {
        stakeAs(validators[0], 99 ether);
        vm.expectRevert(
            abi.encodeWithSelector(IStakeManager.StakeTooLow.selector, validators[0], MIN_VALIDATOR_STAKE, 99 ether)
        );
        vm.prank(validators[0]);
        stakes.registerValidator();
    }

    function test_registerValidator_revertsWhenAlreadyRegistered() public {
        stakeAs(validators[0], 100 ether);
        vm.prank(validators[0]);
        stakes.registerValidator();
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeAlreadyValidator.selector, validators[0]));
        vm.prank(validators[0]);
        stakes.registerValidator();
    }

    function test_deregisterValidator_swapsAndPops() public {
        for (uint256 i; i < 3; ++i) {
            stakeAs(validators[i], 100 ether);
            vm.prank(validators[i]);
            stakes.registerValidator();
        }
        vm.prank(validators[0]);
        stakes.deregisterValidator();
        vm.assertEq(stakes.validatorCount(), 2, "two left");
        vm.assertEq(stakes.validatorAt(0), validators[2], "last moved into the hole");
        vm.assertEq(stakes.validatorAt(1), validators[1], "others stay");
    }

    function test_deregisterValidator_revertsWhenNotValidator() public {
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeNotValidator.selector, validators[0]));
        vm.prank(validators[0]);
        stakes.deregisterValidator();
    }

    function test_drawValidator_revertsOnEmptySet() public {
        vm.expectRevert(IStakeManager.StakeNoValidators.selector);
        stakes.drawValidator(1);
    }

    function test_validatorAt_revertsOutOfRange() public {
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeValidatorIndexOutOfRange.selector, 0, 0));
        stakes.validatorAt(0);
    }

    function test_slash_belowMinimumDropsValidator() public {
        stakeAs(validators[0], 100 ether);
        vm.prank(validators[0]);
        stakes.registerValidator();
        vm.prank(address(ledger));
        stakes.slash(validators[0], 1 ether, address(vault));
        vm.assertFalse(stakes.isValidator(validators[0]), "dropped");
    }
}
