// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Stake manager
/// @notice Holds the stakes of miners and validators, their unbonding amounts and the collateral locked by open
/// submissions. Only the protocol (the work ledger) may lock, unlock or slash. Unbonding takes longer than the
/// longest audit plus dispute, and a slash reaches unbonding funds, so no one escapes a pending slash by unstaking.
interface IStakeManager {
    /// @notice Per-account stake record. Amounts are token wei.
    struct StakeInfo {
        uint128 staked; // bonded stake, including the locked part
        uint128 locked; // collateral held by open submissions; cannot be unbonded
        uint128 unbonding; // requested for withdrawal, still slashable
        uint64 unbondReadyAt; // block from which `unbonding` may be withdrawn
    }

    /// @notice The caller tried to stake or unbond zero tokens.
    error StakeZeroAmount();
    /// @notice The free (unlocked) stake is smaller than what the call needs.
    error StakeInsufficientFree(address account, uint256 requested, uint256 free);
    /// @notice The account's stake is below the minimum its role requires.
    error StakeTooLow(address account, uint256 required, uint256 staked);
    /// @notice Nothing is ready to withdraw yet.
    error StakeUnbondingNotReady(address account, uint256 readyAt, uint256 currentBlock);
    /// @notice There is nothing unbonding to withdraw.
    error StakeNothingToWithdraw(address account);
    /// @notice The caller is not the protocol contract allowed to lock and slash.
    error StakeUnauthorizedProtocol(address caller);
    /// @notice The protocol address was already set.
    error StakeProtocolAlreadySet(address protocol);
    /// @notice The account is already an active validator.
    error StakeAlreadyValidator(address account);
    /// @notice The account is not an active validator.
    error StakeNotValidator(address account);
    /// @notice The validator set is empty, so nobody can be drawn.
    error StakeNoValidators();
    /// @notice No validator sits at that index.
    error StakeValidatorIndexOutOfRange(uint256 index, uint256 count);
    /// @notice Unlocking more collateral than is locked.
    error StakeUnlockExceedsLocked(address account, uint256 amount, uint256 locked);

    /// @notice Emitted when `account` added `amount` to its stake.
    event Staked(address indexed account, uint256 amount, uint256 totalStaked);
    /// @notice Emitted when `account` moved `amount` from its stake into unbonding.
    event UnbondRequested(address indexed account, uint256 amount, uint256 totalUnbonding, uint256 readyAt);
    /// @notice Emitted when `account` withdrew `amount` of matured unbonding funds.
    event Withdrawn(address indexed account, uint256 amount);
    /// @notice Emitted when the protocol locked collateral of `account`.
    event CollateralLocked(address indexed account, uint256 amount, uint256 totalLocked);
    /// @notice Emitted when the protocol released collateral of `account`.
    event CollateralUnlocked(address indexed account, uint256 amount, uint256 totalLocked);
    /// @notice Emitted when `account` was slashed; `fromStake + fromUnbonding` tokens went to `recipient`.
    event Slashed(address indexed account, uint256 fromStake, uint256 fromUnbonding, address indexed recipient);
    /// @notice Emitted when `account` joined the validator set at `index`.
    event ValidatorRegistered(address indexed account, uint256 index);
    /// @notice Emitted when `account` left the validator set.
    event ValidatorDeregistered(address indexed account);
    /// @notice Emitted once, when the protocol contract was bound.
    event ProtocolSet(address indexed protocol);

    /// @notice Stakes `amount` tokens (needs an allowance).
    function stake(uint256 amount) external;

    /// @notice Stakes `amount` tokens using an EIP-2612 permit signature instead of a prior approval.
    function stakeWithPermit(uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external;

    /// @notice Moves `amount` of free stake into unbonding. Restarts the unbonding clock for everything unbonding.
    /// @dev Restarting is what stops a staker from pre-arming an early exit: any token leaving does so at least
    /// one full unbonding period after its request, which is longer than the longest audit plus dispute.
    function requestUnbond(uint256 amount) external;

    /// @notice Withdraws all matured unbonding funds to the caller.
    function withdraw() external returns (uint256 amount);

    /// @notice Joins the validator set (needs at least the validator minimum stake).
    function registerValidator() external;

    /// @notice Leaves the validator set. Stake stays bonded until unbonded.
    function deregisterValidator() external;

    /// @notice Locks `amount` of `account`'s free stake as collateral. Protocol only.
    function lockCollateral(address account, uint256 amount) external;

    /// @notice Releases `amount` of `account`'s collateral. Protocol only.
    function unlockCollateral(address account, uint256 amount) external;

    /// @notice Slashes up to `amount` from `account` (stake first, then unbonding) and sends it to `recipient`.
    /// Protocol only. Returns what was actually slashed (less when the account holds less).
    function slash(address account, uint256 amount, address recipient) external returns (uint256 slashed);

    /// @notice Releases `collateral` of `account`'s locked stake and slashes it together with `shareBps` of the
    /// stake left above it, sending everything to `recipient`. Protocol only. One call instead of unlock, read and
    /// slash keeps a dispute's settlement cheap. Returns what was actually slashed.
    function slashCollateral(address account, uint256 collateral, uint256 shareBps, address recipient)
        external
        returns (uint256 slashed);

    /// @notice Binds the protocol contract once; the deployer calls this during deployment.
    function setProtocol(address protocol) external;

    /// @notice The stake record of `account`.
    function stakeOf(address account) external view returns (StakeInfo memory);

    /// @notice Stake that is neither locked nor unbonding.
    function freeStakeOf(address account) external view returns (uint256);

    /// @notice Number of active validators.
    function validatorCount() external view returns (uint256);

    /// @notice The validator at `randomness % validatorCount()`: a uniform draw from the active set in one call.
    function drawValidator(uint256 randomness) external view returns (address);

    /// @notice Validator at `index` of the active set.
    function validatorAt(uint256 index) external view returns (address);

    /// @notice Whether `account` is an active validator.
    function isValidator(address account) external view returns (bool);

    /// @notice Minimum stake for miners to claim work.
    function minMinerStake() external view returns (uint256);

    /// @notice Minimum stake to join and stay in the validator set.
    function minValidatorStake() external view returns (uint256);

    /// @notice Blocks between an unbond request and its withdrawal.
    function unbondingPeriodBlocks() external view returns (uint64);

    /// @notice Sum of all bonded stakes, of all unbonding amounts (for accounting checks).
    function totals() external view returns (uint256 totalStaked, uint256 totalUnbonding);
}
