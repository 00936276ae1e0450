// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IJobTypes} from "./interfaces/IJobTypes.sol";
import {ILedgerLens} from "./interfaces/ILedgerLens.sol";
import {IStakeManager} from "./interfaces/IStakeManager.sol";
import {IWorkLedger} from "./interfaces/IWorkLedger.sol";
import {Sampling} from "./libraries/Sampling.sol";
import {Timelines} from "./libraries/Timelines.sol";

/// @title LedgerLens
/// @notice See ILedgerLens.
contract LedgerLens is ILedgerLens {
    IWorkLedger private immutable _ledger;
    IStakeManager private immutable _stakes;

    constructor(IWorkLedger ledger_, IStakeManager stakes_) {
        _ledger = ledger_;
        _stakes = stakes_;
    }

    /// @inheritdoc ILedgerLens
    function timelineOf(uint256 jobId, uint16 round, uint16 slot) public view returns (IWorkLedger.Timeline memory) {
        IWorkLedger.SubjectView memory v = _ledger.subjectOf(jobId, round, slot);
        return Timelines.compute(v.deadlineOrSubmittedAt, _ledger.jobParams(jobId).windows);
    }

    /// @inheritdoc ILedgerLens
    function auditStatus(uint256 jobId, uint16 round, uint16 slot) external view returns (bool known, bool audited) {
        IJobTypes.JobParams memory p = _ledger.jobParams(jobId);
        if (slot == p.slotsPerRound) return (true, true);
        bytes32 seed = _auditSeed(jobId, round, slot);
        if (seed == 0) return (false, false);
        return (true, Sampling.isAudited(seed, p.auditBps));
    }

    /// @inheritdoc ILedgerLens
    function sampledIntervals(uint256 jobId, uint16 round, uint16 slot) external view returns (uint32[] memory out) {
        bytes32 seed = _auditSeed(jobId, round, slot);
        if (seed == 0) return out;
        IJobTypes.JobParams memory p = _ledger.jobParams(jobId);
        out = new uint32[](p.sampledIntervals);
        for (uint256 j; j < out.length; ++j) {
            out[j] = uint32(Sampling.interval(seed, j, p.intervalsPerSlot));
        }
    }

    /// @inheritdoc ILedgerLens
    function seatHolder(uint256 jobId, uint16 round, uint16 slot, IWorkLedger.Panel panel, uint8 seat)
        external
        view
        returns (address)
    {
        IWorkLedger.SubjectView memory v = _ledger.subjectOf(jobId, round, slot);
        bytes32 seed = panel == IWorkLedger.Panel.Audit ? v.auditSeed : v.committeeSeed;
        if (seed == 0) {
            IWorkLedger.Timeline memory t = timelineOf(jobId, round, slot);
            seed = Sampling.seedFromBlock(panel == IWorkLedger.Panel.Audit ? t.seedBlock : t.disputeSeedBlock, v.key);
        }
        if (seed == 0 || _stakes.validatorCount() == 0) return address(0);
        return _stakes.drawValidator(Sampling.seatDraw(seed, uint8(panel), seat));
    }

    function _auditSeed(uint256 jobId, uint16 round, uint16 slot) private view returns (bytes32 seed) {
        IWorkLedger.SubjectView memory v = _ledger.subjectOf(jobId, round, slot);
        seed = v.auditSeed;
        if (seed == 0 && v.status != IWorkLedger.SlotStatus.Open && v.status != IWorkLedger.SlotStatus.Claimed) {
            seed = Sampling.seedFromBlock(timelineOf(jobId, round, slot).seedBlock, v.key);
        }
    }

    /// @inheritdoc ILedgerLens
    function verdictCommitment(
        bytes32 subject,
        IWorkLedger.Panel panel,
        uint8 seat,
        IWorkLedger.Verdict verdict,
        bytes32 evidenceDigest,
        bytes32 salt,
        address validator
    ) external view returns (bytes32) {
        return keccak256(
            abi.encode(block.chainid, address(_ledger), subject, panel, seat, verdict, evidenceDigest, salt, validator)
        );
    }

    /// @inheritdoc ILedgerLens
    function forcedErrorSeal(bytes32 subject, bytes32 salt) external view returns (bytes32) {
        return keccak256(abi.encode("crucible.forced-error", block.chainid, address(_ledger), subject, salt));
    }

    /// @inheritdoc ILedgerLens
    function checkpointLeaf(
        uint256 jobId,
        uint16 round,
        uint16 slot,
        address miner,
        uint256 index,
        bytes32 checkpointDigest,
        bytes32 traceDigest
    ) external pure returns (bytes32) {
        return keccak256(abi.encode(jobId, round, slot, miner, index, checkpointDigest, traceDigest));
    }
}
