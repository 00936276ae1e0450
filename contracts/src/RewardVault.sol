// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient as ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ICrucibleToken} from "./interfaces/ICrucibleToken.sol";
import {IRewardVault} from "./interfaces/IRewardVault.sol";

/// @title RewardVault
/// @notice Token custody for escrows, bounty pools and unclaimed rewards; see IRewardVault.
contract RewardVault is IRewardVault, ReentrancyGuard {
    using SafeERC20 for IERC20;

    IERC20 private immutable _token;
    address private immutable _deployer;
    address private _protocol;

    mapping(uint256 jobId => uint256) private _escrow;
    mapping(address account => uint256) private _claimable;
    // Escrow and pool totals share one slot: moving escrow into the pool (every audited settlement) then touches
    // one storage word instead of two. Both are bounded by the token supply, far below 2**128.
    uint128 private _totalEscrow;
    uint128 private _pooled;
    // No running total of claimable balances: it would cost every claim 5,000 gas, and the books invariant is
    // checked more strongly by summing the per-account balances (tests, `crucible books`).

    constructor(IERC20 token_) {
        _token = token_;
        _deployer = msg.sender;
    }

    modifier onlyProtocol() {
        if (msg.sender != _protocol) revert VaultUnauthorized(msg.sender);
        _;
    }

    /// @inheritdoc IRewardVault
    function bindProtocol(address protocol_) external {
        if (msg.sender != _deployer) revert VaultUnauthorized(msg.sender);
        if (_protocol != address(0)) revert VaultAlreadyBound();
        _protocol = protocol_;
        emit ProtocolBound(protocol_);
    }

    /// @inheritdoc IRewardVault
    function protocol() external view returns (address) {
        return _protocol;
    }

    /// @inheritdoc IRewardVault
    function recordEscrow(uint256 jobId, uint256 amount) external onlyProtocol {
        _escrow[jobId] += amount;
        _totalEscrow += SafeCast.toUint128(amount);
        emit EscrowDeposited(jobId, amount);
    }

    /// @inheritdoc IRewardVault
    function payFromEscrow(uint256 jobId, address to, uint256 amount, bytes32 reason)
        external
        onlyProtocol
        returns (uint256 paid)
    {
        paid = _takeEscrow(jobId, amount);
        _claimable[to] += paid;
        emit EscrowPaid(jobId, to, paid, reason);
    }

    /// @inheritdoc IRewardVault
    function escrowToPool(uint256 jobId, uint256 amount) external onlyProtocol returns (uint256 moved) {
        moved = _takeEscrow(jobId, amount);
        _pooled += uint128(moved);
        emit EscrowPooled(jobId, moved);
    }

    /// @inheritdoc IRewardVault
    function fundPool(uint256 amount) external onlyProtocol {
        _pooled += SafeCast.toUint128(amount);
        emit PoolFunded(amount);
    }

    /// @inheritdoc IRewardVault
    function payFromPool(address to, uint256 amount) external onlyProtocol {
        _takePool(amount);
        _claimable[to] += amount;
        emit PoolPaid(to, amount);
    }

    /// @inheritdoc IRewardVault
    function poolToEscrow(uint256 jobId, uint256 amount) external onlyProtocol {
        _takePool(amount);
        _escrow[jobId] += amount;
        _totalEscrow += SafeCast.toUint128(amount);
        emit PoolReturnedToEscrow(jobId, amount);
    }

    /// @inheritdoc IRewardVault
    function burnFromPool(uint256 amount) external onlyProtocol {
        _takePool(amount);
        emit PoolBurned(amount);
        ICrucibleToken(address(_token)).burn(amount);
    }

    /// @dev Takes up to `amount`: a job's budget covers every payment it can owe (the registry checks it), so a
    /// shortfall is never expected, but it must never freeze a settlement either.
    function _takeEscrow(uint256 jobId, uint256 amount) private returns (uint256 taken) {
        uint256 available = _escrow[jobId];
        taken = amount;
        if (amount > available) {
            taken = available;
            emit EscrowShortfall(jobId, amount, available);
        }
        unchecked {
            // Safe: taken <= available, and the total is the sum of the per-job balances.
            _escrow[jobId] = available - taken;
            _totalEscrow -= uint128(taken);
        }
    }

    function _takePool(uint256 amount) private {
        uint256 available = _pooled;
        if (amount > available) revert VaultPoolInsufficient(amount, available);
        unchecked {
            // Safe: amount <= available, which fits in uint128.
            _pooled = uint128(available - amount);
        }
    }

    /// @inheritdoc IRewardVault
    function claim() external nonReentrant returns (uint256 amount) {
        amount = _claimable[msg.sender];
        if (amount == 0) revert VaultNothingToClaim(msg.sender);
        _claimable[msg.sender] = 0;
        emit RewardClaimed(msg.sender, amount);
        _token.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IRewardVault
    function claimableOf(address account) external view returns (uint256) {
        return _claimable[account];
    }

    /// @inheritdoc IRewardVault
    function escrowOf(uint256 jobId) external view returns (uint256) {
        return _escrow[jobId];
    }

    /// @inheritdoc IRewardVault
    function totals() external view returns (uint256, uint256) {
        return (_totalEscrow, _pooled);
    }
}
