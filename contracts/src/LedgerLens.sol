// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IJobTypes} from "./interfaces/IJobTypes.sol";
import {ILedgerLens} from "./interfaces/ILedgerLens.sol";
import {ILedgerTypes} from "./interfaces/ILedgerTypes.sol";
import {IWorkLedger} from "./interfaces/IWorkLedger.sol";
import {Commitments} from "./libraries/Commitments.sol";
import {PositionalMerkle} from "./libraries/PositionalMerkle.sol";
import {Sampling} from "./libraries/Sampling.sol";
import {SeatFlags} from "./libraries/SeatFlags.sol";
import {Timelines} from "./libraries/Timelines.sol";

/// @title LedgerLens
/// @notice See ILedgerLens.
contract LedgerLens is ILedgerLens {
    /// @dev Storage slot of LedgerStorage._subjects (see `forge inspect WorkLedger storageLayout`).
    uint256 public constant SUBJECTS_SLOT = 2;
    // LedgerStorage's subject flags.
    uint8 private constant FLAG_PLANTED = 1;
    uint8 private constant FLAG_SEED_KNOWN = 2;
    uint8 private constant FLAG_AUDITED = 4;

    IWorkLedger private immutable _ledger;

    constructor(IWorkLedger ledger_) {
        _ledger = ledger_;
    }

    /// @inheritdoc ILedgerLens
    function subjectOf(uint256 jobId, uint16 round, uint16 slot) public view returns (ILedgerTypes.SubjectView memory v) {
        bytes32 key = _ledger.subjectKey(jobId, round, slot);
        bytes32[] memory w = _ledger.extsload(keccak256(abi.encode(key, SUBJECTS_SLOT)), 5);
        uint256 w0 = uint256(w[0]);
        uint256 w3 = uint256(w[3]);
        v.key = key;
        // slot 0: miner (160) | deadlineOrSubmittedAt (40) | status | outcome | flags | seedAttempt | auditDrawn |
        // committeeDrawn (8 each)
        v.miner = address(uint160(w0));
        v.deadlineOrSubmittedAt = uint64(uint40(w0 >> 160));
        v.status = ILedgerTypes.SlotStatus(uint8(w0 >> 200));
        v.outcome = ILedgerTypes.Outcome(uint8(w0 >> 208));
        v.flags = uint8(w0 >> 216);
        v.seedAttempt = uint8(w0 >> 224);
        v.auditDrawn = uint8(w0 >> 232);
        v.committeeDrawn = uint8(w0 >> 240);
        v.commitment = w[1];
        v.auditSeed = w[2];
        // slot 3: nine uint8 (tallies, pendingLosers, winners, winnersPaid, auditAttempt, committeeAttempt) |
        // bountyEach (88) | rewardEach (88)
        v.auditPass = uint8(w3);
        v.auditFail = uint8(w3 >> 8);
        v.committeePass = uint8(w3 >> 16);
        v.committeeFail = uint8(w3 >> 24);
        v.pendingLosers = uint8(w3 >> 32);
        v.winners = uint8(w3 >> 40);
        v.winnersPaid = uint8(w3 >> 48);
        v.auditAttempt = uint8(w3 >> 56);
        v.committeeAttempt = uint8(w3 >> 64);
        v.bountyEach = uint88(w3 >> 72);
        v.rewardEach = uint88(w3 >> 160);
        // slot 4: slashedIntoPool | poolBalance
        v.slashedIntoPool = uint128(uint256(w[4]));
        v.poolBalance = uint128(uint256(w[4]) >> 128);
    }

    /// @inheritdoc ILedgerLens
    function timelineOf(uint256 jobId, uint16 round, uint16 slot) public view returns (ILedgerTypes.Timeline memory t) {
        (t,,,) = _effective(jobId, round, slot);
    }

    /// @inheritdoc ILedgerLens
    function attemptsOf(uint256 jobId, uint16 round, uint16 slot) external view returns (uint8, uint8, uint8) {
        (, uint8 seedAttempt, uint8 audit, uint8 committee) = _effective(jobId, round, slot);
        return (seedAttempt, audit, committee);
    }

    function _effective(uint256 jobId, uint16 round, uint16 slot)
        private
        view
        returns (ILedgerTypes.Timeline memory t, uint8 seedAttempt, uint8 audit, uint8 committee)
    {
        ILedgerTypes.SubjectView memory v = subjectOf(jobId, round, slot);
        IJobTypes.JobParams memory p = _ledger.jobParams(jobId);
        (bool known, bool audited, uint8 attempt,) = _seed(v, p, slot);
        seedAttempt = attempt;
        bool isAggregate = slot >= p.slotsPerRound;
        bool panelsRun = known && audited && (isAggregate || v.status == ILedgerTypes.SlotStatus.CheckpointsRevealed);
        Timelines.Progress memory progress = Timelines.Progress({
            submittedAt: v.deadlineOrSubmittedAt,
            seedAttempt: seedAttempt,
            panelsRun: panelsRun,
            auditAttempt: v.auditAttempt,
            auditTallied: uint256(v.auditPass) + v.auditFail != 0,
            committeeAttempt: v.committeeAttempt,
            committeeTallied: uint256(v.committeePass) + v.committeeFail != 0
        });
        (t, audit, committee) = Timelines.effective(progress, block.number, p.windows);
    }

    /// @dev The audit seed as the ledger would fix it now (stored, or from the first seed try with randomness).
    /// `attempt` is the try in effect (the pending one while unknown).
    function _seed(ILedgerTypes.SubjectView memory v, IJobTypes.JobParams memory p, uint16 slot)
        private
        view
        returns (bool known, bool audited, uint8 attempt, bytes32 seed)
    {
        if (v.flags & FLAG_SEED_KNOWN != 0) return (true, v.flags & FLAG_AUDITED != 0, v.seedAttempt, v.auditSeed);
        if (v.status != ILedgerTypes.SlotStatus.Submitted && v.status != ILedgerTypes.SlotStatus.CheckpointsRevealed) {
            return (false, false, 0, 0);
        }
        for (uint256 k; k < Timelines.MAX_SEED_ATTEMPTS; ++k) {
            uint256 seedBlock = uint256(v.deadlineOrSubmittedAt) + uint256(p.windows.seedDelay) * (k + 1);
            // Safe cast: k < MAX_SEED_ATTEMPTS.
            attempt = uint8(k);
            bytes32 randomness = _ledger.randomnessAt(seedBlock);
            if (randomness == 0) {
                if (block.number <= seedBlock) return (false, false, attempt, 0);
                continue;
            }
            seed = Sampling.auditSeed(randomness, v.key);
            audited = slot >= p.slotsPerRound || k > 0 || Sampling.isAudited(seed, p.auditBps);
            return (true, audited, attempt, seed);
        }
    }

    /// @inheritdoc ILedgerLens
    function auditStatus(uint256 jobId, uint16 round, uint16 slot) external view returns (bool known, bool audited) {
        (known, audited,,) = _seed(subjectOf(jobId, round, slot), _ledger.jobParams(jobId), slot);
    }

    /// @inheritdoc ILedgerLens
    function sampledIntervals(uint256 jobId, uint16 round, uint16 slot) external view returns (uint32[] memory out) {
        IJobTypes.JobParams memory p = _ledger.jobParams(jobId);
        (bool known,,, bytes32 seed) = _seed(subjectOf(jobId, round, slot), p, slot);
        if (!known) return out;
        uint256[] memory picked = Sampling.intervals(seed, p.sampledIntervals, p.intervalsPerSlot);
        out = new uint32[](picked.length);
        for (uint256 j; j < picked.length; ++j) {
            // Safe cast: intervals are below intervalsPerSlot, a uint8.
            out[j] = uint32(picked[j]);
        }
    }

    /// @inheritdoc ILedgerLens
    function seatsOf(uint256 jobId, uint16 round, uint16 slot, ILedgerTypes.Panel panel)
        external
        view
        returns (uint256[] memory numbers, ILedgerTypes.Seat[] memory seats)
    {
        bytes32 key = _ledger.subjectKey(jobId, round, slot);
        IJobTypes.JobParams memory p = _ledger.jobParams(jobId);
        uint256 perAttempt = panel == ILedgerTypes.Panel.Audit ? p.seatsPerAudit : p.committeeSize;
        uint256 total = perAttempt * Timelines.MAX_PANEL_ATTEMPTS;
        numbers = new uint256[](total);
        seats = new ILedgerTypes.Seat[](total);
        uint256 found;
        for (uint256 n; n < total; ++n) {
            // Safe cast: total <= 32 * MAX_PANEL_ATTEMPTS < 256.
            ILedgerTypes.Seat memory seat = _ledger.seatOf(key, panel, uint8(n));
            if (seat.flags == 0) continue;
            numbers[found] = n;
            seats[found++] = seat;
        }
        assembly ("memory-safe") {
            mstore(numbers, found)
            mstore(seats, found)
        }
    }

    /// @inheritdoc ILedgerLens
    function randomnessBlocks(uint256 jobId, uint16 round, uint16 slot) external view returns (uint256[] memory blocks) {
        ILedgerTypes.SubjectView memory v = subjectOf(jobId, round, slot);
        if (v.status != ILedgerTypes.SlotStatus.Submitted && v.status != ILedgerTypes.SlotStatus.CheckpointsRevealed) {
            return blocks;
        }
        IJobTypes.Windows memory w = _ledger.jobParams(jobId).windows;
        uint256 tries = Timelines.MAX_SEED_ATTEMPTS;
        uint256 panels = Timelines.MAX_PANEL_ATTEMPTS;
        blocks = new uint256[](tries + 2 * panels - 1);
        for (uint256 k; k < tries; ++k) {
            blocks[k] = uint256(v.deadlineOrSubmittedAt) + uint256(w.seedDelay) * (k + 1);
        }
        // Re-draws follow the seed try in effect; committee draws follow the audit attempt in effect.
        (, uint8 seedAttempt, uint8 audit,) = _effective(jobId, round, slot);
        for (uint256 r = 1; r < panels; ++r) {
            blocks[tries + r - 1] = Timelines.compute(v.deadlineOrSubmittedAt, seedAttempt, r, 0, w).panelSeedBlock;
        }
        for (uint256 r; r < panels; ++r) {
            blocks[tries + panels - 1 + r] =
                Timelines.compute(v.deadlineOrSubmittedAt, seedAttempt, audit, r, w).committeeSeedBlock;
        }
    }

    /// @inheritdoc ILedgerLens
    function verdictCommitment(
        bytes32 subject,
        ILedgerTypes.Panel panel,
        uint8 seat,
        ILedgerTypes.Verdict verdict,
        bytes32 evidenceDigest,
        bytes32 salt,
        address validator
    ) external view returns (bytes32) {
        return Commitments.verdict(address(_ledger), subject, panel, seat, verdict, evidenceDigest, salt, validator);
    }

    /// @inheritdoc ILedgerLens
    function plantLeaf(uint16 round, uint16 slot, address sentinel, bytes32 salt) external pure returns (bytes32) {
        return Commitments.plantLeaf(round, slot, sentinel, salt);
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

    /// @inheritdoc ILedgerLens
    function merkleDepth(uint256 intervals) external pure returns (uint256) {
        return PositionalMerkle.depthFor(intervals + 1);
    }

    /// @inheritdoc ILedgerLens
    function intervalsFor(bytes32 seed, uint256 m, uint256 intervals) external pure returns (uint256[] memory) {
        return Sampling.intervals(seed, m, intervals);
    }

    /// @inheritdoc ILedgerLens
    function seatFlags() external pure returns (uint8, uint8, uint8, uint8, uint8) {
        return (SeatFlags.DRAWN, SeatFlags.COMMITTED, SeatFlags.PASS, SeatFlags.FAIL, SeatFlags.SETTLED);
    }
}
