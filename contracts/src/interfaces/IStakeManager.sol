// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Stake manager
/// @notice Holds the stakes of miners and validators, their unbonding amounts, the collateral locked by open slots,
/// and the validator set as a stake-weighted sortition tree with checkpointed history.
///
/// Money rules: only the protocol (the work ledger) may lock, unlock or slash. A slash on a slot takes that slot's
/// collateral plus a share of the account's free and unbonding stake, never another open slot's collateral, so
/// `locked <= staked` always holds and every open slot can always be settled. Unbonding funds stay slashable, and
/// claiming work re-arms the unbonding clock, so nobody escapes a pending slash by unstaking.
///
/// Draw rules: a validator's draw weight is its bonded stake (whole CRU) while registered and at or above the
/// minimum. Every change to a weight (joining, leaving, top-ups, unbonding, slashes) takes effect two epochs later,
/// a delay longer than any job's longest audit plus dispute (the registry enforces it), and panels are drawn from
/// the weights of the epoch of their seed block: after the randomness is public nobody can change who is drawn.
interface IStakeManager {
    /// @notice Per-account stake record. Amounts are token wei.
    struct StakeInfo {
        uint128 staked; // bonded stake, including the locked part
        uint128 locked; // collateral held by open slots; cannot be unbonded or slashed by other slots
        uint128 unbonding; // requested for withdrawal, still slashable
        uint64 unbondReadyAt; // block from which `unbonding` may be withdrawn
        uint32 leaf; // 1 + the account's leaf in the sortition tree; 0 if never registered
        bool registered; // in the validator set (drawable once its weight is active)
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
    /// @notice The account is already registered as a validator.
    error StakeAlreadyValidator(address account);
    /// @notice The account is not a registered validator.
    error StakeNotValidator(address account);
    /// @notice The sortition tree is full.
    error StakeValidatorSetFull(uint256 capacity);
    /// @notice Draws read the weights of the current or the previous epoch only.
    error StakeEpochUnavailable(uint256 epoch, uint256 currentEpoch);
    /// @notice Deployment parameters that would let a validator leave before its votes are settled.
    error StakeInvalidConfig(uint256 unbondingPeriodBlocks, uint256 epochBlocks);

    /// @notice Emitted when `account` added `amount` to its stake.
    /// @param account The staker.
    /// @param amount Tokens added.
    /// @param totalStaked Its bonded stake afterwards.
    event Staked(address indexed account, uint256 amount, uint256 totalStaked);
    /// @notice Emitted when `account` moved `amount` from its stake into unbonding.
    /// @param account The staker.
    /// @param amount Tokens moved.
    /// @param totalUnbonding Its unbonding amount afterwards.
    /// @param readyAt Block from which it may withdraw.
    event UnbondRequested(address indexed account, uint256 amount, uint256 totalUnbonding, uint256 readyAt);
    /// @notice Emitted when claiming work pushed an account's withdrawal back (its unbonding stays slashable).
    /// @param account The staker.
    /// @param readyAt The new block from which it may withdraw.
    event UnbondingExtended(address indexed account, uint256 readyAt);
    /// @notice Emitted when `account` withdrew `amount` of matured unbonding funds.
    /// @param account The staker.
    /// @param amount Tokens withdrawn.
    event Withdrawn(address indexed account, uint256 amount);
    /// @notice Emitted when the protocol locked collateral of `account`.
    /// @param account The miner.
    /// @param amount Collateral locked.
    /// @param totalLocked Its locked collateral afterwards.
    event CollateralLocked(address indexed account, uint256 amount, uint256 totalLocked);
    /// @notice Emitted when the protocol released collateral of `account`.
    /// @param account The miner.
    /// @param amount Collateral released.
    /// @param totalLocked Its locked collateral afterwards.
    event CollateralUnlocked(address indexed account, uint256 amount, uint256 totalLocked);
    /// @notice Emitted when the protocol slashed a slot's collateral of `account`.
    /// @param account The miner.
    /// @param amount Collateral taken.
    /// @param totalLocked Its locked collateral afterwards.
    /// @param recipient Where the tokens went.
    event CollateralSlashed(address indexed account, uint256 amount, uint256 totalLocked, address indexed recipient);
    /// @notice Emitted when the protocol asked to release or slash more collateral than is locked (never expected:
    /// collateral is isolated per slot; kept as a loud backstop instead of a silent clamp or a frozen slot).
    /// @param account The miner.
    /// @param requested Collateral asked for.
    /// @param locked Collateral actually locked.
    event CollateralShortfall(address indexed account, uint256 requested, uint256 locked);
    /// @notice Emitted when `account` was slashed from its free or unbonding stake; the tokens went to `recipient`.
    /// @param account The slashed account.
    /// @param fromStake Taken from free bonded stake.
    /// @param fromUnbonding Taken from unbonding funds.
    /// @param recipient Where the tokens went.
    event Slashed(address indexed account, uint256 fromStake, uint256 fromUnbonding, address indexed recipient);
    /// @notice Emitted when `account` joined the validator set.
    /// @param account The validator.
    /// @param leaf Its leaf in the sortition tree.
    /// @param activeFromEpoch The first epoch its weight counts in draws.
    /// @param deviceClasses The device classes it declares it can replay bit for bit (see crucible/engine).
    event ValidatorRegistered(address indexed account, uint256 leaf, uint256 activeFromEpoch, uint32[] deviceClasses);
    /// @notice Emitted when `account` left the validator set (its weight drops to zero two epochs later).
    /// @param account The validator.
    /// @param inactiveFromEpoch The first epoch it is no longer drawn.
    event ValidatorDeregistered(address indexed account, uint256 inactiveFromEpoch);
    /// @notice Emitted when a validator's draw weight changed, effective from `epoch`.
    /// @param account The validator.
    /// @param weight Its new weight (whole tokens of bonded stake; zero when not registered or below the minimum).
    /// @param epoch The first epoch the new weight counts in.
    event ValidatorWeightScheduled(address indexed account, uint256 weight, uint256 epoch);
    /// @notice Emitted once, when the protocol contract was bound.
    /// @param protocol The protocol contract.
    event ProtocolSet(address indexed protocol);

    /// @notice Stakes `amount` tokens (needs an allowance).
    function stake(uint256 amount) external;

    /// @notice Stakes `amount` tokens using an EIP-2612 permit signature instead of a prior approval.
    function stakeWithPermit(uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external;

    /// @notice Moves `amount` of free stake into unbonding. Restarts the unbonding clock for everything unbonding.
    function requestUnbond(uint256 amount) external;

    /// @notice Withdraws all matured unbonding funds to the caller.
    function withdraw() external returns (uint256 amount);

    /// @notice Joins the validator set (needs at least the validator minimum stake); declares the device classes the
    /// validator replays on. Its weight counts in draws from two epochs on.
    function registerValidator(uint32[] calldata deviceClasses) external;

    /// @notice Leaves the validator set. It stays drawable (and slashable) until its weight drops two epochs later.
    function deregisterValidator() external;

    /// @notice Locks `amount` of `account`'s free stake as a slot's collateral. Protocol only.
    function lockCollateral(address account, uint256 amount) external;

    /// @notice Releases `amount` of `account`'s collateral. Protocol only.
    function unlockCollateral(address account, uint256 amount) external;

    /// @notice Slashes up to `amount` from `account`'s free stake, then its unbonding funds (never the collateral of
    /// its open slots), and sends it to `recipient`. Protocol only. Returns what was slashed.
    function slash(address account, uint256 amount, address recipient) external returns (uint256 slashed);

    /// @notice Slashes one slot's `collateral` plus `shareBps` of `account`'s free and unbonding stake, and sends it to
    /// `recipient`. Protocol only. Returns what was slashed.
    function slashCollateral(address account, uint256 collateral, uint256 shareBps, address recipient)
        external
        returns (uint256 slashed);

    /// @notice Draws up to `count` distinct validators, stake-weighted, from the weights of `epoch` (the current or
    /// the previous one), skipping `exclude` (the subject's miner) and accounts with less than `minAtRisk` free plus
    /// unbonding stake. Bounded rejection sampling: fewer than `count` when the set is too small.
    function drawValidators(uint256 epoch, bytes32 seed, uint256 count, address exclude, uint256 minAtRisk)
        external
        view
        returns (address[] memory drawn);

    /// @notice Binds the protocol contract once; the deployer calls this during deployment.
    function setProtocol(address protocol) external;

    /// @notice The stake record of `account`.
    function stakeOf(address account) external view returns (StakeInfo memory);

    /// @notice Stake that is neither locked nor unbonding.
    function freeStakeOf(address account) external view returns (uint256);

    /// @notice Stake a seat slash can reach: free bonded stake plus unbonding funds.
    function atRiskOf(address account) external view returns (uint256);

    /// @notice `account`'s draw weight in `epoch` (current or previous epoch, or any later one scheduled).
    function weightAt(address account, uint256 epoch) external view returns (uint256);

    /// @notice The total draw weight in `epoch`.
    function totalWeightAt(uint256 epoch) external view returns (uint256);

    /// @notice The epoch of `blockNumber` (epochs start at 1).
    function epochOf(uint256 blockNumber) external view returns (uint256);

    /// @notice The current epoch.
    function currentEpoch() external view returns (uint256);

    /// @notice Blocks per epoch.
    function epochBlocks() external view returns (uint64);

    /// @notice Number of registered validators.
    function validatorCount() external view returns (uint256);

    /// @notice Whether `account` is a registered validator.
    function isValidator(address account) external view returns (bool);

    /// @notice Minimum stake for miners to claim work.
    function minMinerStake() external view returns (uint256);

    /// @notice Minimum stake to join the validator set and to carry draw weight.
    function minValidatorStake() external view returns (uint256);

    /// @notice Blocks between an unbond request (or the last claim) and its withdrawal.
    function unbondingPeriodBlocks() external view returns (uint64);

    /// @notice Sum of all bonded stakes, of all unbonding amounts (for accounting checks).
    function totals() external view returns (uint256 totalStaked, uint256 totalUnbonding);
}
