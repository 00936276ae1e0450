// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IJobTypes} from "./IJobTypes.sol";

/// @title Work ledger
/// @notice Slots, submissions, sampled audits, commit-reveal verdicts, disputes, forced errors, settlement and round
/// aggregation. A "subject" is one slot's work: key = keccak256(abi.encode(jobId, round, slot)). Slots 0..W-1 of a
/// round are work slots; slot W + (aggregates rejected so far) is its aggregation slot: the aggregator's result is
/// the next base checkpoint, and it is always audited, so a wrong aggregate is caught like any other cheat.
///
/// Timeline of a submission made at block S (w = the job's windows):
///   seedBlock = S + w.seedDelay            audit seed = blockhash(seedBlock); decides audit, intervals, seats
///   revealDeadline = seedBlock + w.checkpointRevealWindow   miner reveals the sampled checkpoints by then
///   commitEnd = revealDeadline + w.commitWindow             audit seats commit verdict hashes
///   revealEnd = commitEnd + w.revealWindow                  audit seats reveal
///   unsealEnd = revealEnd + w.unsealWindow                  a sentinel may unseal a planted forced error
///   disputeSeedBlock = unsealEnd + w.seedDelay              fresh randomness draws the dispute committee
///   disputeCommitEnd = disputeSeedBlock + w.commitWindow, disputeRevealEnd = disputeCommitEnd + w.revealWindow
interface IWorkLedger is IJobTypes {
    /// @notice Status of a subject.
    enum SlotStatus {
        Open,
        Claimed,
        Submitted,
        CheckpointsRevealed,
        Accepted,
        Rejected,
        Vacated
    }

    /// @notice How a submission was settled.
    enum Outcome {
        None,
        Accepted,
        RejectedCheat, // the verdict found the work wrong
        RejectedPlanted, // a planted forced error; the sentinel is not slashed
        RejectedWithheld // the miner did not reveal the sampled checkpoints in time
    }

    /// @notice Which panel a seat belongs to.
    enum Panel {
        Audit,
        Committee
    }

    /// @notice A validator's verdict on a subject.
    enum Verdict {
        None,
        Pass,
        Fail
    }

    /// @notice The preimage of a submission's on-chain commitment.
    struct Commitment {
        bytes32 bundleCidHash; // keccak256 of the bundle CID string
        bytes32 resultDigest; // sha256 of the result checkpoint
        bytes32 merkleRoot; // root over checkpoint-boundary leaves
        bytes32 seal; // random for honest work; keccak of a sealed tag for a planted forced error
    }

    /// @notice One revealed checkpoint boundary with its Merkle proof.
    struct Boundary {
        uint32 index;
        bytes32 checkpointDigest;
        bytes32 traceDigest;
        bytes32[] proof;
    }

    /// @notice What a validator reveals for a committed verdict.
    struct VerdictReveal {
        Verdict verdict;
        bytes32 evidenceDigest; // sha256 of the evidence bundle (replay report)
        bytes32 salt;
        string evidenceCid; // where the evidence bundle is pinned
    }

    /// @notice One seat's record. `flags` bits: 1 committed, 2 revealed Pass, 4 revealed Fail, 8 settled.
    struct Seat {
        address validator;
        uint8 flags;
        uint88 commitTag; // low 88 bits of the verdict commitment hash
    }

    /// @notice Everything a party needs to know about a subject, for off-chain tooling.
    struct SubjectView {
        bytes32 key;
        SlotStatus status;
        Outcome outcome;
        address miner;
        uint64 deadlineOrSubmittedAt;
        bytes32 commitment;
        bytes32 auditSeed;
        uint8 auditPass;
        uint8 auditFail;
        uint8 committeePass;
        uint8 committeeFail;
        bool planted;
        uint128 committeePassWeight;
        uint128 committeeFailWeight;
        uint16 pendingLosers;
        uint16 winners;
        uint16 winnersPaid;
        uint128 poolBalance; // this submission's share of the vault's pooled balance
    }

    /// @notice Round bookkeeping.
    struct Round {
        uint64 openedAt;
        uint16 settledSlots;
        uint16 acceptedSlots;
        uint16 failedAggregates; // the current aggregation slot is W + failedAggregates
        bool aggregated;
        bytes32 baseDigest;
    }

    /// @notice Deadlines of a submitted subject, in blocks (see the timeline above).
    struct Timeline {
        uint64 seedBlock;
        uint64 revealDeadline;
        uint64 commitEnd;
        uint64 revealEnd;
        uint64 unsealEnd;
        uint64 disputeSeedBlock;
        uint64 disputeCommitEnd;
        uint64 disputeRevealEnd;
    }

    /// @notice The round is not the job's open round.
    error LedgerRoundNotOpen(uint256 jobId, uint256 round, uint256 currentRound);
    /// @notice The slot index is neither a work slot nor the round's current aggregation slot.
    error LedgerSlotOutOfRange(uint256 slot, uint256 aggregationSlot);
    /// @notice Somebody already holds this slot.
    error LedgerSlotTaken(bytes32 subject, address holder);
    /// @notice The round's aggregation slot opens only when every work slot is settled.
    error LedgerRoundNotReadyForAggregation(uint256 jobId, uint256 round, uint256 settled, uint256 needed);
    /// @notice The miner's stake is below the network minimum.
    error LedgerMinerStakeTooLow(address miner, uint256 required, uint256 staked);
    /// @notice Only the slot's miner may do this.
    error LedgerNotSlotMiner(bytes32 subject, address caller, address miner);
    /// @notice The subject is not in a status that allows this call.
    error LedgerWrongStatus(bytes32 subject, SlotStatus status);
    /// @notice A deadline passed.
    error LedgerDeadlinePassed(bytes32 subject, uint256 deadline, uint256 currentBlock);
    /// @notice Too early: the call is possible from block `readyAt`.
    error LedgerTooEarly(bytes32 subject, uint256 readyAt, uint256 currentBlock);
    /// @notice The supplied preimage does not hash to the stored commitment.
    error LedgerCommitmentMismatch(bytes32 subject);
    /// @notice The subject was not selected for audit.
    error LedgerNotAudited(bytes32 subject);
    /// @notice The audit seed block is older than 256 blocks and was never recorded.
    error LedgerSeedUnavailable(bytes32 subject, uint256 seedBlock);
    /// @notice Wrong number of revealed boundaries.
    error LedgerBoundaryCount(uint256 expected, uint256 supplied);
    /// @notice A revealed boundary is not the one the audit sampled.
    error LedgerWrongBoundary(uint256 position, uint256 expectedIndex, uint256 suppliedIndex);
    /// @notice A boundary's Merkle proof does not verify against the committed root.
    error LedgerInvalidMerkleProof(bytes32 subject, uint256 index);
    /// @notice The seat number is beyond the panel's size.
    error LedgerSeatOutOfRange(uint256 seat, uint256 seats);
    /// @notice The caller is not the validator drawn for this seat.
    error LedgerNotSeatHolder(bytes32 subject, Panel panel, uint256 seat, address caller, address holder);
    /// @notice The seat has already committed.
    error LedgerSeatTaken(bytes32 subject, Panel panel, uint256 seat);
    /// @notice The seat never committed.
    error LedgerSeatNotCommitted(bytes32 subject, Panel panel, uint256 seat);
    /// @notice The seat was already revealed or settled.
    error LedgerSeatAlreadyDone(bytes32 subject, Panel panel, uint256 seat);
    /// @notice The revealed verdict does not match the commitment.
    error LedgerVerdictMismatch(bytes32 subject, Panel panel, uint256 seat);
    /// @notice Verdicts are Pass or Fail.
    error LedgerInvalidVerdict(uint8 verdict);
    /// @notice No audit seat revealed Fail, so there is no dispute to sit on.
    error LedgerNoDispute(bytes32 subject);
    /// @notice The seal does not open as a planted forced error.
    error LedgerSealMismatch(bytes32 subject);
    /// @notice The subject is not settled yet.
    error LedgerNotSettled(bytes32 subject);
    /// @notice Winners are paid once every losing seat is slashed (anyone can settle those first).
    error LedgerBountyNotReady(bytes32 subject, uint256 pendingLosers);

    /// @notice Emitted when a round opened with base checkpoint `baseDigest`.
    event RoundOpened(uint256 indexed jobId, uint256 indexed round, bytes32 baseDigest);
    /// @notice Emitted when a round's aggregate was accepted.
    event RoundAggregated(uint256 indexed jobId, uint256 indexed round, bytes32 aggregateDigest, address aggregator);
    /// @notice Emitted when a miner claimed a slot and locked collateral.
    event SlotClaimed(
        bytes32 indexed subject,
        uint256 indexed jobId,
        address indexed miner,
        uint256 round,
        uint256 slot,
        uint256 submitDeadline
    );
    /// @notice Emitted when a miner committed its work.
    event WorkSubmitted(
        bytes32 indexed subject,
        uint256 indexed jobId,
        address indexed miner,
        uint256 round,
        uint256 slot,
        string bundleCid,
        Commitment commitment
    );
    /// @notice Emitted when a subject's audit seed was read from its block hash and stored.
    event SeedRecorded(bytes32 indexed subject, bytes32 seed);
    /// @notice Emitted when the miner revealed the sampled checkpoint boundaries.
    event CheckpointsRevealed(bytes32 indexed subject, address indexed miner, Boundary[] boundaries, string[] cids);
    /// @notice Emitted when a seat committed a verdict hash.
    event VerdictCommitted(bytes32 indexed subject, address indexed validator, Panel indexed panel, uint256 seat);
    /// @notice Emitted when a seat revealed its verdict.
    event VerdictRevealed(
        bytes32 indexed subject,
        address indexed validator,
        Panel indexed panel,
        uint256 seat,
        Verdict verdict,
        bytes32 evidenceDigest,
        string evidenceCid,
        uint256 weight
    );
    /// @notice Emitted when the first failing audit verdict opened a dispute.
    event DisputeOpened(bytes32 indexed subject, address indexed accuser, uint256 seat, bytes32 evidenceDigest);
    /// @notice Emitted when a sentinel unsealed a planted forced error.
    event ForcedErrorUnsealed(bytes32 indexed subject, address indexed sentinel);
    /// @notice Emitted when a submission was settled.
    event SubmissionSettled(
        bytes32 indexed subject, uint256 indexed jobId, address indexed miner, Outcome outcome, uint256 paid, uint256 slashed
    );
    /// @notice Emitted when a seat was settled: paid if its verdict matched the outcome, slashed otherwise.
    event SeatSettled(
        bytes32 indexed subject, address indexed validator, Panel indexed panel, uint256 seat, uint256 paid, uint256 slashed
    );
    /// @notice Emitted when an unclaimed slot, or one claimed and never submitted, was vacated.
    event SlotVacated(bytes32 indexed subject, uint256 indexed jobId, address indexed miner, uint256 slashed);

    /// @notice Emitted when the registry handed a new job to the ledger and round 0 opened.
    event JobRegistered(uint256 indexed jobId, address indexed sponsor, uint256 escrow);
    /// @notice Emitted when the final round's aggregate was accepted.
    event JobCompleted(uint256 indexed jobId, bytes32 finalCheckpointDigest);
    /// @notice Emitted when the sponsor took back what the completed job did not spend.
    event EscrowRefunded(uint256 indexed jobId, address indexed sponsor, uint256 amount);
    /// @notice Emitted once, when the job registry was bound.
    event RegistryBound(address indexed registry);

    /// @notice Takes over a job the registry validated and funded (its escrow is already in the vault). Registry only.
    function registerJob(uint256 jobId, address sponsor, JobParams calldata params, bytes32 baseDigest, uint256 escrow)
        external;

    /// @notice Binds the job registry once; the deployer calls this during deployment.
    function bindRegistry(address registry) external;

    /// @notice After completion, credits the unspent escrow to the sponsor's claimable balance. Callable again to
    /// sweep what later settlements return to the escrow.
    function refundEscrow(uint256 jobId) external returns (uint256 amount);

    /// @notice A job's parameters.
    function jobParams(uint256 jobId) external view returns (JobParams memory);

    /// @notice A job's sponsor, status and open round.
    function jobState(uint256 jobId) external view returns (address sponsor, JobStatus status, uint16 currentRound);

    /// @notice Claims a slot of the job's open round and locks the job's miner collateral.
    function claimSlot(uint256 jobId, uint16 round, uint16 slot) external;

    /// @notice Commits the work of a claimed slot before its submit deadline.
    function submit(
        uint256 jobId,
        uint16 round,
        uint16 slot,
        string calldata bundleCid,
        bytes32 resultDigest,
        bytes32 merkleRoot,
        bytes32 seal
    ) external;

    /// @notice Records the audit seed while its block hash is visible (within 256 blocks of the seed block).
    function recordSeed(uint256 jobId, uint16 round, uint16 slot) external;

    /// @notice The miner of an audited slot reveals both ends of every sampled interval, with Merkle proofs.
    /// `boundaries` holds, for each sampled interval j in order, its start then its end boundary.
    function revealCheckpoints(
        uint256 jobId,
        uint16 round,
        uint16 slot,
        Commitment calldata commitment,
        Boundary[] calldata boundaries,
        string[] calldata cids
    ) external;

    /// @notice A drawn validator commits keccak of its verdict (see verdictCommitment).
    function commitVerdict(uint256 jobId, uint16 round, uint16 slot, Panel panel, uint8 seat, bytes32 commitHash)
        external;

    /// @notice Reveals a committed verdict after the commit window. A first Fail on the audit panel opens a dispute.
    function revealVerdict(
        uint256 jobId,
        uint16 round,
        uint16 slot,
        Panel panel,
        uint8 seat,
        VerdictReveal calldata reveal
    ) external;

    /// @notice A sentinel unseals a planted forced error after the audit reveals: seats that passed it lose.
    function unsealForcedError(uint256 jobId, uint16 round, uint16 slot, Commitment calldata commitment, bytes32 salt)
        external;

    /// @notice Settles an expired submission: pays or slashes the miner. Anyone may call.
    function settleSubmission(uint256 jobId, uint16 round, uint16 slot) external;

    /// @notice Settles one seat of a settled subject: pays it if its verdict matched, slashes it otherwise or if it
    /// never revealed. Anyone may call. Losing seats must be settled before winning ones are paid their bounty.
    function settleSeat(uint256 jobId, uint16 round, uint16 slot, Panel panel, uint8 seat) external;

    /// @notice Vacates a slot nobody claimed within the round's claim window, or one claimed and never submitted
    /// (whose collateral is slashed into the job escrow). Anyone may call.
    function vacateSlot(uint256 jobId, uint16 round, uint16 slot) external;

    /// @notice The subject key of a slot.
    function subjectKey(uint256 jobId, uint16 round, uint16 slot) external pure returns (bytes32);

    /// @notice Reads `nSlots` raw storage words from `startSlot` (Uniswap v4's extsload). LedgerLens decodes
    /// submission records with it, which keeps a large view out of this contract's size budget.
    function extsload(bytes32 startSlot, uint256 nSlots) external view returns (bytes32[] memory values);

    /// @notice A seat's record.
    function seatOf(bytes32 subject, Panel panel, uint8 seat) external view returns (Seat memory);

    /// @notice A round's bookkeeping.
    function roundOf(uint256 jobId, uint16 round) external view returns (Round memory);
}
