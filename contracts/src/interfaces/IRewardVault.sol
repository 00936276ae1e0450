// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Reward vault
/// @notice Holds job escrows, dispute bounty pools and everyone's unclaimed rewards, and pays them out on request.
/// Accounting is pull-based and O(1): the protocol moves amounts between internal ledgers, `claim` pays the caller.
/// Invariant: token balance == total escrow + total pools + total claimable.
interface IRewardVault {
    /// @notice The caller is not the protocol contract bound at deployment.
    error VaultUnauthorized(address caller);
    /// @notice The protocol contract was already bound.
    error VaultAlreadyBound();
    /// @notice A job's escrow holds less than a payment needs.
    error VaultEscrowInsufficient(uint256 jobId, uint256 requested, uint256 available);
    /// @notice A bounty pool holds less than a payment needs.
    error VaultPoolInsufficient(bytes32 poolId, uint256 requested, uint256 available);
    /// @notice The caller has nothing to claim.
    error VaultNothingToClaim(address account);

    /// @notice Emitted when `amount` was added to job `jobId`'s escrow.
    event EscrowDeposited(uint256 indexed jobId, uint256 amount, uint256 escrowAfter);
    /// @notice Emitted when `amount` of job `jobId`'s escrow was credited to `to` (`reason` is a short tag).
    event EscrowPaid(uint256 indexed jobId, address indexed to, uint256 amount, bytes32 indexed reason);
    /// @notice Emitted when slashed tokens of `amount` entered bounty pool `poolId`.
    event PoolFunded(bytes32 indexed poolId, uint256 amount, uint256 poolAfter);
    /// @notice Emitted when `amount` from pool `poolId` was credited to `to`.
    event PoolPaid(bytes32 indexed poolId, address indexed to, uint256 amount);
    /// @notice Emitted when the remainder of a pool went back to the job escrow.
    event PoolReturnedToEscrow(bytes32 indexed poolId, uint256 indexed jobId, uint256 amount);
    /// @notice Emitted when `account` claimed `amount`.
    event RewardClaimed(address indexed account, uint256 amount);
    /// @notice Emitted once, when the protocol contract was bound.
    event ProtocolBound(address indexed protocol);
    /// @notice Emitted when `amount` of job `jobId`'s escrow was reserved in pool `poolId` for later payouts.
    event EscrowReserved(uint256 indexed jobId, bytes32 indexed poolId, uint256 amount);

    /// @notice Records `amount` tokens, already transferred in by the protocol, as escrow of `jobId`.
    function recordEscrow(uint256 jobId, uint256 amount) external;

    /// @notice Credits `amount` of `jobId`'s escrow to `to`'s claimable balance.
    function payFromEscrow(uint256 jobId, address to, uint256 amount, bytes32 reason) external;

    /// @notice Moves `amount` of job `jobId`'s escrow into pool `poolId` (rewards owed to a submission's seats).
    function reserveEscrow(uint256 jobId, bytes32 poolId, uint256 amount) external;

    /// @notice Records `amount` slashed tokens (already transferred in by the stake manager) in pool `poolId`.
    function fundPool(bytes32 poolId, uint256 amount) external;

    /// @notice Credits `amount` of pool `poolId` to `to`.
    function payFromPool(bytes32 poolId, address to, uint256 amount) external;

    /// @notice Moves the whole remainder of pool `poolId` into job `jobId`'s escrow.
    function returnPoolToEscrow(bytes32 poolId, uint256 jobId) external;

    /// @notice Pays the caller everything it is owed.
    function claim() external returns (uint256 amount);

    /// @notice Binds the protocol contract once; the deployer calls this during deployment.
    function bindProtocol(address protocol) external;

    /// @notice The protocol contract allowed to move balances.
    function protocol() external view returns (address);

    /// @notice Unclaimed balance of `account`.
    function claimableOf(address account) external view returns (uint256);

    /// @notice Remaining escrow of job `jobId`.
    function escrowOf(uint256 jobId) external view returns (uint256);

    /// @notice Remaining balance of pool `poolId`.
    function poolOf(bytes32 poolId) external view returns (uint256);

    /// @notice Totals for accounting checks.
    function totals() external view returns (uint256 totalEscrow, uint256 totalPools, uint256 totalClaimable);
}
