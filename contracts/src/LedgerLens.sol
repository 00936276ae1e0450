// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IJobTypes} from "./interfaces/IJobTypes.sol";
import {ILedgerLens} from "./interfaces/ILedgerLens.sol";
import {IStakeManager} from "./interfaces/IStakeManager.sol";
import {IWorkLedger} from "./interfaces/IWorkLedger.sol";
import {Commitments} from "./libraries/Commitments.sol";
import {Sampling} from "./libraries/Sampling.sol";
import {Timelines} from "./libraries/Timelines.sol";

/// @title LedgerLens
/// @notice See ILedgerLens.
contract LedgerLens is ILedgerLens {
    /// @dev Storage slot of WorkLedger._subjects (see `forge inspect WorkLedger storageLayout`).
    uint256 public constant SUBJECTS_SLOT = 2;

    IWorkLedger private immutable _ledger;
    IStakeManager private immutable _stakes;

    constructor(IWorkLedger ledger_, IStakeManager stakes_) {
        _ledger = ledger_;
        _stakes = stakes_;
    }

    /// @inheritdoc ILedgerLens
    function subjectOf(uint256 jobId, uint16 round, uint16 slot) public view returns (IWorkLedger.SubjectView memory v) {
        bytes32 key = _ledger.subjectKey(jobId, round, slot);
        bytes32[] memory w = _ledger.extsload(keccak256(abi.encode(key, SUBJECTS_SLOT)), 6);
        uint256 w0 = uint256(w[0]);
        uint256 w3 = uint256(w[3]);
        v.key = key;
        // slot 0: miner (160 bits) | deadlineOrSubmittedAt (40) | status (8) | outcome (8) | flags (8)
        v.miner = address(uint160(w0));
        v.deadlineOrSubmittedAt = uint64(uint40(w0 >> 160));
        v.status = IWorkLedger.SlotStatus(uint8(w0 >> 200));
        v.outcome = IWorkLedger.Outcome(uint8(w0 >> 208));
        v.planted = uint8(w0 >> 216) & 1 != 0;
        v.commitment = w[1];
        v.auditSeed = w[2];
        // slot 3: four uint8 tallies | pendingLosers, winners, winnersPaid (uint16 each) | bountyEach (uint128)
        v.auditPass = uint8(w3);
        v.auditFail = uint8(w3 >> 8);
        v.committeePass = uint8(w3 >> 16);
        v.committeeFail = uint8(w3 >> 24);
        v.pendingLosers = uint16(w3 >> 32);
        v.winners = uint16(w3 >> 48);
        v.winnersPaid = uint16(w3 >> 64);
        // slot 4: committee weights; slot 5: slashedIntoPool | poolBalance
        v.committeePassWeight = uint128(uint256(w[4]));
        v.committeeFailWeight = uint128(uint256(w[4]) >> 128);
        v.poolBalance = uint128(uint256(w[5]) >> 128);
    }

    /// @inheritdoc ILedgerLens
    function timelineOf(uint256 jobId, uint16 round, uint16 slot) public view returns (IWorkLedger.Timeline memory) {
        IWorkLedger.SubjectView memory v = subjectOf(jobId, round, slot);
        return Timelines.compute(v.deadlineOrSubmittedAt, _ledger.jobParams(jobId).windows);
    }

    /// @inheritdoc ILedgerLens
    function auditStatus(uint256 jobId, uint16 round, uint16 slot) external view returns (bool known, bool audited) {
        IJobTypes.JobParams memory p = _ledger.jobParams(jobId);
        if (slot >= p.slotsPerRound) return (true, true);
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
        IWorkLedger.SubjectView memory v = subjectOf(jobId, round, slot);
        // Seats are drawn from the seed block's hash, which the ledger reads live during every commit window.
        IWorkLedger.Timeline memory t = timelineOf(jobId, round, slot);
        bytes32 seed =
            Sampling.seedFromBlock(panel == IWorkLedger.Panel.Audit ? t.seedBlock : t.disputeSeedBlock, v.key);
        if (seed == 0 || _stakes.validatorCount() == 0) return address(0);
        return _stakes.drawValidator(Sampling.seatDraw(seed, uint8(panel), seat));
    }

    function _auditSeed(uint256 jobId, uint16 round, uint16 slot) private view returns (bytes32 seed) {
        IWorkLedger.SubjectView memory v = subjectOf(jobId, round, slot);
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
        return Commitments.verdict(address(_ledger), subject, panel, seat, verdict, evidenceDigest, salt, validator);
    }

    /// @inheritdoc ILedgerLens
    function forcedErrorSeal(bytes32 subject, bytes32 salt) external view returns (bytes32) {
        return Commitments.forcedErrorSeal(address(_ledger), subject, salt);
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
        return Commitments.checkpointLeaf(jobId, round, slot, miner, index, checkpointDigest, traceDigest);
    }
}
