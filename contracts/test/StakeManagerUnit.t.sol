// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {StakeUnit} from "./StakeManager.t.sol";
import {StakeManager} from "../src/StakeManager.sol";
import {IStakeManager} from "../src/interfaces/IStakeManager.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";

/// @notice Unit tests of every StakeManager entry point: who may call it, each refusal with its arguments, and the
/// conservation of every token it moves. `sm` is a stake manager whose protocol is the test itself.

contract StakeManager_Deployment is StakeUnit {
    function test_constructor_refusesAZeroEpoch() public {
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeInvalidConfig.selector, 2_000, 0));
        new StakeManager(token, 1, 1, 2_000, 0);
    }

    /// @dev The unbonding period must outlast three epochs (a seat drawn just before an unbond takes effect answers
    /// for one more epoch): exactly three is refused, one block more is accepted.
    function test_constructor_needsUnbondingLongerThanThreeEpochs() public {
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeInvalidConfig.selector, 1_200, 400));
        new StakeManager(token, 1, 1, 1_200, 400);
        StakeManager ok = new StakeManager(token, 1, 1, 1_201, 400);
        vm.assertEq(ok.unbondingPeriodBlocks(), 1_201, "accepted");
        vm.assertEq(ok.epochBlocks(), 400, "epoch length");
    }

    function test_setProtocol_revertsForAnyoneButTheDeployer() public {
        StakeManager fresh = new StakeManager(token, 1, 1, 2_000, 400);
        vm.prank(minerA);
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeUnauthorizedProtocol.selector, minerA));
        fresh.setProtocol(minerA);
    }

    function test_setProtocol_bindsOnce() public {
        StakeManager fresh = new StakeManager(token, 1, 1, 2_000, 400);
        vm.expectEmit(true, false, false, true, address(fresh));
        emit IStakeManager.ProtocolSet(address(ledger));
        fresh.setProtocol(address(ledger));
        vm.assertEq(fresh.protocol(), address(ledger), "bound");
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeProtocolAlreadySet.selector, address(ledger)));
        fresh.setProtocol(address(this));
    }
}

/// @notice Only the protocol (the work ledger) may lock, unlock or slash.
contract StakeManager_OnlyProtocol is StakeUnit {
    function test_protocolFunctions_revertForAnyoneElse() public {
        put(minerA, 100 ether);
        bytes memory refused = abi.encodeWithSelector(IStakeManager.StakeUnauthorizedProtocol.selector, minerB);
        vm.prank(minerB);
        vm.expectRevert(refused);
        sm.lockCollateral(minerA, 10 ether);
        vm.prank(minerB);
        vm.expectRevert(refused);
        sm.unlockCollateral(minerA, 10 ether);
        vm.prank(minerB);
        vm.expectRevert(refused);
        sm.slash(minerA, 10 ether, minerB);
        vm.prank(minerB);
        vm.expectRevert(refused);
        sm.slashCollateral(minerA, 10 ether, 1_000, minerB);
        // Not even the deployer of the real deployment: only the ledger it bound.
        bytes memory deployer = abi.encodeWithSelector(IStakeManager.StakeUnauthorizedProtocol.selector, address(this));
        vm.expectRevert(deployer);
        stakes.slash(minerA, 1, address(this));
        vm.assertEq(info(minerA).staked, 100 ether, "untouched");
    }

    function test_lockCollateral_revertsBeyondFreeStake() public {
        put(minerA, 100 ether);
        sm.lockCollateral(minerA, 70 ether);
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeInsufficientFree.selector, minerA, 31 ether, 30 ether));
        sm.lockCollateral(minerA, 31 ether);
    }
}

contract StakeManager_Stake is StakeUnit {
    function test_stake_revertsOnZero() public {
        vm.prank(minerA);
        vm.expectRevert(IStakeManager.StakeZeroAmount.selector);
        sm.stake(0);
    }

    function test_stake_revertsWithoutAllowance() public {
        fund(minerA, 10 ether);
        vm.prank(minerA);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(sm), 0, 10 ether)
        );
        sm.stake(10 ether);
    }

    function testFuzz_stake_addsExactlyTheAmount(uint256 first, uint256 second) public {
        first = bound(first, 1, 1e6 ether); // the faucet's cap per drip
        second = bound(second, 1, 1e6 ether);
        put(minerA, first);
        fund(minerA, second);
        vm.prank(minerA);
        token.approve(address(sm), second);
        vm.expectEmit(true, false, false, true, address(sm));
        emit IStakeManager.Staked(minerA, second, first + second);
        vm.prank(minerA);
        sm.stake(second);
        vm.assertEq(info(minerA).staked, first + second, "bonded");
        vm.assertEq(token.balanceOf(minerA), 0, "every token moved in");
        (uint256 totalStaked,) = sm.totals();
        vm.assertEq(totalStaked, first + second, "total");
        assertSmBooks();
    }

    /// @dev A registered validator's top-up counts in draws only two epochs later.
    function test_stake_topUpOfAValidatorIsScheduled() public {
        join(validators[0], 300 ether);
        uint256 epoch = sm.currentEpoch();
        fund(validators[0], 100 ether);
        vm.prank(validators[0]);
        token.approve(address(sm), 100 ether);
        vm.expectEmit(true, false, false, true, address(sm));
        emit IStakeManager.ValidatorWeightScheduled(validators[0], 400, epoch + 2);
        vm.prank(validators[0]);
        sm.stake(100 ether);
        vm.assertEq(sm.weightAt(validators[0], epoch + 1), 0, "not before");
        vm.assertEq(sm.weightAt(validators[0], epoch + 2), 400, "then");
    }
}

/// @notice stakeWithPermit: one signature, one stake; a replayed, expired or other-chain signature never moves tokens.
contract StakeManager_StakeWithPermit is StakeUnit {
    uint256 internal constant KEY = 0xC0FFEE;
    address internal owner;
    bytes32 internal constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");

    function setUp() public override {
        super.setUp();
        owner = vm.addr(KEY);
        fund(owner, 1_000 ether);
    }

    function _domain(uint256 chainId) internal view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, keccak256("Crucible"), keccak256("1"), chainId, address(token)));
    }

    function _sign(uint256 amount, uint256 deadline, uint256 nonce, uint256 chainId)
        internal
        view
        returns (uint8 v, bytes32 r, bytes32 s)
    {
        bytes32 structHash = keccak256(abi.encode(PERMIT_TYPEHASH, owner, address(sm), amount, nonce, deadline));
        return vm.sign(KEY, keccak256(abi.encodePacked("\x19\x01", _domain(chainId), structHash)));
    }

    function test_stakeWithPermit_stakesWithoutAPriorApproval() public {
        vm.assertEq(_domain(block.chainid), token.DOMAIN_SEPARATOR(), "the test signs the token's domain");
        (uint8 v, bytes32 r, bytes32 s) = _sign(300 ether, block.timestamp + 1, 0, block.chainid);
        vm.prank(owner);
        sm.stakeWithPermit(300 ether, block.timestamp + 1, v, r, s);
        vm.assertEq(info(owner).staked, 300 ether, "staked");
        vm.assertEq(token.nonces(owner), 1, "nonce used");
        vm.assertEq(token.allowance(owner, address(sm)), 0, "allowance spent");
        assertSmBooks();
    }

    function test_stakeWithPermit_aReplayedSignatureMovesNothing() public {
        (uint8 v, bytes32 r, bytes32 s) = _sign(300 ether, block.timestamp + 1, 0, block.chainid);
        vm.prank(owner);
        sm.stakeWithPermit(300 ether, block.timestamp + 1, v, r, s);
        vm.prank(owner);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(sm), 0, 300 ether)
        );
        sm.stakeWithPermit(300 ether, block.timestamp + 1, v, r, s);
        vm.assertEq(info(owner).staked, 300 ether, "staked once");
        vm.assertEq(token.balanceOf(owner), 700 ether, "the rest stays with the owner");
    }

    function test_stakeWithPermit_aSignatureForAnotherChainMovesNothing() public {
        (uint8 v, bytes32 r, bytes32 s) = _sign(300 ether, block.timestamp + 1, 0, 1);
        vm.prank(owner);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(sm), 0, 300 ether)
        );
        sm.stakeWithPermit(300 ether, block.timestamp + 1, v, r, s);
        vm.assertEq(token.nonces(owner), 0, "nonce untouched");
    }

    function test_stakeWithPermit_anExpiredOrAlteredSignatureMovesNothing() public {
        vm.warp(1_000);
        (uint8 v, bytes32 r, bytes32 s) = _sign(300 ether, 999, 0, block.chainid);
        vm.prank(owner);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(sm), 0, 300 ether)
        );
        sm.stakeWithPermit(300 ether, 999, v, r, s);
        // Signed for 300, used for 301.
        (v, r, s) = _sign(300 ether, 2_000, 0, block.chainid);
        vm.prank(owner);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(sm), 0, 301 ether)
        );
        sm.stakeWithPermit(301 ether, 2_000, v, r, s);
        // Someone else's call with the owner's signature stakes for the caller, who gave no allowance: refused.
        vm.prank(minerB);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(sm), 0, 300 ether)
        );
        sm.stakeWithPermit(300 ether, 2_000, v, r, s);
    }

    /// @dev Someone front-runs the permit itself: the allowance is in place, so the stake still goes through.
    function test_stakeWithPermit_survivesAFrontRunPermit() public {
        (uint8 v, bytes32 r, bytes32 s) = _sign(300 ether, block.timestamp + 1, 0, block.chainid);
        vm.prank(minerB);
        token.permit(owner, address(sm), 300 ether, block.timestamp + 1, v, r, s);
        vm.prank(owner);
        sm.stakeWithPermit(300 ether, block.timestamp + 1, v, r, s);
        vm.assertEq(info(owner).staked, 300 ether, "staked");
    }
}

contract StakeManager_Unbond is StakeUnit {
    function test_requestUnbond_revertsOnZero() public {
        put(minerA, 100 ether);
        vm.prank(minerA);
        vm.expectRevert(IStakeManager.StakeZeroAmount.selector);
        sm.requestUnbond(0);
    }

    function test_requestUnbond_movesStakeAndRestartsTheClock() public {
        put(minerA, 300 ether);
        vm.prank(minerA);
        sm.requestUnbond(100 ether);
        vm.roll(block.number + 500);
        uint256 readyAt = block.number + UNBONDING_BLOCKS;
        vm.expectEmit(true, false, false, true, address(sm));
        emit IStakeManager.UnbondRequested(minerA, 50 ether, 150 ether, readyAt);
        vm.prank(minerA);
        sm.requestUnbond(50 ether);
        IStakeManager.StakeInfo memory i = info(minerA);
        vm.assertEq(i.staked, 150 ether, "bonded");
        vm.assertEq(i.unbonding, 150 ether, "unbonding");
        vm.assertEq(i.unbondReadyAt, readyAt, "everything unbonding waits for the latest request");
        assertSmBooks();
    }

    function test_withdraw_revertsWithNothingUnbonding() public {
        put(minerA, 100 ether);
        vm.prank(minerA);
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeNothingToWithdraw.selector, minerA));
        sm.withdraw();
    }

    function testFuzz_withdraw_opensExactlyWhenTheUnbondingPeriodEnds(uint256 amount, uint256 wait) public {
        put(minerA, 300 ether);
        amount = bound(amount, 1, 300 ether);
        wait = bound(wait, 0, 3 * UNBONDING_BLOCKS);
        vm.prank(minerA);
        sm.requestUnbond(amount);
        uint256 readyAt = block.number + UNBONDING_BLOCKS;
        vm.roll(block.number + wait);
        vm.prank(minerA);
        if (block.number < readyAt) {
            vm.expectRevert(
                abi.encodeWithSelector(IStakeManager.StakeUnbondingNotReady.selector, minerA, readyAt, block.number)
            );
            sm.withdraw();
            vm.assertEq(token.balanceOf(minerA), 0, "nothing left early");
        } else {
            vm.expectEmit(true, false, false, true, address(sm));
            emit IStakeManager.Withdrawn(minerA, amount);
            vm.assertEq(sm.withdraw(), amount, "all of it");
            vm.assertEq(token.balanceOf(minerA), amount, "paid out");
            vm.assertEq(info(minerA).unbonding, 0, "nothing unbonding");
        }
        assertSmBooks();
    }

    /// @dev Claiming work (a collateral lock) pushes back a pending withdrawal: unbonding still answers for the slot.
    function testFuzz_withdraw_waitsForTheLastLockOrRequest(uint256 gap, uint256 wait) public {
        put(minerA, 300 ether);
        vm.prank(minerA);
        sm.requestUnbond(100 ether);
        gap = bound(gap, 0, 2 * UNBONDING_BLOCKS);
        wait = bound(wait, 0, 2 * UNBONDING_BLOCKS);
        vm.roll(block.number + gap);
        uint256 readyAt = info(minerA).unbondReadyAt;
        sm.lockCollateral(minerA, 20 ether);
        if (block.number + UNBONDING_BLOCKS > readyAt) readyAt = block.number + UNBONDING_BLOCKS;
        vm.assertEq(info(minerA).unbondReadyAt, readyAt, "the later of the two");
        vm.roll(block.number + wait);
        vm.prank(minerA);
        if (block.number < readyAt) {
            vm.expectRevert(
                abi.encodeWithSelector(IStakeManager.StakeUnbondingNotReady.selector, minerA, readyAt, block.number)
            );
        }
        sm.withdraw();
    }
}

contract StakeManager_ValidatorSet is StakeUnit {
    function test_registerValidator_revertsBelowTheMinimum() public {
        put(validators[0], 99 ether);
        vm.prank(validators[0]);
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeTooLow.selector, validators[0], 100 ether, 99 ether));
        sm.registerValidator(new uint32[](0));
    }

    function test_registerValidator_revertsTwice() public {
        join(validators[0], 100 ether);
        vm.prank(validators[0]);
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeAlreadyValidator.selector, validators[0]));
        sm.registerValidator(new uint32[](0));
    }

    function test_deregisterValidator_revertsWhenNotRegistered() public {
        put(validators[0], 100 ether);
        vm.prank(validators[0]);
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeNotValidator.selector, validators[0]));
        sm.deregisterValidator();
    }

    /// @dev A leaf is never removed, so a returning validator keeps its index and nobody else's moves.
    function test_reRegistering_reusesTheSameLeaf() public {
        join(validators[0], 100 ether);
        join(validators[1], 100 ether);
        vm.assertEq(sm.validatorCount(), 2, "two");
        vm.prank(validators[0]);
        sm.deregisterValidator();
        vm.assertFalse(sm.isValidator(validators[0]), "left");
        vm.assertEq(sm.validatorCount(), 1, "one");
        uint256 epoch = sm.currentEpoch();
        uint32[] memory classes = new uint32[](1);
        classes[0] = 7;
        vm.expectEmit(true, false, false, true, address(sm));
        emit IStakeManager.ValidatorRegistered(validators[0], 0, epoch + 2, classes);
        vm.prank(validators[0]);
        sm.registerValidator(classes);
        vm.assertEq(info(validators[0]).leaf, 1, "leaf 0 again");
        vm.assertEq(info(validators[1]).leaf, 2, "the other leaf unmoved");
    }

    /// @dev The set is bounded by the tree's capacity (4,096 leaves). The leaf counter is moved to the edge by
    /// storage write, after checking that the slot read back is the counter (two leaves so far).
    function test_registerValidator_revertsWhenTheTreeIsFull() public {
        join(validators[0], 100 ether);
        join(validators[1], 100 ether);
        bytes32 leavesSlot = bytes32(uint256(4)); // _tree at slot 2: nodes, accounts, leaves
        vm.assertEq(uint256(vm.load(address(sm), leavesSlot)), 2, "the leaf counter's slot");
        vm.store(address(sm), leavesSlot, bytes32(uint256(4_096)));
        put(validators[2], 100 ether);
        vm.prank(validators[2]);
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeValidatorSetFull.selector, 4_096));
        sm.registerValidator(new uint32[](0));
        // A validator that already has a leaf can still come back.
        vm.prank(validators[0]);
        sm.deregisterValidator();
        vm.prank(validators[0]);
        sm.registerValidator(new uint32[](0));
    }

    /// @dev A slash below the minimum drops the weight to zero two epochs later; until then the frozen weight holds.
    function test_slash_dropsTheWeightOnlyLater() public {
        join(validators[0], 300 ether);
        activate();
        uint256 epoch = sm.currentEpoch();
        sm.slash(validators[0], 250 ether, address(this));
        vm.assertEq(sm.weightAt(validators[0], epoch), 300, "frozen for this epoch");
        vm.assertEq(sm.weightAt(validators[0], epoch + 2), 0, "below the minimum from then on");
        vm.assertEq(sm.totalWeightAt(epoch + 2), 0, "total follows");
    }

    function test_drawValidators_fromAnEmptySet_orForNoSeat_drawsNobody() public {
        vm.assertEq(sm.drawValidators(sm.currentEpoch(), keccak256("seed"), 3, address(0), 0).length, 0, "empty set");
        join(validators[0], 300 ether);
        activate();
        vm.assertEq(sm.drawValidators(sm.currentEpoch(), keccak256("seed"), 0, address(0), 0).length, 0, "no seat");
        vm.assertEq(sm.drawValidators(sm.currentEpoch(), keccak256("seed"), 3, address(0), 0).length, 1, "one validator");
    }
}

/// @notice Slashing conserves every token: what leaves the account arrives at the recipient, from free stake first,
/// then unbonding, never from the collateral of another open slot.
contract StakeManager_SlashConservation is StakeUnit {
    struct Setup {
        uint256 free;
        uint256 locked;
        uint256 unbonding;
    }

    function _arrange(uint256 bonded, uint256 unbondSeed, uint256 lockSeed) internal returns (Setup memory a) {
        bonded = bound(bonded, 1, 1e6 ether); // the faucet's cap per drip
        put(minerA, bonded);
        a.unbonding = bound(unbondSeed, 0, bonded);
        if (a.unbonding != 0) {
            vm.prank(minerA);
            sm.requestUnbond(a.unbonding);
        }
        a.locked = bound(lockSeed, 0, bonded - a.unbonding);
        if (a.locked != 0) sm.lockCollateral(minerA, a.locked);
        a.free = bonded - a.unbonding - a.locked;
    }

    function testFuzz_slash_conservesEveryToken(uint256 bonded, uint256 unbondSeed, uint256 lockSeed, uint256 amount)
        public
    {
        Setup memory a = _arrange(bonded, unbondSeed, lockSeed);
        amount = bound(amount, 0, 2e6 ether);
        uint256 fromStake = amount < a.free ? amount : a.free;
        uint256 rest = amount - fromStake;
        uint256 fromUnbonding = rest < a.unbonding ? rest : a.unbonding;
        address recipient = makeAddr("recipient");
        uint256 held = token.balanceOf(address(sm));
        vm.expectEmit(true, true, false, true, address(sm));
        emit IStakeManager.Slashed(minerA, fromStake, fromUnbonding, recipient);
        uint256 slashed = sm.slash(minerA, amount, recipient);
        vm.assertEq(slashed, fromStake + fromUnbonding, "min(amount, free + unbonding)");
        IStakeManager.StakeInfo memory i = info(minerA);
        vm.assertEq(i.locked, a.locked, "collateral untouched");
        vm.assertEq(i.staked, a.locked + a.free - fromStake, "free stake first");
        vm.assertEq(i.unbonding, a.unbonding - fromUnbonding, "then unbonding");
        vm.assertEq(token.balanceOf(recipient), slashed, "every slashed token arrives");
        vm.assertEq(token.balanceOf(address(sm)), held - slashed, "and leaves the stake manager");
        assertSmBooks();
    }

    function testFuzz_slashCollateral_conservesEveryToken(
        uint256 bonded,
        uint256 unbondSeed,
        uint256 lockSeed,
        uint256 collateral,
        uint256 bps
    ) public {
        Setup memory a = _arrange(bonded, unbondSeed, lockSeed);
        collateral = bound(collateral, 0, a.locked + 10 ether);
        bps = bound(bps, 0, 10_000);
        uint256 taken = collateral < a.locked ? collateral : a.locked;
        // The share is computed on what is free or unbonding, which taking the collateral does not change.
        uint256 share = (a.free + a.unbonding) * bps / 10_000;
        address recipient = makeAddr("recipient");
        if (collateral > a.locked) {
            vm.expectEmit(true, false, false, true, address(sm));
            emit IStakeManager.CollateralShortfall(minerA, collateral, a.locked);
        }
        vm.expectEmit(true, true, false, true, address(sm));
        emit IStakeManager.CollateralSlashed(minerA, taken, a.locked - taken, recipient);
        uint256 slashed = sm.slashCollateral(minerA, collateral, bps, recipient);
        vm.assertEq(slashed, taken + share, "this slot's collateral plus the share");
        IStakeManager.StakeInfo memory i = info(minerA);
        vm.assertEq(i.locked, a.locked - taken, "only this slot's collateral released");
        vm.assertEq(uint256(i.staked) + i.unbonding, a.free + a.locked + a.unbonding - slashed, "conserved");
        vm.assertLe(i.locked, i.staked, "locked stays backed");
        vm.assertEq(token.balanceOf(recipient), slashed, "every slashed token arrives");
        assertSmBooks();
    }

    function testFuzz_unlockCollateral_releasesWithoutMovingTokens(uint256 lockAmount, uint256 unlockAmount) public {
        put(minerA, 500 ether);
        lockAmount = bound(lockAmount, 0, 500 ether);
        unlockAmount = bound(unlockAmount, 0, 600 ether);
        if (lockAmount != 0) sm.lockCollateral(minerA, lockAmount);
        uint256 released = unlockAmount < lockAmount ? unlockAmount : lockAmount;
        vm.expectEmit(true, false, false, true, address(sm));
        emit IStakeManager.CollateralUnlocked(minerA, released, lockAmount - released);
        sm.unlockCollateral(minerA, unlockAmount);
        vm.assertEq(info(minerA).staked, 500 ether, "no token moves");
        vm.assertEq(info(minerA).locked, lockAmount - released, "released");
        assertSmBooks();
    }
}
