// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient as ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IStakeManager} from "./interfaces/IStakeManager.sol";

/// @title StakeManager
/// @notice Stakes, unbonding, collateral locks, slashing and the validator set. Every function is O(1).
contract StakeManager is IStakeManager, ReentrancyGuard {
    using SafeERC20 for IERC20;

    IERC20 private immutable _token;
    address private immutable _deployer;
    uint256 private immutable _minMinerStake;
    uint256 private immutable _minValidatorStake;
    uint64 private immutable _unbondingPeriodBlocks;

    address private _protocol;
    mapping(address account => StakeInfo) private _stakes;
    address[] private _validators;
    /// @dev 1-based position in `_validators`; 0 means "not a validator".
    mapping(address account => uint256) private _validatorPosition;
    uint256 private _totalStaked;
    uint256 private _totalUnbonding;

    constructor(IERC20 token_, uint256 minMinerStake_, uint256 minValidatorStake_, uint64 unbondingPeriodBlocks_) {
        _token = token_;
        _deployer = msg.sender;
        _minMinerStake = minMinerStake_;
        _minValidatorStake = minValidatorStake_;
        _unbondingPeriodBlocks = unbondingPeriodBlocks_;
    }

    modifier onlyProtocol() {
        if (msg.sender != _protocol) revert StakeUnauthorizedProtocol(msg.sender);
        _;
    }

    /// @inheritdoc IStakeManager
    function setProtocol(address protocol) external {
        if (msg.sender != _deployer) revert StakeUnauthorizedProtocol(msg.sender);
        if (_protocol != address(0)) revert StakeProtocolAlreadySet(_protocol);
        _protocol = protocol;
        emit ProtocolSet(protocol);
    }

    /// @inheritdoc IStakeManager
    function stake(uint256 amount) external nonReentrant {
        _stake(amount);
    }

    /// @inheritdoc IStakeManager
    function stakeWithPermit(uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external nonReentrant {
        // A front-run permit (someone else submitted the same signature) leaves the allowance in place, so a
        // failing permit is only fatal when the allowance is still missing.
        try IERC20Permit(address(_token)).permit(msg.sender, address(this), amount, deadline, v, r, s) {} catch {}
        _stake(amount);
    }

    function _stake(uint256 amount) private {
        if (amount == 0) revert StakeZeroAmount();
        StakeInfo storage info = _stakes[msg.sender];
        info.staked += uint128(amount);
        _totalStaked += amount;
        emit Staked(msg.sender, amount, info.staked);
        _token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IStakeManager
    function requestUnbond(uint256 amount) external {
        if (amount == 0) revert StakeZeroAmount();
        StakeInfo storage info = _stakes[msg.sender];
        uint256 free = info.staked - info.locked;
        if (amount > free) revert StakeInsufficientFree(msg.sender, amount, free);
        // Safe: amount <= free <= staked, both fit in uint128.
        info.staked -= uint128(amount);
        info.unbonding += uint128(amount);
        uint64 readyAt = uint64(block.number) + _unbondingPeriodBlocks;
        info.unbondReadyAt = readyAt;
        _totalStaked -= amount;
        _totalUnbonding += amount;
        emit UnbondRequested(msg.sender, amount, info.unbonding, readyAt);
        _dropValidatorIfUnderstaked(msg.sender, info.staked);
    }

    /// @inheritdoc IStakeManager
    function withdraw() external nonReentrant returns (uint256 amount) {
        StakeInfo storage info = _stakes[msg.sender];
        amount = info.unbonding;
        if (amount == 0) revert StakeNothingToWithdraw(msg.sender);
        if (block.number < info.unbondReadyAt) {
            revert StakeUnbondingNotReady(msg.sender, info.unbondReadyAt, block.number);
        }
        info.unbonding = 0;
        _totalUnbonding -= amount;
        emit Withdrawn(msg.sender, amount);
        _token.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IStakeManager
    function registerValidator() external {
        if (_validatorPosition[msg.sender] != 0) revert StakeAlreadyValidator(msg.sender);
        uint256 staked = _stakes[msg.sender].staked;
        if (staked < _minValidatorStake) revert StakeTooLow(msg.sender, _minValidatorStake, staked);
        _validators.push(msg.sender);
        _validatorPosition[msg.sender] = _validators.length;
        emit ValidatorRegistered(msg.sender, _validators.length - 1);
    }

    /// @inheritdoc IStakeManager
    function deregisterValidator() external {
        if (_validatorPosition[msg.sender] == 0) revert StakeNotValidator(msg.sender);
        _removeValidator(msg.sender);
    }

    /// @inheritdoc IStakeManager
    function lockCollateral(address account, uint256 amount) external onlyProtocol {
        StakeInfo storage info = _stakes[account];
        uint256 free = info.staked - info.locked;
        if (amount > free) revert StakeInsufficientFree(account, amount, free);
        info.locked += uint128(amount);
        emit CollateralLocked(account, amount, info.locked);
    }

    /// @inheritdoc IStakeManager
    function unlockCollateral(address account, uint256 amount) external onlyProtocol {
        StakeInfo storage info = _stakes[account];
        if (amount > info.locked) revert StakeUnlockExceedsLocked(account, amount, info.locked);
        info.locked -= uint128(amount);
        emit CollateralUnlocked(account, amount, info.locked);
    }

    /// @inheritdoc IStakeManager
    function slash(address account, uint256 amount, address recipient)
        external
        onlyProtocol
        nonReentrant
        returns (uint256 slashed)
    {
        return _slash(account, amount, recipient);
    }

    /// @inheritdoc IStakeManager
    function slashCollateral(address account, uint256 collateral, uint256 shareBps, address recipient)
        external
        onlyProtocol
        nonReentrant
        returns (uint256 slashed)
    {
        StakeInfo storage info = _stakes[account];
        if (collateral > info.locked) revert StakeUnlockExceedsLocked(account, collateral, info.locked);
        // Safe: collateral <= locked.
        info.locked -= uint128(collateral);
        emit CollateralUnlocked(account, collateral, info.locked);
        uint256 staked = info.staked;
        uint256 rest = staked > collateral ? staked - collateral : 0;
        return _slash(account, collateral + rest * shareBps / 10_000, recipient);
    }

    function _slash(address account, uint256 amount, address recipient) private returns (uint256 slashed) {
        StakeInfo storage info = _stakes[account];
        // Step 1: take from bonded stake (the locked part included: collateral exists to be slashed).
        uint256 fromStake = amount < info.staked ? amount : info.staked;
        // Step 2: whatever is still owed comes out of unbonding funds, matured or not, so neither a pending
        // unbond nor a matured-but-unwithdrawn one escapes, and whatever is left stays withdrawable.
        uint256 rest = amount - fromStake;
        uint256 fromUnbonding = rest < info.unbonding ? rest : info.unbonding;
        // Safe: both are bounded by the uint128 fields they are subtracted from.
        info.staked -= uint128(fromStake);
        info.unbonding -= uint128(fromUnbonding);
        // Collateral can never exceed what is bonded; other open submissions keep what remains.
        if (info.locked > info.staked) info.locked = info.staked;
        _totalStaked -= fromStake;
        _totalUnbonding -= fromUnbonding;
        slashed = fromStake + fromUnbonding;
        emit Slashed(account, fromStake, fromUnbonding, recipient);
        _dropValidatorIfUnderstaked(account, info.staked);
        if (slashed != 0) _token.safeTransfer(recipient, slashed);
    }

    function _dropValidatorIfUnderstaked(address account, uint256 staked) private {
        if (staked < _minValidatorStake && _validatorPosition[account] != 0) _removeValidator(account);
    }

    /// @dev Swap-and-pop keeps removal O(1).
    function _removeValidator(address account) private {
        uint256 position = _validatorPosition[account];
        uint256 last = _validators.length;
        if (position != last) {
            address moved = _validators[last - 1];
            _validators[position - 1] = moved;
            _validatorPosition[moved] = position;
        }
        _validators.pop();
        delete _validatorPosition[account];
        emit ValidatorDeregistered(account);
    }

    /// @inheritdoc IStakeManager
    function stakeOf(address account) external view returns (StakeInfo memory) {
        return _stakes[account];
    }

    /// @inheritdoc IStakeManager
    function freeStakeOf(address account) external view returns (uint256) {
        StakeInfo storage info = _stakes[account];
        return info.staked - info.locked;
    }

    /// @inheritdoc IStakeManager
    function validatorCount() external view returns (uint256) {
        return _validators.length;
    }

    /// @inheritdoc IStakeManager
    function drawValidator(uint256 randomness) external view returns (address) {
        uint256 count = _validators.length;
        if (count == 0) revert StakeNoValidators();
        return _validators[randomness % count];
    }

    /// @inheritdoc IStakeManager
    function validatorAt(uint256 index) external view returns (address) {
        if (index >= _validators.length) revert StakeValidatorIndexOutOfRange(index, _validators.length);
        return _validators[index];
    }

    /// @inheritdoc IStakeManager
    function isValidator(address account) external view returns (bool) {
        return _validatorPosition[account] != 0;
    }

    /// @inheritdoc IStakeManager
    function minMinerStake() external view returns (uint256) {
        return _minMinerStake;
    }

    /// @inheritdoc IStakeManager
    function minValidatorStake() external view returns (uint256) {
        return _minValidatorStake;
    }

    /// @inheritdoc IStakeManager
    function unbondingPeriodBlocks() external view returns (uint64) {
        return _unbondingPeriodBlocks;
    }

    /// @inheritdoc IStakeManager
    function totals() external view returns (uint256, uint256) {
        return (_totalStaked, _totalUnbonding);
    }

    /// @notice The staking token.
    function token() external view returns (IERC20) {
        return _token;
    }

    /// @notice The protocol contract allowed to lock and slash.
    function protocol() external view returns (address) {
        return _protocol;
    }
}
