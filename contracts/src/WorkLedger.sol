// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IRewardVault} from "./interfaces/IRewardVault.sol";
import {IStakeManager} from "./interfaces/IStakeManager.sol";
import {IWorkLedger} from "./interfaces/IWorkLedger.sol";
import {LedgerStorage} from "./LedgerStorage.sol";
import {Commitments} from "./libraries/Commitments.sol";
import {PositionalMerkle} from "./libraries/PositionalMerkle.sol";
import {Sampling} from "./libraries/Sampling.sol";
import {SeatFlags} from "./libraries/SeatFlags.sol";

/// @title WorkLedger
/// @notice The hot path of the work ledger: jobs, claims, submissions, randomness, checkpoint reveals and verdict
/// commits and reveals. Seat draws, planted errors, settlement, vacating and refunds run in LedgerSettlement on this
/// contract's storage (delegatecall). Every function is O(1) in the number of participants; the only loops run over
/// the sampled intervals of one audit (at most 8) and the Merkle depth (at most 8).
contract WorkLedger is IWorkLedger, LedgerStorage {
    address private immutable _deployer;
    address private immutable _module;

    constructor(IRewardVault vault_, IStakeManager stakes_, address settlementModule_)
        LedgerStorage(vault_, stakes_)
    {
        _deployer = msg.sender;
        _module = settlementModule_;
    }

    // ---------------------------------------------------------------- jobs

    /// @inheritdoc IWorkLedger
    function bindRegistry(address registry) external {
        if (msg.sender != _deployer || _registry != address(0)) revert JobUnauthorizedRegistry(msg.sender);
        _registry = registry;
        emit RegistryBound(registry);
    }

    /// @inheritdoc IWorkLedger
    function registerJob(
        uint256 jobId,
        address sponsor,
        JobParams calldata params,
        bytes32 baseDigest,
        bytes32 plantRoot,
        uint256 escrow
    ) external {
        if (msg.sender != _registry) revert JobUnauthorizedRegistry(msg.sender);
        Job storage job = _jobs[jobId];
        job.sponsor = sponsor;
        job.status = JobStatus.Active;
        job.params = params;
        job.plantRoot = plantRoot;
        job.bondLeft = params.plantBond;
        Windows calldata w = params.windows;
        job.hot = Hot(
            w.submitWindow,
            w.seedDelay,
            w.checkpointRevealWindow,
            w.commitWindow,
            w.revealWindow,
            w.unsealWindow,
            w.roundClaimWindow,
            params.seatsPerAudit,
            params.committeeSize,
            params.slotsPerRound
        );
        emit JobRegistered(jobId, sponsor, escrow);
        Round storage r = _rounds[jobId][0];
        r.openedAt = uint64(block.number);
        r.baseDigest = baseDigest;
        emit RoundOpened(jobId, 0, baseDigest);
        _vault.recordEscrow(jobId, escrow);
    }

    /// @inheritdoc IWorkLedger
    function jobParams(uint256 jobId) external view returns (JobParams memory) {
        return _job(jobId).params;
    }

    /// @inheritdoc IWorkLedger
    function jobState(uint256 jobId) external view returns (address, JobStatus, uint16) {
        Job storage job = _job(jobId);
        return (job.sponsor, job.status, job.currentRound);
    }

    // ---------------------------------------------------------------- miners

    /// @inheritdoc IWorkLedger
    function claimSlot(uint256 jobId, uint16 round, uint16 slot) external {
        Job storage job = _job(jobId);
        if (job.status != JobStatus.Active) revert JobWrongStatus(jobId, job.status);
        if (round != job.currentRound) revert LedgerRoundNotOpen(jobId, round, job.currentRound);
        uint16 workSlots = job.hot.slotsPerRound;
        if (slot >= workSlots) {
            // The aggregation slot of a round is W + (aggregates rejected so far): a rejected aggregate's slot
            // stays settled for its seats, and the round gets a fresh one.
            Round storage r = _rounds[jobId][round];
            uint256 aggregationSlot = uint256(workSlots) + r.failedAggregates;
            if (slot != aggregationSlot) revert LedgerSlotOutOfRange(slot, aggregationSlot);
            if (r.settledSlots < workSlots) {
                revert LedgerRoundNotReadyForAggregation(jobId, round, r.settledSlots, workSlots);
            }
        }
        (bytes32 key, Subject storage s) = _load(jobId, round, slot);
        if (s.status != SlotStatus.Open) revert LedgerSlotTaken(key, s.miner);
        uint256 staked = _stakes.stakeOf(msg.sender).staked;
        uint256 minimum = _stakes.minMinerStake();
        if (staked < minimum) revert LedgerMinerStakeTooLow(msg.sender, minimum, staked);

        uint40 deadline = uint40(block.number + job.hot.submitWindow);
        s.miner = msg.sender;
        s.status = SlotStatus.Claimed;
        s.deadlineOrSubmittedAt = deadline;
        emit SlotClaimed(key, jobId, msg.sender, round, slot, deadline);
        _stakes.lockCollateral(msg.sender, job.params.minerCollateral);
    }

    /// @inheritdoc IWorkLedger
    function submit(
        uint256 jobId,
        uint16 round,
        uint16 slot,
        string calldata bundleCid,
        bytes32 resultDigest,
        bytes32 merkleRoot
    ) external {
        (bytes32 key, Subject storage s) = _load(jobId, round, slot);
        if (s.status != SlotStatus.Claimed) revert LedgerWrongStatus(key, s.status);
        if (msg.sender != s.miner) revert LedgerNotSlotMiner(key, msg.sender, s.miner);
        if (block.number > s.deadlineOrSubmittedAt) {
            revert LedgerDeadlinePassed(key, s.deadlineOrSubmittedAt, block.number);
        }
        Commitment memory c = Commitment(keccak256(bytes(bundleCid)), resultDigest, merkleRoot);
        s.commitment = keccak256(abi.encode(c));
        s.status = SlotStatus.Submitted;
        s.deadlineOrSubmittedAt = uint40(block.number);
        if (slot >= _jobs[jobId].hot.slotsPerRound) _pendingAggregate[jobId][round] = resultDigest;
        emit WorkSubmitted(key, jobId, msg.sender, round, slot, bundleCid, c);
    }

    /// @dev What a checkpoint leaf binds, gathered in memory to keep the stack shallow.
    struct LeafContext {
        bytes32 key;
        uint256 jobId;
        uint16 round;
        uint16 slot;
        address miner;
        bytes32 root;
        uint256 depth;
    }

    /// @inheritdoc IWorkLedger
    function revealCheckpoints(
        uint256 jobId,
        uint16 round,
        uint16 slot,
        Commitment calldata commitment,
        Boundary[] calldata boundaries,
        string[] calldata cids
    ) external {
        (bytes32 key, Subject storage s) = _load(jobId, round, slot);
        Job storage job = _jobs[jobId];
        _checkRevealable(key, s, job, slot, commitment);
        uint256 m = job.params.sampledIntervals;
        if (boundaries.length != 2 * m) revert LedgerBoundaryCount(2 * m, boundaries.length);
        if (cids.length < 2 * m || cids.length > 4 * m) revert LedgerBoundaryCount(2 * m, cids.length);
        uint256 intervals = job.params.intervalsPerSlot;
        LeafContext memory ctx = LeafContext(
            key, jobId, round, slot, msg.sender, commitment.merkleRoot, PositionalMerkle.depthFor(intervals + 1)
        );
        _verifyBoundaries(ctx, Sampling.intervals(s.auditSeed, m, intervals), boundaries);
        s.status = SlotStatus.CheckpointsRevealed;
        emit CheckpointsRevealed(key, msg.sender, boundaries, cids);
    }

    /// @dev The miner of a submitted, audited work slot, with the commitment's preimage, before the reveal deadline.
    function _checkRevealable(bytes32 key, Subject storage s, Job storage job, uint16 slot, Commitment calldata c)
        private
    {
        if (s.status != SlotStatus.Submitted) revert LedgerWrongStatus(key, s.status);
        if (msg.sender != s.miner) revert LedgerNotSlotMiner(key, msg.sender, s.miner);
        bytes32 supplied = keccak256(abi.encode(c));
        if (supplied != s.commitment) revert LedgerCommitmentMismatch(key, s.commitment, supplied);
        if (slot >= job.hot.slotsPerRound) revert LedgerWrongStatus(key, s.status); // aggregates have no checkpoints
        (SeedState state, uint256 readyAt) = _resolveSeed(key, s, job, false);
        if (state == SeedState.Pending) revert LedgerTooEarly(key, readyAt, block.number);
        if (state == SeedState.Failed) revert LedgerSeedFailed(key);
        if (s.flags & FLAG_AUDITED == 0) revert LedgerNotAudited(key);
        (Timeline memory t,,) = _timeline(s, job.hot, false);
        if (block.number > t.revealDeadline) revert LedgerDeadlinePassed(key, t.revealDeadline, block.number);
    }

    /// @dev Both ends of every sampled interval, in order, each proven at its index; and, since distinct intervals
    /// can share a boundary (the end of one is the start of the next) while the root commits one checkpoint per
    /// index, both revealed copies of a shared boundary must be the same.
    function _verifyBoundaries(LeafContext memory ctx, uint256[] memory sampled, Boundary[] calldata boundaries)
        private
        pure
    {
        for (uint256 j; j < sampled.length; ++j) {
            _verifyBoundary(ctx, boundaries[2 * j], sampled[j], 2 * j);
            _verifyBoundary(ctx, boundaries[2 * j + 1], sampled[j] + 1, 2 * j + 1);
        }
        for (uint256 a; a < boundaries.length; ++a) {
            for (uint256 b = a + 1; b < boundaries.length; ++b) {
                if (
                    boundaries[a].index == boundaries[b].index
                        && (
                            boundaries[a].checkpointDigest != boundaries[b].checkpointDigest
                                || boundaries[a].traceDigest != boundaries[b].traceDigest
                        )
                ) revert LedgerBoundaryConflict(ctx.key, boundaries[a].index);
            }
        }
    }

    function _verifyBoundary(LeafContext memory ctx, Boundary calldata b, uint256 expectedIndex, uint256 position)
        private
        pure
    {
        if (b.index != expectedIndex) revert LedgerWrongBoundary(position, expectedIndex, b.index);
        bytes32 leaf =
            Commitments.checkpointLeaf(ctx.jobId, ctx.round, ctx.slot, ctx.miner, b.index, b.checkpointDigest, b.traceDigest);
        if (!PositionalMerkle.verify(b.proof, ctx.root, leaf, b.index, ctx.depth)) {
            revert LedgerInvalidMerkleProof(ctx.key, b.index, b.proof.length, ctx.depth);
        }
    }

    // ---------------------------------------------------------------- randomness

    /// @inheritdoc IWorkLedger
    function recordRandomness() external {
        if (_randomness[block.number] != 0) return;
        bytes32 randomness = bytes32(block.prevrandao);
        // Chains without a beacon report zero (or a constant); there the parent hash is the best the chain offers.
        if (randomness == 0) randomness = keccak256(abi.encode(blockhash(block.number - 1), block.number));
        _randomness[block.number] = randomness;
        emit RandomnessRecorded(block.number, randomness);
    }

    /// @inheritdoc IWorkLedger
    function randomnessAt(uint256 blockNumber) external view returns (bytes32) {
        return _randomness[blockNumber];
    }

    /// @inheritdoc IWorkLedger
    function recordSeed(uint256 jobId, uint16 round, uint16 slot) external {
        (bytes32 key, Subject storage s) = _load(jobId, round, slot);
        _requireLive(key, s);
        Job storage job = _jobs[jobId];
        (SeedState state, uint256 readyAt) = _resolveSeed(key, s, job, slot >= job.hot.slotsPerRound);
        if (state == SeedState.Pending) revert LedgerTooEarly(key, readyAt, block.number);
    }

    // ---------------------------------------------------------------- validators

    /// @inheritdoc IWorkLedger
    function commitVerdict(uint256 jobId, uint16 round, uint16 slot, Panel panel, uint8 seat, bytes32 commitHash)
        external
    {
        // The seat's record, written when its panel was drawn, holds everything a commit checks: no subject or job
        // storage is read on this path.
        bytes32 key = _subjectKey(jobId, round, slot);
        SeatRecord storage record = _seats[_seatKey(key, panel, seat)];
        address holder = record.validator;
        if (msg.sender != holder) revert LedgerNotSeatHolder(key, panel, seat, msg.sender, holder);
        uint8 flags = record.flags;
        if (flags != SeatFlags.DRAWN) revert LedgerSeatNotCommittable(key, panel, seat, flags);
        if (block.number > record.commitEnd) revert LedgerDeadlinePassed(key, record.commitEnd, block.number);
        record.flags = flags | SeatFlags.COMMITTED;
        record.commitHash = commitHash;
        emit VerdictCommitted(key, msg.sender, panel, seat, commitHash);
    }

    /// @inheritdoc IWorkLedger
    function revealVerdict(
        uint256 jobId,
        uint16 round,
        uint16 slot,
        Panel panel,
        uint8 seat,
        VerdictReveal calldata reveal
    ) external {
        bytes32 key = _subjectKey(jobId, round, slot);
        SeatRecord storage record = _seats[_seatKey(key, panel, seat)];
        uint8 flags = record.flags;
        if (flags & SeatFlags.COMMITTED == 0) revert LedgerSeatNotCommitted(key, panel, seat);
        if (flags != SeatFlags.DRAWN | SeatFlags.COMMITTED) revert LedgerSeatAlreadyDone(key, panel, seat);
        if (block.number <= record.commitEnd) revert LedgerTooEarly(key, record.commitEnd + 1, block.number);
        if (block.number > record.revealEnd) revert LedgerDeadlinePassed(key, record.revealEnd, block.number);
        Verdict verdict = reveal.verdict;
        if (verdict != Verdict.Pass && verdict != Verdict.Fail) revert LedgerInvalidVerdict(uint8(verdict));
        address validator = record.validator;
        bytes32 expected =
            Commitments.verdict(address(this), key, panel, seat, verdict, reveal.evidenceDigest, reveal.salt, validator);
        if (expected != record.commitHash) revert LedgerVerdictMismatch(key, panel, seat, record.commitHash, expected);
        bool fail = verdict == Verdict.Fail;
        record.flags = flags | (fail ? SeatFlags.FAIL : SeatFlags.PASS);
        _tally(key, _subjects[key], panel, fail, record.attempt, validator, seat, reveal.evidenceDigest);
        emit VerdictRevealed(key, validator, panel, seat, verdict, reveal.evidenceDigest, reveal.evidenceCid);
    }

    /// @dev One vote per seat. The first reveal of a panel freezes which attempt decides (Timelines.effective).
    function _tally(
        bytes32 key,
        Subject storage s,
        Panel panel,
        bool fail,
        uint8 attempt,
        address validator,
        uint8 seat,
        bytes32 evidenceDigest
    ) private {
        if (panel == Panel.Audit) {
            if (uint256(s.auditPass) + s.auditFail == 0) s.auditAttempt = attempt;
            if (fail) {
                if (s.auditFail == 0) emit DisputeOpened(key, validator, seat, evidenceDigest);
                ++s.auditFail;
            } else {
                ++s.auditPass;
            }
        } else {
            if (uint256(s.committeePass) + s.committeeFail == 0) s.committeeAttempt = attempt;
            if (fail) ++s.committeeFail;
            else ++s.committeePass;
        }
    }

    // ---------------------------------------------------------------- the settlement module

    /// @inheritdoc IWorkLedger
    function drawSeats(uint256, uint16, uint16, Panel) external {
        _delegate();
    }

    /// @inheritdoc IWorkLedger
    function unsealPlant(uint256, uint16, uint16, bytes32, bytes32[] calldata) external {
        _delegate();
    }

    /// @inheritdoc IWorkLedger
    function settleSubmission(uint256, uint16, uint16) external {
        _delegate();
    }

    /// @inheritdoc IWorkLedger
    function settleSeat(uint256, uint16, uint16, Panel, uint8) external {
        _delegate();
    }

    /// @inheritdoc IWorkLedger
    function vacateSlot(uint256, uint16, uint16) external {
        _delegate();
    }

    /// @inheritdoc IWorkLedger
    function refundEscrow(uint256) external returns (uint256) {
        _delegate();
    }

    /// @dev Runs the current call's function in the settlement module on this contract's storage, and returns or
    /// reverts with whatever it returned or reverted with.
    function _delegate() private {
        address module = _module;
        assembly ("memory-safe") {
            let pointer := mload(0x40)
            calldatacopy(pointer, 0, calldatasize())
            let ok := delegatecall(gas(), module, pointer, calldatasize(), 0, 0)
            returndatacopy(pointer, 0, returndatasize())
            if iszero(ok) { revert(pointer, returndatasize()) }
            return(pointer, returndatasize())
        }
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IWorkLedger
    function subjectKey(uint256 jobId, uint16 round, uint16 slot) external pure returns (bytes32) {
        return _subjectKey(jobId, round, slot);
    }

    /// @inheritdoc IWorkLedger
    function extsload(bytes32 startSlot, uint256 nSlots) external view returns (bytes32[] memory values) {
        values = new bytes32[](nSlots);
        for (uint256 i; i < nSlots; ++i) {
            bytes32 value;
            assembly ("memory-safe") {
                value := sload(add(startSlot, i))
            }
            values[i] = value;
        }
    }

    /// @inheritdoc IWorkLedger
    function seatOf(bytes32 subject, Panel panel, uint8 seat) external view returns (Seat memory) {
        SeatRecord storage r = _seats[_seatKey(subject, panel, seat)];
        return Seat(r.validator, r.flags, r.commitEnd, r.revealEnd, r.attempt);
    }

    /// @inheritdoc IWorkLedger
    function seatCommitment(bytes32 subject, Panel panel, uint8 seat) external view returns (bytes32) {
        return _seats[_seatKey(subject, panel, seat)].commitHash;
    }

    /// @inheritdoc IWorkLedger
    function roundOf(uint256 jobId, uint16 round) external view returns (Round memory) {
        return _rounds[jobId][round];
    }

    /// @inheritdoc IWorkLedger
    function settlementModule() external view returns (address) {
        return _module;
    }
}
