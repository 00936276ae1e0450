// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {CrucibleTest} from "./utils/CrucibleTest.sol";
import {RewardVault} from "../src/RewardVault.sol";
import {IRewardVault} from "../src/interfaces/IRewardVault.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @notice A vault whose protocol is the test itself, so every protocol-only move can be called directly.
abstract contract VaultUnit is CrucibleTest {
    RewardVault internal v;

    function setUp() public virtual override {
        super.setUp();
        v = new RewardVault(token);
        v.bindProtocol(address(this));
    }

    /// @dev As the registry does: tokens go to the vault, then the protocol records them as a job's escrow.
    function deposit(uint256 jobId, uint256 amount) internal {
        fund(address(v), amount);
        v.recordEscrow(jobId, amount);
    }

    /// @dev As the stake manager does on a slash: tokens go to the vault, then the protocol records them as pooled.
    function pool(uint256 amount) internal {
        fund(address(v), amount);
        v.fundPool(amount);
    }

    function assertVaultBooks() internal view {
        (uint256 escrow, uint256 pooled) = v.totals();
        uint256 claimable = v.claimableOf(minerA) + v.claimableOf(minerB) + v.claimableOf(sponsor);
        vm.assertEq(token.balanceOf(address(v)), escrow + pooled + claimable, "vault books");
        vm.assertEq(v.escrowOf(1) + v.escrowOf(2), escrow, "escrow total == per-job escrows");
    }
}

contract RewardVault_Bind is VaultUnit {
    function test_bindProtocol_revertsForAnyoneButTheDeployer() public {
        RewardVault fresh = new RewardVault(token);
        vm.prank(minerA);
        vm.expectRevert(abi.encodeWithSelector(IRewardVault.VaultUnauthorized.selector, minerA));
        fresh.bindProtocol(minerA);
    }

    function test_bindProtocol_bindsOnce() public {
        RewardVault fresh = new RewardVault(token);
        vm.expectEmit(true, false, false, true, address(fresh));
        emit IRewardVault.ProtocolBound(address(ledger));
        fresh.bindProtocol(address(ledger));
        vm.assertEq(fresh.protocol(), address(ledger), "bound");
        vm.expectRevert(IRewardVault.VaultAlreadyBound.selector);
        fresh.bindProtocol(address(this));
    }

    function test_protocolFunctions_revertForAnyoneElse() public {
        deposit(1, 10 ether);
        bytes memory refused = abi.encodeWithSelector(IRewardVault.VaultUnauthorized.selector, minerA);
        vm.startPrank(minerA);
        vm.expectRevert(refused);
        v.recordEscrow(1, 1);
        vm.expectRevert(refused);
        v.payFromEscrow(1, minerA, 1, "work");
        vm.expectRevert(refused);
        v.escrowToPool(1, 1);
        vm.expectRevert(refused);
        v.fundPool(1);
        vm.expectRevert(refused);
        v.payFromPool(minerA, 1);
        vm.expectRevert(refused);
        v.poolToEscrow(1, 1);
        vm.expectRevert(refused);
        v.burnFromPool(1);
        vm.stopPrank();
        // The deployed vault answers only to the ledger.
        vm.expectRevert(abi.encodeWithSelector(IRewardVault.VaultUnauthorized.selector, address(this)));
        vault.recordEscrow(1, 1);
        vm.assertEq(v.escrowOf(1), 10 ether, "untouched");
    }
}

contract RewardVault_Escrow is VaultUnit {
    function test_recordEscrow_revertsOnAmountsThatDoNotFit() public {
        vm.expectRevert(abi.encodeWithSelector(SafeCast.SafeCastOverflowedUintDowncast.selector, 128, 1 << 128));
        v.recordEscrow(1, 1 << 128);
    }

    function test_payFromEscrow_creditsTheRecipient() public {
        deposit(1, 10 ether);
        vm.expectEmit(true, true, true, true, address(v));
        emit IRewardVault.EscrowPaid(1, minerA, 4 ether, "work");
        vm.assertEq(v.payFromEscrow(1, minerA, 4 ether, "work"), 4 ether, "paid in full");
        vm.assertEq(v.claimableOf(minerA), 4 ether, "credited");
        vm.assertEq(v.escrowOf(1), 6 ether, "debited");
        assertVaultBooks();
    }

    /// @dev A short escrow pays what it has and says so: a settlement is never frozen by a revert.
    function testFuzz_payFromEscrow_paysWhatIsThere_andReportsTheShortfall(uint256 held, uint256 asked) public {
        held = bound(held, 0, 1e6 ether); // the faucet's cap per drip
        asked = bound(asked, held + 1, 2e6 ether);
        if (held != 0) deposit(1, held);
        deposit(2, 5 ether); // another job's escrow is never touched
        vm.expectEmit(true, false, false, true, address(v));
        emit IRewardVault.EscrowShortfall(1, asked, held);
        vm.expectEmit(true, true, true, true, address(v));
        emit IRewardVault.EscrowPaid(1, minerA, held, "aggregate");
        vm.assertEq(v.payFromEscrow(1, minerA, asked, "aggregate"), held, "what was there");
        vm.assertEq(v.escrowOf(1), 0, "empty");
        vm.assertEq(v.escrowOf(2), 5 ether, "the other job untouched");
        assertVaultBooks();
    }

    function testFuzz_escrowToPool_movesWhatIsThere(uint256 held, uint256 asked) public {
        held = bound(held, 1, 1e6 ether);
        asked = bound(asked, 0, 2e6 ether);
        deposit(1, held);
        uint256 moved = asked < held ? asked : held;
        if (asked > held) {
            vm.expectEmit(true, false, false, true, address(v));
            emit IRewardVault.EscrowShortfall(1, asked, held);
        }
        vm.expectEmit(true, false, false, true, address(v));
        emit IRewardVault.EscrowPooled(1, moved);
        vm.assertEq(v.escrowToPool(1, asked), moved, "moved");
        (uint256 escrow, uint256 pooled) = v.totals();
        vm.assertEq(pooled, moved, "pooled");
        vm.assertEq(escrow, held - moved, "escrow total");
        assertVaultBooks();
    }
}

contract RewardVault_Pool is VaultUnit {
    function test_poolMoves_revertBeyondThePool() public {
        pool(5 ether);
        bytes memory short = abi.encodeWithSelector(IRewardVault.VaultPoolInsufficient.selector, 6 ether, 5 ether);
        vm.expectRevert(short);
        v.payFromPool(minerA, 6 ether);
        vm.expectRevert(short);
        v.poolToEscrow(1, 6 ether);
        vm.expectRevert(short);
        v.burnFromPool(6 ether);
        assertVaultBooks();
    }

    function test_payFromPool_andPoolToEscrow_moveBalancesNotTokens() public {
        pool(5 ether);
        vm.expectEmit(true, false, false, true, address(v));
        emit IRewardVault.PoolPaid(minerA, 2 ether);
        v.payFromPool(minerA, 2 ether);
        vm.expectEmit(true, false, false, true, address(v));
        emit IRewardVault.PoolReturnedToEscrow(1, 3 ether);
        v.poolToEscrow(1, 3 ether);
        (uint256 escrow, uint256 pooled) = v.totals();
        vm.assertEq(pooled, 0, "pool emptied");
        vm.assertEq(escrow, 3 ether, "into the escrow");
        vm.assertEq(v.claimableOf(minerA), 2 ether, "credited");
        assertVaultBooks();
    }

    /// @dev Slashes on a plant are burned: the supply shrinks and the books still balance.
    function testFuzz_burnFromPool_destroysExactlyTheAmount(uint256 pooledAmount, uint256 burned) public {
        pooledAmount = bound(pooledAmount, 1, 1e6 ether);
        burned = bound(burned, 0, pooledAmount);
        pool(pooledAmount);
        uint256 supply = token.totalSupply();
        vm.expectEmit(false, false, false, true, address(v));
        emit IRewardVault.PoolBurned(burned);
        v.burnFromPool(burned);
        vm.assertEq(token.totalSupply(), supply - burned, "supply");
        (, uint256 pooled) = v.totals();
        vm.assertEq(pooled, pooledAmount - burned, "pool");
        assertVaultBooks();
    }
}

contract RewardVault_Claim is VaultUnit {
    function test_claim_revertsWithNothingOwed() public {
        vm.prank(minerA);
        vm.expectRevert(abi.encodeWithSelector(IRewardVault.VaultNothingToClaim.selector, minerA));
        v.claim();
    }

    function test_claim_paysOnce() public {
        deposit(1, 10 ether);
        v.payFromEscrow(1, minerA, 4 ether, "work");
        vm.expectEmit(true, false, false, true, address(v));
        emit IRewardVault.RewardClaimed(minerA, 4 ether);
        vm.prank(minerA);
        vm.assertEq(v.claim(), 4 ether, "claimed");
        vm.assertEq(token.balanceOf(minerA), 4 ether, "paid out");
        vm.prank(minerA);
        vm.expectRevert(abi.encodeWithSelector(IRewardVault.VaultNothingToClaim.selector, minerA));
        v.claim();
        assertVaultBooks();
    }
}

/// @notice Whatever sequence of moves the protocol makes, the vault's tokens equal escrows + pool + claimable.
contract RewardVault_Books is VaultUnit {
    function testFuzz_books_balanceAfterAnySequence(uint256[16] memory ops) public {
        address[3] memory who = [minerA, minerB, sponsor];
        for (uint256 i; i < ops.length; ++i) {
            uint256 op = ops[i] % 8;
            uint256 amount = (ops[i] >> 8) % 20 ether;
            uint256 job = 1 + (ops[i] >> 128) % 2;
            address to = who[(ops[i] >> 64) % 3];
            (, uint256 pooled) = v.totals();
            if (op == 0) deposit(job, amount);
            else if (op == 1) v.payFromEscrow(job, to, amount, "work");
            else if (op == 2) v.escrowToPool(job, amount);
            else if (op == 3) pool(amount);
            else if (op == 4 && amount <= pooled) v.payFromPool(to, amount);
            else if (op == 5 && amount <= pooled) v.poolToEscrow(job, amount);
            else if (op == 6 && amount <= pooled) v.burnFromPool(amount);
            else if (op == 7 && v.claimableOf(to) != 0) {
                vm.prank(to);
                v.claim();
            }
            assertVaultBooks();
        }
    }
}
