// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient as ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IJobRegistry} from "./interfaces/IJobRegistry.sol";
import {IStakeManager} from "./interfaces/IStakeManager.sol";
import {IWorkLedger} from "./interfaces/IWorkLedger.sol";
import {Timelines} from "./libraries/Timelines.sol";

/// @title JobRegistry
/// @notice Validates and funds jobs, then hands them to the work ledger. Kept apart from the ledger so that each
/// contract stays under the EIP-170 code size limit; the ledger keeps its own copy of the (immutable) parameters,
/// because reading them across contracts would cost more gas than a whole verdict commit may.
contract JobRegistry is IJobRegistry, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @dev Hard bounds keep every loop in the ledger bounded by a small constant.
    uint8 public constant MAX_SAMPLED_INTERVALS = 8;
    uint8 public constant MAX_SEATS = 16;
    uint8 public constant MAX_COMMITTEE = 32;
    uint16 public constant MAX_SLOTS = 1_024;
    /// @dev A validator survives this many lost seats at the minimum stake.
    uint256 public constant VALIDATOR_SLASH_DIVISOR = 4;
    /// @dev A seat's slash is at most this many times its reward: the sponsor cannot make honest mistakes ruinous.
    uint256 public constant VALIDATOR_SLASH_PER_REWARD = 20;
    uint16 private constant BPS = 10_000;

    IERC20 private immutable _token;
    IStakeManager private immutable _stakes;
    IWorkLedger private immutable _ledger;
    address private immutable _vault;

    mapping(uint256 jobId => JobContent) private _contents;
    uint256 private _jobCount;

    constructor(IERC20 token_, IStakeManager stakes_, IWorkLedger ledger_, address vault_) {
        _token = token_;
        _stakes = stakes_;
        _ledger = ledger_;
        _vault = vault_;
    }

    /// @inheritdoc IJobRegistry
    function createJob(JobParams calldata params, JobContent calldata content, string calldata specCid)
        external
        nonReentrant
        returns (uint256 jobId)
    {
        return _createJob(params, content, specCid);
    }

    /// @inheritdoc IJobRegistry
    function createJobWithPermit(
        JobParams calldata params,
        JobContent calldata content,
        string calldata specCid,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external nonReentrant returns (uint256 jobId) {
        // A front-run permit leaves the allowance in place, so only a missing allowance is fatal (in transferFrom).
        try IERC20Permit(address(_token)).permit(msg.sender, address(this), requiredEscrow(params), deadline, v, r, s) {}
            catch {}
        return _createJob(params, content, specCid);
    }

    function _createJob(JobParams calldata params, JobContent calldata content, string calldata specCid)
        private
        returns (uint256 jobId)
    {
        _validate(params);
        uint256 escrow = requiredEscrow(params);
        jobId = ++_jobCount;
        _contents[jobId] = content;
        emit JobCreated(jobId, msg.sender, params.kind, escrow, specCid, params, content);
        // Interactions last: the escrow goes straight into the vault; the ledger records it and opens round 0.
        _token.safeTransferFrom(msg.sender, _vault, escrow);
        _ledger.registerJob(jobId, msg.sender, params, content.initialCheckpointDigest, content.plantRoot, escrow);
    }

    /// @inheritdoc IJobRegistry
    function requiredEscrow(JobParams calldata params) public pure returns (uint256) {
        uint256 seatRewards = uint256(params.seatsPerAudit) * params.validatorReward;
        // Every work slot and every aggregate may be audited, so the escrow covers a full panel for each. Re-audits
        // of rejected aggregates are paid from the rejected aggregator's slash (its collateral covers a panel).
        uint256 perRound = uint256(params.slotsPerRound) * (params.minerReward + seatRewards)
            + params.aggregatorReward + seatRewards;
        return perRound * params.numRounds + params.plantBond;
    }

    /// @inheritdoc IJobRegistry
    function longestResolution(Windows calldata w) public pure returns (uint256) {
        return Timelines.longestResolution(w);
    }

    /// @dev Every bound, with the parameter's name, so a refused creation says what to fix.
    function _validate(JobParams calldata p) private view {
        _range("numRounds", p.numRounds, 1, type(uint16).max);
        _range("slotsPerRound", p.slotsPerRound, 1, MAX_SLOTS);
        _range("intervalsPerSlot", p.intervalsPerSlot, 1, type(uint8).max);
        // Sampled intervals are distinct, so an audit can sample at most every interval.
        uint256 maxSampled = p.intervalsPerSlot < MAX_SAMPLED_INTERVALS ? p.intervalsPerSlot : MAX_SAMPLED_INTERVALS;
        _range("sampledIntervals", p.sampledIntervals, 1, maxSampled);
        // p = 0 would make every cheat pay: nothing would ever be checked.
        _range("auditBps", p.auditBps, 1, BPS);
        _range("seatsPerAudit", p.seatsPerAudit, 1, MAX_SEATS);
        _range("committeeSize", p.committeeSize, 1, MAX_COMMITTEE);
        _range("minerSlashBps", p.minerSlashBps, 0, BPS);
        _range("bountyBps", p.bountyBps, 0, BPS);
        // A rejected slot's auditors are paid from its miner's slash, so the collateral must cover a full panel.
        _range("minerCollateral", p.minerCollateral, uint256(p.seatsPerAudit) * p.validatorReward + 1, type(uint96).max);
        uint256 slashCap = _stakes.minValidatorStake() / VALIDATOR_SLASH_DIVISOR;
        uint256 rewardCap = uint256(p.validatorReward) * VALIDATOR_SLASH_PER_REWARD;
        _range("validatorSlash", p.validatorSlash, 1, slashCap < rewardCap ? slashCap : rewardCap);
        Windows calldata w = p.windows;
        _range("submitWindow", w.submitWindow, 1, type(uint32).max);
        _range("seedDelay", w.seedDelay, 1, type(uint32).max);
        _range("checkpointRevealWindow", w.checkpointRevealWindow, 1, type(uint32).max);
        _range("commitWindow", w.commitWindow, 1, type(uint32).max);
        _range("revealWindow", w.revealWindow, 1, type(uint32).max);
        _range("unsealWindow", w.unsealWindow, 1, type(uint32).max);
        _range("roundClaimWindow", w.roundClaimWindow, w.submitWindow, type(uint32).max);
        uint256 resolution = Timelines.longestResolution(w);
        uint256 unbonding = _stakes.unbondingPeriodBlocks();
        uint256 epoch = _stakes.epochBlocks();
        // A slash must be decided before the slashed stake can leave, and a running audit must never see the
        // validator set change under it (weights move two epochs after a change; one epoch must cover a resolution).
        if (resolution + 1 >= unbonding || resolution >= epoch) revert JobResolutionTooLong(resolution, unbonding, epoch);
    }

    function _range(string memory name, uint256 value, uint256 min, uint256 max) private pure {
        if (value < min || value > max) revert JobParamOutOfRange(name, value, min, max);
    }

    /// @inheritdoc IJobRegistry
    function jobContent(uint256 jobId) external view returns (JobContent memory) {
        if (jobId == 0 || jobId > _jobCount) revert JobUnknown(jobId);
        return _contents[jobId];
    }

    /// @inheritdoc IJobRegistry
    function jobCount() external view returns (uint256) {
        return _jobCount;
    }
}
