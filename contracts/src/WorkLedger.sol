// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ReentrancyGuardTransient as ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IRewardVault} from "./interfaces/IRewardVault.sol";
import {IStakeManager} from "./interfaces/IStakeManager.sol";
import {IWorkLedger} from "./interfaces/IWorkLedger.sol";
import {Commitments} from "./libraries/Commitments.sol";
import {Sampling} from "./libraries/Sampling.sol";
import {Timelines} from "./libraries/Timelines.sol";

/// @title WorkLedger
/// @notice Submissions, sampled audits, verdicts, disputes, forced errors, settlement and aggregation. See IWorkLedger
/// for the timeline. Every function is O(1) in the number of participants; the only loops run over the sampled
/// intervals of one audit, bounded by MAX_SAMPLED_INTERVALS.
contract WorkLedger is IWorkLedger, ReentrancyGuard {
    uint8 private constant FLAG_PLANTED = 1;

    uint8 private constant SEAT_COMMITTED = 1;
    uint8 private constant SEAT_PASS = 2;
    uint8 private constant SEAT_FAIL = 4;
    uint8 private constant SEAT_SETTLED = 8;

    /// @dev One slot's work. Field order packs the hot fields of a submission into few storage slots.
    struct Subject {
        // slot 0: written at claim, updated at submit and settlement
        address miner;
        uint40 deadlineOrSubmittedAt; // submit deadline while Claimed, submission block afterwards
        SlotStatus status;
        Outcome outcome;
        uint8 flags;
        // slot 1
        bytes32 commitment;
        // slot 2
        bytes32 auditSeed;
        // slot 3: tallies and payout bookkeeping
        uint8 auditPass;
        uint8 auditFail;
        uint8 committeePass;
        uint8 committeeFail;
        uint16 pendingLosers;
        uint16 winners;
        uint16 winnersPaid;
        uint128 bountyEach;
        // slot 4
        uint128 committeePassWeight;
        uint128 committeeFailWeight;
        // slot 5: this submission's share of the vault's pooled balance
        uint128 slashedIntoPool;
        uint128 poolBalance;
    }

    uint16 private constant BPS = 10_000;

    /// @dev The parameters every verdict call reads, packed into exactly one storage slot.
    struct Hot {
        uint32 submitWindow;
        uint32 seedDelay;
        uint32 checkpointRevealWindow;
        uint32 commitWindow;
        uint32 revealWindow;
        uint32 unsealWindow;
        uint32 roundClaimWindow;
        uint8 seatsPerAudit;
        uint8 committeeSize;
        uint16 slotsPerRound;
    }

    struct Job {
        address sponsor;
        JobStatus status;
        uint16 currentRound;
        Hot hot;
        JobParams params;
    }

    IRewardVault private immutable _vault;
    IStakeManager private immutable _stakes;
    address private immutable _deployer;
    address private _registry;

    mapping(uint256 jobId => Job) private _jobs;
    /// @dev Storage slot 2: LedgerLens decodes Subject records from here through `extsload` (layout pinned by
    /// LedgerLens.SUBJECTS_SLOT and checked by the story tests, which read every submission through the lens).
    mapping(bytes32 subject => Subject) private _subjects;
    mapping(bytes32 seatKey => Seat) private _seats;
    mapping(uint256 jobId => mapping(uint16 round => Round)) private _rounds;
    mapping(uint256 jobId => mapping(uint16 round => bytes32)) private _pendingAggregate;

    constructor(IRewardVault vault_, IStakeManager stakes_) {
        _vault = vault_;
        _stakes = stakes_;
        _deployer = msg.sender;
    }

    // ---------------------------------------------------------------- jobs

    /// @inheritdoc IWorkLedger
    function bindRegistry(address registry) external {
        if (msg.sender != _deployer || _registry != address(0)) revert JobUnauthorizedRegistry(msg.sender);
        _registry = registry;
        emit RegistryBound(registry);
    }

    /// @inheritdoc IWorkLedger
    function registerJob(uint256 jobId, address sponsor, JobParams calldata params, bytes32 baseDigest, uint256 escrow)
        external
    {
        if (msg.sender != _registry) revert JobUnauthorizedRegistry(msg.sender);
        Job storage job = _jobs[jobId];
        job.sponsor = sponsor;
        job.status = JobStatus.Active;
        job.params = params;
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
        _openRound(jobId, 0, baseDigest);
        _vault.recordEscrow(jobId, escrow);
    }

    /// @inheritdoc IWorkLedger
    function refundEscrow(uint256 jobId) external returns (uint256 amount) {
        Job storage job = _job(jobId);
        if (msg.sender != job.sponsor) revert JobNotSponsor(jobId, msg.sender);
        if (job.status != JobStatus.Completed) revert JobWrongStatus(jobId, job.status);
        amount = _vault.escrowOf(jobId);
        emit EscrowRefunded(jobId, msg.sender, amount);
        if (amount != 0) _vault.payFromEscrow(jobId, msg.sender, amount, "refund");
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

    function _job(uint256 jobId) private view returns (Job storage job) {
        job = _jobs[jobId];
        if (job.status == JobStatus.None) revert JobUnknown(jobId);
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
        bytes32 merkleRoot,
        bytes32 seal
    ) external {
        (bytes32 key, Subject storage s) = _load(jobId, round, slot);
        if (s.status != SlotStatus.Claimed) revert LedgerWrongStatus(key, s.status);
        if (msg.sender != s.miner) revert LedgerNotSlotMiner(key, msg.sender, s.miner);
        if (block.number > s.deadlineOrSubmittedAt) {
            revert LedgerDeadlinePassed(key, s.deadlineOrSubmittedAt, block.number);
        }
        Commitment memory c = Commitment(keccak256(bytes(bundleCid)), resultDigest, merkleRoot, seal);
        s.commitment = keccak256(abi.encode(c));
        s.status = SlotStatus.Submitted;
        s.deadlineOrSubmittedAt = uint40(block.number);
        if (slot >= _jobs[jobId].hot.slotsPerRound) _pendingAggregate[jobId][round] = resultDigest;
        emit WorkSubmitted(key, jobId, msg.sender, round, slot, bundleCid, c);
    }

    /// @inheritdoc IWorkLedger
    function recordSeed(uint256 jobId, uint16 round, uint16 slot) external {
        (bytes32 key, Subject storage s) = _load(jobId, round, slot);
        if (s.status != SlotStatus.Submitted && s.status != SlotStatus.CheckpointsRevealed) {
            revert LedgerWrongStatus(key, s.status);
        }
        if (s.auditSeed != 0) return;
        uint256 seedBlock = _timeline(s.deadlineOrSubmittedAt, _jobs[jobId].hot).seedBlock;
        if (_recordAuditSeed(key, s, seedBlock) == 0) _revertSeed(key, seedBlock);
    }

    /// @dev What a checkpoint leaf binds, gathered in memory to keep the stack shallow.
    struct LeafContext {
        bytes32 key;
        uint256 jobId;
        uint16 round;
        uint16 slot;
        address miner;
        bytes32 root;
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
        if (s.status != SlotStatus.Submitted) revert LedgerWrongStatus(key, s.status);
        if (msg.sender != s.miner) revert LedgerNotSlotMiner(key, msg.sender, s.miner);
        if (keccak256(abi.encode(commitment)) != s.commitment) revert LedgerCommitmentMismatch(key);
        Job storage job = _jobs[jobId];
        if (slot >= job.hot.slotsPerRound) revert LedgerWrongStatus(key, s.status); // aggregates have no checkpoints
        bytes32 seed = _auditSeedForReveal(key, s, job);
        uint256 m = job.params.sampledIntervals;
        if (boundaries.length != 2 * m || cids.length != 2 * m) revert LedgerBoundaryCount(2 * m, boundaries.length);
        LeafContext memory ctx = LeafContext(key, jobId, round, slot, msg.sender, commitment.merkleRoot);
        uint256 intervals = job.params.intervalsPerSlot;
        for (uint256 j; j < m; ++j) {
            uint256 start = Sampling.interval(seed, j, intervals);
            _verifyBoundary(ctx, boundaries[2 * j], start, 2 * j);
            _verifyBoundary(ctx, boundaries[2 * j + 1], start + 1, 2 * j + 1);
        }
        s.status = SlotStatus.CheckpointsRevealed;
        emit CheckpointsRevealed(key, msg.sender, boundaries, cids);
    }

    function _auditSeedForReveal(bytes32 key, Subject storage s, Job storage job) private returns (bytes32 seed) {
        Timeline memory t = _timeline(s.deadlineOrSubmittedAt, job.hot);
        if (block.number > t.revealDeadline) revert LedgerDeadlinePassed(key, t.revealDeadline, block.number);
        seed = s.auditSeed;
        if (seed == 0) seed = _recordAuditSeed(key, s, t.seedBlock);
        if (seed == 0) _revertSeed(key, t.seedBlock);
        if (!Sampling.isAudited(seed, job.params.auditBps)) revert LedgerNotAudited(key);
    }

    function _verifyBoundary(LeafContext memory ctx, Boundary calldata b, uint256 expectedIndex, uint256 position)
        private
        pure
    {
        if (b.index != expectedIndex) revert LedgerWrongBoundary(position, expectedIndex, b.index);
        bytes32 leaf =
            Commitments.checkpointLeaf(ctx.jobId, ctx.round, ctx.slot, ctx.miner, b.index, b.checkpointDigest, b.traceDigest);
        if (!MerkleProof.verifyCalldata(b.proof, ctx.root, leaf)) revert LedgerInvalidMerkleProof(ctx.key, b.index);
    }

    /// @inheritdoc IWorkLedger
    function unsealForcedError(uint256 jobId, uint16 round, uint16 slot, Commitment calldata commitment, bytes32 salt)
        external
    {
        (bytes32 key, Subject storage s) = _load(jobId, round, slot);
        if (s.status != SlotStatus.Submitted && s.status != SlotStatus.CheckpointsRevealed) {
            revert LedgerWrongStatus(key, s.status);
        }
        if (keccak256(abi.encode(commitment)) != s.commitment) revert LedgerCommitmentMismatch(key);
        if (commitment.seal != Commitments.forcedErrorSeal(address(this), key, salt)) revert LedgerSealMismatch(key);
        Job storage job = _jobs[jobId];
        Timeline memory t = _timeline(s.deadlineOrSubmittedAt, job.hot);
        bytes32 seed = s.auditSeed;
        if (seed == 0) seed = _recordAuditSeed(key, s, t.seedBlock);
        if (seed == 0) _revertSeed(key, t.seedBlock);
        bool audited = slot >= job.hot.slotsPerRound || Sampling.isAudited(seed, job.params.auditBps);
        // Unsealing before the audit verdicts are public would tell the auditors what to say; an unaudited plant
        // may be unsealed as soon as its seed is known, and must be before it could be accepted.
        if (audited) {
            if (block.number <= t.revealEnd) revert LedgerTooEarly(key, t.revealEnd + 1, block.number);
            if (block.number > t.unsealEnd) revert LedgerDeadlinePassed(key, t.unsealEnd, block.number);
        } else if (block.number > t.revealDeadline) {
            revert LedgerDeadlinePassed(key, t.revealDeadline, block.number);
        }
        s.flags |= FLAG_PLANTED;
        emit ForcedErrorUnsealed(key, msg.sender);
    }

    // ---------------------------------------------------------------- validators

    /// @inheritdoc IWorkLedger
    function commitVerdict(uint256 jobId, uint16 round, uint16 slot, Panel panel, uint8 seat, bytes32 commitHash)
        external
    {
        (bytes32 key, Subject storage s) = _load(jobId, round, slot);
        Hot storage hot = _jobs[jobId].hot;
        Timeline memory t = _timeline(s.deadlineOrSubmittedAt, hot);
        uint256 seats;
        uint256 seedBlock;
        if (panel == Panel.Audit) {
            _checkAuditCommit(key, s, slot >= hot.slotsPerRound, t);
            (seats, seedBlock) = (hot.seatsPerAudit, t.seedBlock);
        } else {
            _checkCommitteeCommit(key, s, t);
            (seats, seedBlock) = (hot.committeeSize, t.disputeSeedBlock);
        }
        if (seat >= seats) revert LedgerSeatOutOfRange(seat, seats);
        // Job creation bounds the windows so that the seed block's hash is visible for the whole commit window:
        // reading it costs 20 gas, where a stored seed would cost a 2,100-gas cold read on every commit.
        bytes32 seed = Sampling.seedFromBlock(seedBlock, key);
        address holder = _stakes.drawValidator(Sampling.seatDraw(seed, uint8(panel), seat));
        if (holder != msg.sender) revert LedgerNotSeatHolder(key, panel, seat, msg.sender, holder);
        Seat storage record = _seats[_seatKey(key, panel, seat)];
        if (record.flags != 0) revert LedgerSeatTaken(key, panel, seat);
        record.validator = msg.sender;
        record.flags = SEAT_COMMITTED;
        record.commitTag = uint88(uint256(commitHash));
        emit VerdictCommitted(key, msg.sender, panel, seat);
    }

    /// @dev The audit panel commits once the sampled checkpoints are public (an aggregate: once its seed block is
    /// mined), until the commit window closes.
    function _checkAuditCommit(bytes32 key, Subject storage s, bool isAggregate, Timeline memory t) private view {
        if (block.number > t.commitEnd) revert LedgerDeadlinePassed(key, t.commitEnd, block.number);
        SlotStatus needed = isAggregate ? SlotStatus.Submitted : SlotStatus.CheckpointsRevealed;
        if (s.status != needed) revert LedgerWrongStatus(key, s.status);
        if (block.number <= t.seedBlock) revert LedgerTooEarly(key, t.seedBlock + 1, block.number);
    }

    /// @dev The committee sits only on a disputed, unsettled, non-planted subject, drawn after every audit verdict
    /// and the unseal window are over, from a block hash nobody could know while voting on the audit.
    function _checkCommitteeCommit(bytes32 key, Subject storage s, Timeline memory t) private view {
        if (s.auditFail == 0 || s.flags & FLAG_PLANTED != 0) revert LedgerNoDispute(key);
        if (s.status != SlotStatus.Submitted && s.status != SlotStatus.CheckpointsRevealed) {
            revert LedgerWrongStatus(key, s.status);
        }
        if (block.number <= t.disputeSeedBlock) revert LedgerTooEarly(key, t.disputeSeedBlock + 1, block.number);
        if (block.number > t.disputeCommitEnd) revert LedgerDeadlinePassed(key, t.disputeCommitEnd, block.number);
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
        (bytes32 key, Subject storage s) = _load(jobId, round, slot);
        _checkRevealWindow(key, s, jobId, panel);
        address validator = _openSeat(key, panel, seat, reveal);
        bool fail = reveal.verdict == Verdict.Fail;
        if (panel == Panel.Audit && fail && s.auditFail == 0) {
            emit DisputeOpened(key, validator, seat, reveal.evidenceDigest);
        }
        uint256 weight = _tally(s, panel, fail, validator);
        emit VerdictRevealed(
            key, validator, panel, seat, reveal.verdict, reveal.evidenceDigest, reveal.evidenceCid, weight
        );
    }

    /// @dev Checks a reveal against the seat's commitment and records the verdict; returns the seat's validator.
    function _openSeat(bytes32 key, Panel panel, uint8 seat, VerdictReveal calldata reveal)
        private
        returns (address validator)
    {
        Seat storage record = _seats[_seatKey(key, panel, seat)];
        uint8 flags = record.flags;
        if (flags == 0) revert LedgerSeatNotCommitted(key, panel, seat);
        if (flags != SEAT_COMMITTED) revert LedgerSeatAlreadyDone(key, panel, seat);
        Verdict verdict = reveal.verdict;
        if (verdict != Verdict.Pass && verdict != Verdict.Fail) revert LedgerInvalidVerdict(uint8(verdict));
        validator = record.validator;
        bytes32 expected =
            Commitments.verdict(address(this), key, panel, seat, verdict, reveal.evidenceDigest, reveal.salt, validator);
        if (uint88(uint256(expected)) != record.commitTag) revert LedgerVerdictMismatch(key, panel, seat);
        record.flags = flags | (verdict == Verdict.Fail ? SEAT_FAIL : SEAT_PASS);
    }

    function _tally(Subject storage s, Panel panel, bool fail, address validator) private returns (uint256 weight) {
        if (panel == Panel.Audit) {
            if (fail) ++s.auditFail;
            else ++s.auditPass;
            return 1;
        }
        // Committee votes weigh by the stake the voter puts at risk when it votes.
        weight = _stakes.stakeOf(validator).staked;
        if (fail) {
            ++s.committeeFail;
            s.committeeFailWeight += uint128(weight);
        } else {
            ++s.committeePass;
            s.committeePassWeight += uint128(weight);
        }
    }

    function _checkRevealWindow(bytes32 key, Subject storage s, uint256 jobId, Panel panel) private view {
        Timeline memory t = _timeline(s.deadlineOrSubmittedAt, _jobs[jobId].hot);
        (uint256 opens, uint256 closes) =
            panel == Panel.Audit ? (t.commitEnd, t.revealEnd) : (t.disputeCommitEnd, t.disputeRevealEnd);
        if (block.number <= opens) revert LedgerTooEarly(key, opens + 1, block.number);
        if (block.number > closes) revert LedgerDeadlinePassed(key, closes, block.number);
    }

    // ---------------------------------------------------------------- settlement (anyone)

    /// @inheritdoc IWorkLedger
    function settleSubmission(uint256 jobId, uint16 round, uint16 slot) external nonReentrant {
        (bytes32 key, Subject storage s) = _load(jobId, round, slot);
        if (s.status != SlotStatus.Submitted && s.status != SlotStatus.CheckpointsRevealed) {
            revert LedgerWrongStatus(key, s.status);
        }
        bool isAggregate = slot >= _jobs[jobId].hot.slotsPerRound;
        // Step 1: decide, or say from which block a decision is possible.
        (Outcome outcome, uint256 readyAt) = _decide(key, s, _jobs[jobId], isAggregate);
        if (outcome == Outcome.None) revert LedgerTooEarly(key, readyAt, block.number);
        bool accepted = outcome == Outcome.Accepted;
        s.outcome = outcome;
        s.status = accepted ? SlotStatus.Accepted : SlotStatus.Rejected;
        // Steps 2 and 3: the miner's collateral and stake; the seats' winners and losers.
        (uint256 paid, uint256 slashed) = _settleMiner(key, s, jobId, isAggregate, outcome);
        emit SubmissionSettled(key, jobId, s.miner, outcome, paid, slashed);
        if (paid != 0) _vault.payFromEscrow(jobId, s.miner, paid, isAggregate ? bytes32("aggregate") : bytes32("work"));
        // Step 4: round progress.
        Round storage r = _rounds[jobId][round];
        if (isAggregate) {
            if (accepted) _completeRound(jobId, round, s.miner);
            else ++r.failedAggregates; // the round gets a fresh aggregation slot
        } else {
            ++r.settledSlots;
            if (accepted) ++r.acceptedSlots;
        }
    }

    /// @dev Releases the miner's collateral, slashes it with a slice of its stake if it cheated or withheld, and
    /// books the seats: audit winners' rewards move from the escrow into the subject's pool.
    function _settleMiner(bytes32 key, Subject storage s, uint256 jobId, bool isAggregate, Outcome outcome)
        private
        returns (uint256 paid, uint256 slashed)
    {
        JobParams storage p = _jobs[jobId].params;
        if (outcome == Outcome.RejectedCheat || outcome == Outcome.RejectedWithheld) {
            slashed = _stakes.slashCollateral(s.miner, p.minerCollateral, p.minerSlashBps, address(_vault));
            // Safe casts: a slash never exceeds the token supply, far below 2**128.
            s.slashedIntoPool += uint128(slashed);
            s.poolBalance += uint128(slashed);
            if (slashed != 0) _vault.fundPool(slashed);
        } else {
            _stakes.unlockCollateral(s.miner, p.minerCollateral);
        }
        bool accepted = outcome == Outcome.Accepted;
        _openPayouts(key, s, p, jobId, accepted);
        if (accepted) paid = isAggregate ? p.aggregatorReward : p.minerReward;
    }

    /// @dev Deterministic outcome of a submission from its timeline and tallies; `readyAt` when undecided.
    function _decide(bytes32 key, Subject storage s, Job storage job, bool isAggregate)
        private
        returns (Outcome, uint256 readyAt)
    {
        Timeline memory t = _timeline(s.deadlineOrSubmittedAt, job.hot);
        bytes32 seed = s.auditSeed;
        if (seed == 0) seed = _recordAuditSeed(key, s, t.seedBlock);
        if (seed == 0 && block.number <= t.seedBlock) return (Outcome.None, t.seedBlock + 1);
        bool planted = s.flags & FLAG_PLANTED != 0;
        // A seed nobody recorded while it was visible counts as "audited": silence never helps the miner.
        bool audited = seed == 0 || isAggregate || Sampling.isAudited(seed, job.params.auditBps);
        if (!audited || (!isAggregate && s.status != SlotStatus.CheckpointsRevealed)) {
            if (block.number <= t.revealDeadline) return (Outcome.None, t.revealDeadline + 1);
            if (planted) return (Outcome.RejectedPlanted, 0);
            return (audited ? Outcome.RejectedWithheld : Outcome.Accepted, 0);
        }
        if (block.number <= t.unsealEnd) return (Outcome.None, t.unsealEnd + 1);
        if (planted) return (Outcome.RejectedPlanted, 0);
        if (s.auditFail == 0) return (Outcome.Accepted, 0);
        if (block.number <= t.disputeRevealEnd) return (Outcome.None, t.disputeRevealEnd + 1);
        uint256 passWeight = s.committeePassWeight;
        uint256 failWeight = s.committeeFailWeight;
        // The committee decides by stake-weighted majority; ties go to the miner. A committee that never showed up
        // falls back to the audit panel's majority, so a dispute always ends.
        if (passWeight + failWeight != 0) return (failWeight > passWeight ? Outcome.RejectedCheat : Outcome.Accepted, 0);
        return (s.auditFail > s.auditPass ? Outcome.RejectedCheat : Outcome.Accepted, 0);
    }

    function _openPayouts(bytes32 key, Subject storage s, JobParams storage p, uint256 jobId, bool minerWon) private {
        uint256 auditWinners = minerWon ? s.auditPass : s.auditFail;
        uint256 committeeWinners = minerWon ? s.committeePass : s.committeeFail;
        uint256 losers = minerWon ? uint256(s.auditFail) + s.committeeFail : uint256(s.auditPass) + s.committeePass;
        // Safe casts: each count is at most MAX_SEATS + MAX_COMMITTEE.
        s.winners = uint16(auditWinners + committeeWinners);
        s.pendingLosers = uint16(losers);
        if (auditWinners != 0) {
            uint256 reserved = auditWinners * p.validatorReward;
            s.poolBalance += uint128(reserved);
            _vault.escrowToPool(jobId, reserved);
        }
        if (losers == 0) _fixBounty(s, p, jobId);
    }

    /// @dev Called once every losing seat is slashed: the bounty share per winner is final from here on.
    function _fixBounty(Subject storage s, JobParams storage p, uint256 jobId) private {
        uint256 winners = s.winners;
        if (winners == 0) {
            _closePool(s, jobId);
            return;
        }
        s.bountyEach = uint128(uint256(s.slashedIntoPool) * p.bountyBps / BPS / winners);
    }

    /// @dev Whatever is left of a settled submission's pool (non-bounty share, rounding dust) returns to the escrow.
    function _closePool(Subject storage s, uint256 jobId) private {
        uint256 rest = s.poolBalance;
        if (rest == 0) return;
        s.poolBalance = 0;
        _vault.poolToEscrow(jobId, rest);
    }

    function _completeRound(uint256 jobId, uint16 round, address aggregator) private {
        Job storage job = _jobs[jobId];
        Round storage r = _rounds[jobId][round];
        r.aggregated = true;
        bytes32 aggregate = _pendingAggregate[jobId][round];
        emit RoundAggregated(jobId, round, aggregate, aggregator);
        if (round + 1 == job.params.numRounds) {
            job.status = JobStatus.Completed;
            emit JobCompleted(jobId, aggregate);
        } else {
            job.currentRound = round + 1;
            _openRound(jobId, round + 1, aggregate);
        }
    }

    /// @inheritdoc IWorkLedger
    function settleSeat(uint256 jobId, uint16 round, uint16 slot, Panel panel, uint8 seat) external nonReentrant {
        bytes32 key = subjectKey(jobId, round, slot);
        Subject storage s = _subjects[key];
        if (s.outcome == Outcome.None) revert LedgerNotSettled(key);
        Seat storage record = _seats[_seatKey(key, panel, seat)];
        uint8 flags = record.flags;
        if (flags == 0) revert LedgerSeatNotCommitted(key, panel, seat);
        if (flags & SEAT_SETTLED != 0) revert LedgerSeatAlreadyDone(key, panel, seat);
        record.flags = flags | SEAT_SETTLED;
        address validator = record.validator;
        if (flags == SEAT_COMMITTED) {
            // Committed and never revealed: silence is failure. The slash goes to the job escrow, not the pool,
            // so the winners' shares never wait on a seat that may never be settled.
            uint256 slashed = _stakes.slash(validator, _jobs[jobId].params.validatorSlash, address(_vault));
            emit SeatSettled(key, validator, panel, seat, 0, slashed);
            if (slashed != 0) _vault.recordEscrow(jobId, slashed);
        } else if ((flags & SEAT_PASS != 0) == (s.outcome == Outcome.Accepted)) {
            _payWinner(key, s, jobId, validator, panel, seat);
        } else {
            _slashLoser(key, s, jobId, validator, panel, seat);
        }
    }

    function _payWinner(bytes32 key, Subject storage s, uint256 jobId, address validator, Panel panel, uint8 seat)
        private
    {
        if (s.pendingLosers != 0) revert LedgerBountyNotReady(key, s.pendingLosers);
        uint256 paid = s.bountyEach + (panel == Panel.Audit ? _jobs[jobId].params.validatorReward : 0);
        uint16 paidSoFar = ++s.winnersPaid;
        // Safe: the pool holds each audit winner's reward plus bountyBps of the slashes, split among the winners.
        s.poolBalance -= uint128(paid);
        emit SeatSettled(key, validator, panel, seat, paid, 0);
        if (paid != 0) _vault.payFromPool(validator, paid);
        // The last winner closes the pool: rounding dust and the non-bounty share go back to the escrow.
        if (paidSoFar == s.winners) _closePool(s, jobId);
    }

    function _slashLoser(bytes32 key, Subject storage s, uint256 jobId, address validator, Panel panel, uint8 seat)
        private
    {
        JobParams storage p = _jobs[jobId].params;
        uint256 slashed = _stakes.slash(validator, p.validatorSlash, address(_vault));
        s.slashedIntoPool += uint128(slashed);
        s.poolBalance += uint128(slashed);
        uint16 pending = --s.pendingLosers;
        emit SeatSettled(key, validator, panel, seat, 0, slashed);
        if (slashed != 0) _vault.fundPool(slashed);
        if (pending == 0) _fixBounty(s, p, jobId);
    }

    /// @inheritdoc IWorkLedger
    function vacateSlot(uint256 jobId, uint16 round, uint16 slot) external nonReentrant {
        (bytes32 key, Subject storage s) = _load(jobId, round, slot);
        Job storage job = _job(jobId);
        bool isAggregate = slot >= job.hot.slotsPerRound;
        Round storage r = _rounds[jobId][round];
        uint256 slashed;
        address miner = s.miner;
        if (s.status == SlotStatus.Open) {
            // An unclaimed work slot of the open round, past the round's claim window.
            if (isAggregate || round != job.currentRound || job.status != JobStatus.Active) {
                revert LedgerWrongStatus(key, s.status);
            }
            uint256 closes = r.openedAt + job.hot.roundClaimWindow;
            if (block.number <= closes) revert LedgerTooEarly(key, closes + 1, block.number);
        } else if (s.status == SlotStatus.Claimed) {
            uint256 deadline = s.deadlineOrSubmittedAt;
            if (block.number <= deadline) revert LedgerTooEarly(key, deadline + 1, block.number);
            uint256 collateral = job.params.minerCollateral;
            _stakes.unlockCollateral(miner, collateral);
            slashed = _stakes.slash(miner, collateral, address(_vault));
        } else {
            revert LedgerWrongStatus(key, s.status);
        }
        s.status = SlotStatus.Vacated;
        emit SlotVacated(key, jobId, miner, slashed);
        if (slashed != 0) _vault.recordEscrow(jobId, slashed);
        if (isAggregate) ++r.failedAggregates;
        else ++r.settledSlots;
    }

    // ---------------------------------------------------------------- internals

    function _openRound(uint256 jobId, uint16 round, bytes32 baseDigest) private {
        Round storage r = _rounds[jobId][round];
        r.openedAt = uint64(block.number);
        r.baseDigest = baseDigest;
        emit RoundOpened(jobId, round, baseDigest);
    }

    function _load(uint256 jobId, uint16 round, uint16 slot) private view returns (bytes32 key, Subject storage s) {
        key = subjectKey(jobId, round, slot);
        s = _subjects[key];
    }

    function _recordAuditSeed(bytes32 key, Subject storage s, uint256 seedBlock) private returns (bytes32 seed) {
        seed = Sampling.seedFromBlock(seedBlock, key);
        if (seed != 0) {
            s.auditSeed = seed;
            emit SeedRecorded(key, seed);
        }
    }

    function _revertSeed(bytes32 key, uint256 seedBlock) private view {
        if (block.number <= seedBlock) revert LedgerTooEarly(key, seedBlock + 1, block.number);
        revert LedgerSeedUnavailable(key, seedBlock);
    }

    function _timeline(uint256 submittedAt, Hot storage h) private view returns (Timeline memory) {
        return Timelines.compute(
            submittedAt,
            Windows(
                h.submitWindow,
                h.seedDelay,
                h.checkpointRevealWindow,
                h.commitWindow,
                h.revealWindow,
                h.unsealWindow,
                h.roundClaimWindow
            )
        );
    }

    function _seatKey(bytes32 key, Panel panel, uint8 seat) private pure returns (bytes32) {
        return keccak256(abi.encode(key, panel, seat));
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IWorkLedger
    function subjectKey(uint256 jobId, uint16 round, uint16 slot) public pure returns (bytes32) {
        return keccak256(abi.encode(jobId, round, slot));
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
        return _seats[_seatKey(subject, panel, seat)];
    }

    /// @inheritdoc IWorkLedger
    function roundOf(uint256 jobId, uint16 round) external view returns (Round memory) {
        return _rounds[jobId][round];
    }
}
