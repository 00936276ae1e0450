// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient as ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IStakeManager} from "./interfaces/IStakeManager.sol";
import {Sampling} from "./libraries/Sampling.sol";
import {SortitionTree} from "./libraries/SortitionTree.sol";

/// @title StakeManager
/// @notice Stakes, unbonding, per-slot collateral, slashing and the stake-weighted validator set; see IStakeManager.
/// Every function is O(1) or O(log n) in the number of validators (the sortition tree has constant depth).
contract StakeManager is IStakeManager, ReentrancyGuard {
    using SafeERC20 for IERC20;
    using SortitionTree for SortitionTree.Tree;

    uint256 private constant BPS = 10_000;
    /// @dev Draw weights count whole tokens: 1 weight unit per 1e18 wei of bonded stake.
    uint256 private constant WEIGHT_UNIT = 1e18;
    /// @dev Weight changes take effect this many epochs after the epoch they were made in.
    uint256 private constant ACTIVATION_EPOCHS = 2;

    IERC20 private immutable _token;
    address private immutable _deployer;
    uint256 private immutable _minMinerStake;
    uint256 private immutable _minValidatorStake;
    uint64 private immutable _unbondingPeriodBlocks;
    uint64 private immutable _epochBlocks;

    address private _protocol;
    mapping(address account => StakeInfo) private _stakes;
    SortitionTree.Tree private _tree;
    uint256 private _validatorCount;
    uint256 private _totalStaked;
    uint256 private _totalUnbonding;

    constructor(
        IERC20 token_,
        uint256 minMinerStake_,
        uint256 minValidatorStake_,
        uint64 unbondingPeriodBlocks_,
        uint64 epochBlocks_
    ) {
        // A validator drawn in the last block before its unbond took effect may have to answer for that seat for
        // one more epoch (the registry keeps every job's resolution under one epoch): unbonding must outlast it.
        if (epochBlocks_ == 0 || unbondingPeriodBlocks_ <= 3 * uint256(epochBlocks_)) {
            revert StakeInvalidConfig(unbondingPeriodBlocks_, epochBlocks_);
        }
        _token = token_;
        _deployer = msg.sender;
        _minMinerStake = minMinerStake_;
        _minValidatorStake = minValidatorStake_;
        _unbondingPeriodBlocks = unbondingPeriodBlocks_;
        _epochBlocks = epochBlocks_;
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

    // ---------------------------------------------------------------- staking

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
        info.staked += SafeCast.toUint128(amount);
        _totalStaked += amount;
        emit Staked(msg.sender, amount, info.staked);
        _reweigh(msg.sender, info);
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
        _reweigh(msg.sender, info);
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

    // ---------------------------------------------------------------- the validator set

    /// @inheritdoc IStakeManager
    function registerValidator(uint32[] calldata deviceClasses) external {
        StakeInfo storage info = _stakes[msg.sender];
        if (info.registered) revert StakeAlreadyValidator(msg.sender);
        if (info.staked < _minValidatorStake) revert StakeTooLow(msg.sender, _minValidatorStake, info.staked);
        if (info.leaf == 0) info.leaf = uint32(_takeLeaf(msg.sender) + 1);
        info.registered = true;
        ++_validatorCount;
        uint256 epoch = _reweigh(msg.sender, info);
        emit ValidatorRegistered(msg.sender, info.leaf - 1, epoch, deviceClasses);
    }

    /// @inheritdoc IStakeManager
    function deregisterValidator() external {
        StakeInfo storage info = _stakes[msg.sender];
        if (!info.registered) revert StakeNotValidator(msg.sender);
        info.registered = false;
        --_validatorCount;
        uint256 epoch = _reweigh(msg.sender, info);
        // Its weight is zero from `epoch` on; draws read the current or the previous epoch, so one epoch later no
        // draw can reach a weight it still had, and the leaf may go to someone else.
        _tree.retire(info.leaf - 1, epoch + 1);
        emit ValidatorDeregistered(msg.sender, epoch);
    }

    /// @dev A fresh leaf while the tree has room, else the oldest retired one (so a full tree of departed accounts
    /// can never lock newcomers out).
    function _takeLeaf(address account) private returns (uint256) {
        if (_tree.leaves < SortitionTree.CAPACITY) return _tree.addLeaf(account);
        (bool found, uint256 leaf, address previous) = _tree.reuse(account, currentEpoch(), _stillRetired);
        if (!found) revert StakeValidatorSetFull(SortitionTree.CAPACITY);
        _stakes[previous].leaf = 0;
        return leaf;
    }

    /// @dev Whether `owner` still holds `leaf` without being registered (it may have come back since it retired).
    function _stillRetired(address owner, uint256 leaf) private view returns (bool) {
        StakeInfo storage info = _stakes[owner];
        return !info.registered && info.leaf == leaf + 1;
    }

    /// @dev Schedules the account's draw weight for two epochs from now (a no-op for accounts never registered).
    /// Returns the epoch it takes effect in.
    function _reweigh(address account, StakeInfo storage info) private returns (uint256 epoch) {
        epoch = currentEpoch() + ACTIVATION_EPOCHS;
        if (info.leaf == 0) return epoch;
        uint256 weight;
        if (info.registered && info.staked >= _minValidatorStake) weight = info.staked / WEIGHT_UNIT;
        if (_tree.set(info.leaf - 1, weight, epoch)) emit ValidatorWeightScheduled(account, weight, epoch);
    }

    /// @inheritdoc IStakeManager
    function drawValidators(uint256 epoch, bytes32 seed, uint256 count, address exclude, uint256 minAtRisk)
        external
        view
        returns (address[] memory drawn)
    {
        uint256 current = currentEpoch();
        if (epoch > current || epoch + 1 < current) revert StakeEpochUnavailable(epoch, current);
        drawn = new address[](count);
        uint256 total = _tree.totalAt(epoch);
        uint256 found;
        if (total != 0) {
            // Rejection sampling without replacement: each try is an independent stake-weighted draw; a repeat, the
            // subject's miner, or an account that could not pay a seat's slash is skipped. Bounded: a set with
            // fewer eligible validators than seats leaves the rest of the panel empty.
            uint256 tries = 4 * count + 8;
            for (uint256 t; t < tries && found < count; ++t) {
                address candidate = _tree.accountAt(_tree.find(Sampling.drawRandomness(seed, t) % total, epoch));
                if (candidate == exclude || _atRisk(_stakes[candidate]) < minAtRisk || _contains(drawn, found, candidate)) {
                    continue;
                }
                drawn[found++] = candidate;
            }
        }
        assembly ("memory-safe") {
            mstore(drawn, found)
        }
    }

    function _contains(address[] memory list, uint256 length, address account) private pure returns (bool) {
        for (uint256 i; i < length; ++i) {
            if (list[i] == account) return true;
        }
        return false;
    }

    // ---------------------------------------------------------------- collateral and slashing

    /// @inheritdoc IStakeManager
    function lockCollateral(address account, uint256 amount) external onlyProtocol {
        StakeInfo storage info = _stakes[account];
        uint256 free = info.staked - info.locked;
        if (amount > free) revert StakeInsufficientFree(account, amount, free);
        // Safe: amount <= free, which fits in uint128.
        info.locked += uint128(amount);
        emit CollateralLocked(account, amount, info.locked);
        // Unbonding funds answer for this slot too: whatever is unbonding now cannot leave before this slot's
        // longest resolution (shorter than the unbonding period) is over.
        uint64 readyAt = uint64(block.number) + _unbondingPeriodBlocks;
        if (info.unbonding != 0 && info.unbondReadyAt < readyAt) {
            info.unbondReadyAt = readyAt;
            emit UnbondingExtended(account, readyAt);
        }
    }

    /// @inheritdoc IStakeManager
    function unlockCollateral(address account, uint256 amount) external onlyProtocol {
        StakeInfo storage info = _stakes[account];
        uint256 released = _collateral(account, info, amount);
        // Safe: released <= locked.
        info.locked -= uint128(released);
        emit CollateralUnlocked(account, released, info.locked);
    }

    /// @inheritdoc IStakeManager
    function slash(address account, uint256 amount, address recipient)
        external
        onlyProtocol
        nonReentrant
        returns (uint256 slashed)
    {
        StakeInfo storage info = _stakes[account];
        slashed = _slashFree(account, info, amount, recipient);
        _reweigh(account, info);
        if (slashed != 0) _token.safeTransfer(recipient, slashed);
    }

    /// @inheritdoc IStakeManager
    function slashCollateral(address account, uint256 collateral, uint256 shareBps, address recipient)
        external
        onlyProtocol
        nonReentrant
        returns (uint256 slashed)
    {
        StakeInfo storage info = _stakes[account];
        // Step 1: this slot's collateral, which is locked and therefore bonded.
        uint256 taken = _collateral(account, info, collateral);
        // Safe: taken <= locked <= staked.
        info.locked -= uint128(taken);
        info.staked -= uint128(taken);
        _totalStaked -= taken;
        emit CollateralSlashed(account, taken, info.locked, recipient);
        // Step 2: a share of what is free or unbonding (the collateral of other open slots is never touched).
        uint256 share = (uint256(info.staked - info.locked) + info.unbonding) * shareBps / BPS;
        slashed = taken + _slashFree(account, info, share, recipient);
        _reweigh(account, info);
        if (slashed != 0) _token.safeTransfer(recipient, slashed);
    }

    /// @dev min(amount, locked), loudly: with collateral isolated per slot the shortfall branch never runs, but an
    /// open slot must always be settleable.
    function _collateral(address account, StakeInfo storage info, uint256 amount) private returns (uint256) {
        if (amount <= info.locked) return amount;
        emit CollateralShortfall(account, amount, info.locked);
        return info.locked;
    }

    /// @dev Takes up to `amount` from free bonded stake, then from unbonding funds (matured or not); emits Slashed.
    function _slashFree(address account, StakeInfo storage info, uint256 amount, address recipient)
        private
        returns (uint256)
    {
        uint256 free = info.staked - info.locked;
        uint256 fromStake = amount < free ? amount : free;
        uint256 rest = amount - fromStake;
        uint256 fromUnbonding = rest < info.unbonding ? rest : info.unbonding;
        // Safe: both are bounded by the uint128 fields they are subtracted from.
        info.staked -= uint128(fromStake);
        info.unbonding -= uint128(fromUnbonding);
        _totalStaked -= fromStake;
        _totalUnbonding -= fromUnbonding;
        emit Slashed(account, fromStake, fromUnbonding, recipient);
        return fromStake + fromUnbonding;
    }

    function _atRisk(StakeInfo storage info) private view returns (uint256) {
        return uint256(info.staked - info.locked) + info.unbonding;
    }

    // ---------------------------------------------------------------- views

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
    function atRiskOf(address account) external view returns (uint256) {
        return _atRisk(_stakes[account]);
    }

    /// @inheritdoc IStakeManager
    function weightAt(address account, uint256 epoch) external view returns (uint256) {
        uint32 leaf = _stakes[account].leaf;
        return leaf == 0 ? 0 : _tree.leafAt(leaf - 1, epoch);
    }

    /// @inheritdoc IStakeManager
    function totalWeightAt(uint256 epoch) external view returns (uint256) {
        return _tree.totalAt(epoch);
    }

    /// @inheritdoc IStakeManager
    function epochOf(uint256 blockNumber) public view returns (uint256) {
        return blockNumber / _epochBlocks + 1;
    }

    /// @inheritdoc IStakeManager
    function currentEpoch() public view returns (uint256) {
        return epochOf(block.number);
    }

    /// @inheritdoc IStakeManager
    function epochBlocks() external view returns (uint64) {
        return _epochBlocks;
    }

    /// @inheritdoc IStakeManager
    function validatorCount() external view returns (uint256) {
        return _validatorCount;
    }

    /// @inheritdoc IStakeManager
    function isValidator(address account) external view returns (bool) {
        return _stakes[account].registered;
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
