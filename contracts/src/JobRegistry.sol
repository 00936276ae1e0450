// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient as ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IJobRegistry} from "./interfaces/IJobRegistry.sol";
import {IStakeManager} from "./interfaces/IStakeManager.sol";
import {IWorkLedger} from "./interfaces/IWorkLedger.sol";

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
        _ledger.registerJob(jobId, msg.sender, params, content.initialCheckpointDigest, escrow);
    }

    /// @inheritdoc IJobRegistry
    function requiredEscrow(JobParams calldata params) public pure returns (uint256) {
        uint256 seatRewards = uint256(params.seatsPerAudit) * params.validatorReward;
        // Every work slot and every aggregate may be audited, so the escrow covers a full panel for each.
        uint256 perRound = uint256(params.slotsPerRound) * (params.minerReward + seatRewards)
            + params.aggregatorReward + seatRewards;
        return perRound * params.numRounds;
    }

    /// @dev Each check names its parameter by a code so a failed creation points at the field to fix.
    function _validate(JobParams calldata p) private view {
        if (p.numRounds == 0) revert JobInvalidParams(1, p.numRounds);
        if (p.slotsPerRound == 0 || p.slotsPerRound == type(uint16).max) revert JobInvalidParams(2, p.slotsPerRound);
        if (p.intervalsPerSlot == 0) revert JobInvalidParams(3, p.intervalsPerSlot);
        if (p.sampledIntervals == 0 || p.sampledIntervals > MAX_SAMPLED_INTERVALS) {
            revert JobInvalidParams(4, p.sampledIntervals);
        }
        if (p.auditBps > BPS) revert JobInvalidParams(5, p.auditBps);
        if (p.seatsPerAudit == 0 || p.seatsPerAudit > MAX_SEATS) revert JobInvalidParams(6, p.seatsPerAudit);
        if (p.committeeSize == 0 || p.committeeSize > MAX_COMMITTEE) revert JobInvalidParams(7, p.committeeSize);
        if (p.minerSlashBps > BPS) revert JobInvalidParams(8, p.minerSlashBps);
        if (p.bountyBps > BPS) revert JobInvalidParams(9, p.bountyBps);
        if (p.minerCollateral == 0) revert JobInvalidParams(10, 0);
        Windows calldata w = p.windows;
        if (w.seedDelay == 0) revert JobInvalidParams(11, 0);
        if (w.submitWindow == 0 || w.checkpointRevealWindow == 0 || w.commitWindow == 0 || w.revealWindow == 0) {
            revert JobInvalidParams(12, 0);
        }
        // Seeds are read with blockhash, which reaches 256 blocks back. The ledger reads the seed block's hash live
        // while seats commit (cheaper than storing it), so every commit window must end within 255 blocks of it.
        uint256 auditCommitReach = uint256(w.checkpointRevealWindow) + w.commitWindow;
        if (auditCommitReach > 255) revert JobInvalidParams(13, auditCommitReach);
        uint256 resolution = longestResolution(w);
        uint256 unbonding = _stakes.unbondingPeriodBlocks();
        if (resolution >= unbonding) revert JobResolutionOutlastsUnbonding(resolution, unbonding);
    }

    /// @notice Blocks from a claim to the last block at which a slash for that claim can still be decided.
    function longestResolution(Windows calldata w) public pure returns (uint256) {
        uint256 audit = uint256(w.submitWindow) + w.seedDelay + w.checkpointRevealWindow + w.commitWindow
            + w.revealWindow + w.unsealWindow;
        uint256 dispute = uint256(w.seedDelay) + w.commitWindow + w.revealWindow;
        return audit + dispute;
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
