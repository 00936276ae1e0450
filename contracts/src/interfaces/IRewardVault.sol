// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Reward vault
/// @notice Holds job escrows, slashed funds awaiting payout (the "pooled" balance) and everyone's unclaimed rewards,
/// and pays them out on request. Accounting is pull-based and O(1): the protocol moves amounts between internal
/// ledgers, `claim` pays the caller. Which dispute a pooled token belongs to is the ledger's bookkeeping, kept in
/// its per-submission record, so a dispute costs no new vault storage slot.
/// Invariant: token balance == total escrow + pooled + the sum of every account's claimable balance.
interface IRewardVault {
    /// @notice The caller is not the protocol contract bound at deployment.
    error VaultUnauthorized(address caller);
    /// @notice The protocol contract was already bound.
    error VaultAlreadyBound();
    /// @notice A job's escrow holds less than a payment needs.
    error VaultEscrowInsufficient(uint256 jobId, uint256 requested, uint256 available);
    /// @notice The pooled balance holds less than a payment needs.
    error VaultPoolInsufficient(uint256 requested, uint256 available);
    /// @notice The caller has nothing to claim.
    error VaultNothingToClaim(address account);

    /// @notice Emitted when `amount` was added to job `jobId`'s escrow.
    event EscrowDeposited(uint256 indexed jobId, uint256 amount);
    /// @notice Emitted when `amount` of job `jobId`'s escrow was credited to `to` (`reason` is a short tag).
    event EscrowPaid(uint256 indexed jobId, address indexed to, uint256 amount, bytes32 indexed reason);
    /// @notice Emitted when `amount` of job `jobId`'s escrow was reserved in the pool for a settlement's payouts.
    event EscrowPooled(uint256 indexed jobId, uint256 amount);
    /// @notice Emitted when `amount` of slashed tokens entered the pool.
    event PoolFunded(uint256 amount);
    /// @notice Emitted when `amount` from the pool was credited to `to`.
    event PoolPaid(address indexed to, uint256 amount);
    /// @notice Emitted when `amount` left the pool back into job `jobId`'s escrow.
    event PoolReturnedToEscrow(uint256 indexed jobId, uint256 amount);
    /// @notice Emitted when `account` claimed `amount`.
    event RewardClaimed(address indexed account, uint256 amount);
    /// @notice Emitted once, when the protocol contract was bound.
    event ProtocolBound(address indexed protocol);

    /// @notice Records `amount` tokens, already transferred in, as escrow of `jobId`.
    function recordEscrow(uint256 jobId, uint256 amount) external;

    /// @notice Credits `amount` of `jobId`'s escrow to `to`'s claimable balance.
    function payFromEscrow(uint256 jobId, address to, uint256 amount, bytes32 reason) external;

    /// @notice Moves `amount` of job `jobId`'s escrow into the pool (rewards owed to a settlement's seats).
    function escrowToPool(uint256 jobId, uint256 amount) external;

    /// @notice Records `amount` slashed tokens, already transferred in by the stake manager, in the pool.
    function fundPool(uint256 amount) external;

    /// @notice Credits `amount` of the pool to `to`.
    function payFromPool(address to, uint256 amount) external;

    /// @notice Moves `amount` of the pool back into job `jobId`'s escrow.
    function poolToEscrow(uint256 jobId, uint256 amount) external;

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

    /// @notice Totals for accounting checks (claimable balances are summed per account by the checker).
    function totals() external view returns (uint256 totalEscrow, uint256 pooled);
}
