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
    /// @notice The pooled balance holds less than a payment needs.
    error VaultPoolInsufficient(uint256 requested, uint256 available);
    /// @notice The caller has nothing to claim.
    error VaultNothingToClaim(address account);

    /// @notice Emitted when `amount` was added to job `jobId`'s escrow.
    /// @param jobId The job.
    /// @param amount Tokens added.
    event EscrowDeposited(uint256 indexed jobId, uint256 amount);
    /// @notice Emitted when `amount` of job `jobId`'s escrow was credited to `to`.
    /// @param jobId The job.
    /// @param to Who was credited.
    /// @param amount Tokens credited.
    /// @param reason A short tag ("work", "aggregate", "refund").
    event EscrowPaid(uint256 indexed jobId, address indexed to, uint256 amount, bytes32 indexed reason);
    /// @notice Emitted when `amount` of job `jobId`'s escrow was reserved in the pool for a settlement's payouts.
    /// @param jobId The job.
    /// @param amount Tokens moved.
    event EscrowPooled(uint256 indexed jobId, uint256 amount);
    /// @notice Emitted when a payment asked more of an escrow than it holds and was paid only in part (never
    /// expected within a job's budget; a settlement never reverts for it).
    /// @param jobId The job.
    /// @param requested Tokens asked for.
    /// @param paid Tokens paid.
    event EscrowShortfall(uint256 indexed jobId, uint256 requested, uint256 paid);
    /// @notice Emitted when `amount` of slashed tokens entered the pool.
    /// @param amount Tokens added.
    event PoolFunded(uint256 amount);
    /// @notice Emitted when `amount` from the pool was credited to `to`.
    /// @param to Who was credited.
    /// @param amount Tokens credited.
    event PoolPaid(address indexed to, uint256 amount);
    /// @notice Emitted when `amount` left the pool back into job `jobId`'s escrow.
    /// @param jobId The job.
    /// @param amount Tokens moved.
    event PoolReturnedToEscrow(uint256 indexed jobId, uint256 amount);
    /// @notice Emitted when `amount` of the pool was burned (slashes on a planted subject).
    /// @param amount Tokens burned.
    event PoolBurned(uint256 amount);
    /// @notice Emitted when `account` claimed `amount`.
    /// @param account The claimant.
    /// @param amount Tokens paid out.
    event RewardClaimed(address indexed account, uint256 amount);
    /// @notice Emitted once, when the protocol contract was bound.
    /// @param protocol The protocol contract.
    event ProtocolBound(address indexed protocol);

    /// @notice Records `amount` tokens, already transferred in, as escrow of `jobId`.
    function recordEscrow(uint256 jobId, uint256 amount) external;

    /// @notice Credits up to `amount` of `jobId`'s escrow to `to`'s claimable balance; returns what was paid (less
    /// only if the escrow ran short, which emits EscrowShortfall instead of reverting a settlement).
    function payFromEscrow(uint256 jobId, address to, uint256 amount, bytes32 reason) external returns (uint256 paid);

    /// @notice Moves up to `amount` of job `jobId`'s escrow into the pool (rewards owed to a settlement's seats);
    /// returns what was moved.
    function escrowToPool(uint256 jobId, uint256 amount) external returns (uint256 moved);

    /// @notice Records `amount` slashed tokens, already transferred in by the stake manager, in the pool.
    function fundPool(uint256 amount) external;

    /// @notice Credits `amount` of the pool to `to`.
    function payFromPool(address to, uint256 amount) external;

    /// @notice Moves `amount` of the pool back into job `jobId`'s escrow.
    function poolToEscrow(uint256 jobId, uint256 amount) external;

    /// @notice Burns `amount` of the pool (slashes that must not return to a plant's sponsor).
    function burnFromPool(uint256 amount) external;

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
