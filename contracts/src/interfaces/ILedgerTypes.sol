// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Ledger types
/// @notice Enums, structs, errors and events of the work ledger, shared by the ledger, its settlement module, the lens
/// and the libraries. A "subject" is one slot's work: key = keccak256(abi.encode(jobId, round, slot)). Slots 0..W-1
/// of a round are work slots; slot W + (aggregates rejected so far) is its aggregation slot: the aggregator's result
/// is the next base checkpoint, and it is always audited, so a wrong aggregate is caught like any other cheat.
///
/// Timeline of a submission made at block S (w = the job's windows; every later block is fixed in advance):
///   seedBlock = S + w.seedDelay * (k + 1)   randomness recorded in that block (try k; a try nobody recorded is
///                                           retried and forces an audit; after MAX_SEED_ATTEMPTS: Unverified)
///   revealDeadline = seedBlock + w.checkpointRevealWindow        an audited miner reveals the sampled checkpoints
///   commitEnd = revealDeadline + w.commitWindow                  drawn audit seats commit verdict hashes (a panel
///                                           is drawn no later than commitEnd - w.commitWindow / 2, committees too)
///   revealEnd = commitEnd + w.revealWindow                       audit seats reveal
///     (a panel with no revealed verdict is re-drawn: panelSeedBlock = revealEnd + seedDelay, one more
///      commit and reveal window, up to MAX_PANEL_ATTEMPTS panels; then Unverified)
///   unsealEnd = revealEnd + w.unsealWindow                       the sponsor's sentinel may unseal a planted error
///   committeeSeedBlock = unsealEnd + w.seedDelay                 a contested subject's committee is drawn
///   disputeCommitEnd, disputeRevealEnd                           the committee commits and reveals (re-drawn too)
interface ILedgerTypes {
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
        RejectedCheat, // the verdict found the work wrong: collateral and a slice of stake slashed
        RejectedPlanted, // a planted error confirmed wrong: the sentinel is not slashed, seats that passed it are
        RejectedWithheld, // audited, and the miner did not reveal the sampled checkpoints in time
        PlantRefuted, // a "planted error" the committee found correct: the sentinel and the plant bond are slashed
        Unverified // no randomness or no verdict could be had: nothing paid, nothing slashed, not aggregated
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
        bytes32 merkleRoot; // position-bound root over the checkpoint-boundary leaves
    }

    /// @notice One revealed checkpoint boundary with its Merkle proof (exactly `depth` siblings, leaf first).
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

    /// @notice One seat's record, written when the panel is drawn. `flags`: see SeatFlags.
    struct Seat {
        address validator;
        uint8 flags;
        uint40 commitEnd; // last block to commit
        uint40 revealEnd; // last block to reveal
        uint8 attempt; // which draw of the panel
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
        uint8 flags; // LedgerStorage.FLAG_*: planted, seed known, audited, seed failed
        uint8 seedAttempt; // which seed block try gave the audit seed
        uint8 auditDrawn; // 1 + the latest audit attempt whose seats were drawn (0: none)
        uint8 committeeDrawn; // 1 + the latest committee attempt whose seats were drawn (0: none)
        uint8 auditAttempt; // the audit attempt whose seats revealed (valid once a seat revealed)
        uint8 committeeAttempt; // the committee attempt whose seats revealed (valid once a seat revealed)
        uint8 auditPass;
        uint8 auditFail;
        uint8 committeePass;
        uint8 committeeFail;
        uint8 pendingLosers;
        uint8 winners;
        uint8 winnersPaid;
        uint88 bountyEach;
        uint88 rewardEach;
        uint128 slashedIntoPool;
        uint128 poolBalance; // this submission's share of the vault's pooled balance
    }

    /// @notice Round bookkeeping.
    struct Round {
        uint64 openedAt;
        uint16 settledSlots;
        uint16 acceptedSlots;
        uint16 failedAggregates; // the current aggregation slot is W + failedAggregates
        bool aggregated;
        uint64 aggregationOpenedAt; // when the current aggregation slot became claimable (0: not yet)
        bytes32 baseDigest;
    }

    /// @notice Deadlines of a submitted subject, in blocks (see the timeline above).
    struct Timeline {
        uint64 seedBlock;
        uint64 revealDeadline;
        uint64 panelSeedBlock;
        uint64 commitEnd;
        uint64 revealEnd;
        uint64 unsealEnd;
        uint64 committeeSeedBlock;
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
    error LedgerCommitmentMismatch(bytes32 subject, bytes32 expected, bytes32 supplied);
    /// @notice The subject was not selected for audit.
    error LedgerNotAudited(bytes32 subject);
    /// @notice Nobody recorded the randomness of the block the call needs (it can no longer be recorded).
    error LedgerRandomnessMissing(bytes32 subject, uint256 randomnessBlock);
    /// @notice Every seed try passed without recorded randomness: the subject settles Unverified.
    error LedgerSeedFailed(bytes32 subject);
    /// @notice Wrong number of revealed boundaries or checkpoint CIDs.
    error LedgerBoundaryCount(uint256 expected, uint256 supplied);
    /// @notice A revealed boundary is not the one the audit sampled.
    error LedgerWrongBoundary(uint256 position, uint256 expectedIndex, uint256 suppliedIndex);
    /// @notice A boundary's Merkle proof does not place it at its index under the committed root.
    error LedgerInvalidMerkleProof(bytes32 subject, uint256 index, uint256 proofLength, uint256 depth);
    /// @notice Two revealed copies of one boundary differ.
    error LedgerBoundaryConflict(bytes32 subject, uint256 index);
    /// @notice The caller is not the validator drawn for this seat.
    error LedgerNotSeatHolder(bytes32 subject, Panel panel, uint256 seat, address caller, address holder);
    /// @notice The seat has already committed, or was never drawn.
    error LedgerSeatNotCommittable(bytes32 subject, Panel panel, uint256 seat, uint8 flags);
    /// @notice The seat never committed.
    error LedgerSeatNotCommitted(bytes32 subject, Panel panel, uint256 seat);
    /// @notice The seat was already revealed or settled.
    error LedgerSeatAlreadyDone(bytes32 subject, Panel panel, uint256 seat);
    /// @notice The revealed verdict does not match the commitment (all 256 bits are compared).
    error LedgerVerdictMismatch(bytes32 subject, Panel panel, uint256 seat, bytes32 committed, bytes32 revealed);
    /// @notice Verdicts are Pass or Fail.
    error LedgerInvalidVerdict(uint8 verdict);
    /// @notice Nothing is contested on this subject, so no committee sits.
    error LedgerNoDispute(bytes32 subject);
    /// @notice This panel's seats for the current attempt were already drawn.
    error LedgerPanelAlreadyDrawn(bytes32 subject, Panel panel, uint256 attempt);
    /// @notice The planted-error proof does not open the job's plant root for this slot and its miner.
    error LedgerPlantMismatch(bytes32 subject, address miner);
    /// @notice The subject is not settled yet.
    error LedgerNotSettled(bytes32 subject);
    /// @notice Winners are paid once every losing seat is slashed (anyone can settle those first).
    error LedgerBountyNotReady(bytes32 subject, uint256 pendingLosers);
    /// @notice Only the ledger's own delegatecall may run the settlement module.
    error LedgerModuleDirectCall();

    /// @notice Emitted when a round opened.
    /// @param jobId The job.
    /// @param round The round that opened.
    /// @param baseDigest sha256 of the checkpoint every slot of the round starts from.
    event RoundOpened(uint256 indexed jobId, uint256 indexed round, bytes32 baseDigest);
    /// @notice Emitted when a round's aggregate was accepted.
    /// @param jobId The job.
    /// @param round The round.
    /// @param aggregateDigest sha256 of the accepted aggregate (the next round's base).
    /// @param aggregator Who aggregated.
    event RoundAggregated(uint256 indexed jobId, uint256 indexed round, bytes32 aggregateDigest, address aggregator);
    /// @notice Emitted when a round's current aggregation slot became claimable.
    /// @param jobId The job.
    /// @param round The round.
    /// @param slot The aggregation slot (W + aggregates rejected so far).
    event AggregationOpened(uint256 indexed jobId, uint256 indexed round, uint256 slot);
    /// @notice Emitted when a miner claimed a slot and locked collateral.
    /// @param subject The slot's subject key.
    /// @param jobId The job.
    /// @param miner Who claimed.
    /// @param round The round.
    /// @param slot The slot.
    /// @param submitDeadline Last block to submit.
    event SlotClaimed(
        bytes32 indexed subject,
        uint256 indexed jobId,
        address indexed miner,
        uint256 round,
        uint256 slot,
        uint256 submitDeadline
    );
    /// @notice Emitted when a miner committed its work.
    /// @param subject The slot's subject key.
    /// @param jobId The job.
    /// @param miner The miner.
    /// @param round The round.
    /// @param slot The slot.
    /// @param bundleCid Where the bundle (manifest, result, trace) is pinned.
    /// @param commitment The committed digests.
    event WorkSubmitted(
        bytes32 indexed subject,
        uint256 indexed jobId,
        address indexed miner,
        uint256 round,
        uint256 slot,
        string bundleCid,
        Commitment commitment
    );
    /// @notice Emitted when a block's randomness (its prevrandao) was recorded.
    /// @param blockNumber The block, which is also the block that recorded it.
    /// @param randomness The recorded value.
    event RandomnessRecorded(uint256 indexed blockNumber, bytes32 randomness);
    /// @notice Emitted when a subject's audit seed was fixed.
    /// @param subject The subject.
    /// @param seed The audit seed.
    /// @param seedBlock The block whose randomness it came from.
    /// @param audited Whether the subject is audited.
    event SeedRecorded(bytes32 indexed subject, bytes32 seed, uint256 seedBlock, bool audited);
    /// @notice Emitted when the miner revealed the sampled checkpoint boundaries.
    /// @param subject The subject.
    /// @param miner The miner.
    /// @param boundaries For each sampled interval in draw order, its start then its end boundary.
    /// @param cids Where each boundary's checkpoint is pinned (then any extra checkpoints an audit asks for).
    event CheckpointsRevealed(bytes32 indexed subject, address indexed miner, Boundary[] boundaries, string[] cids);
    /// @notice Emitted for each seat when a panel was drawn from the stake snapshot.
    /// @param subject The subject.
    /// @param validator The drawn validator.
    /// @param panel Audit panel or committee.
    /// @param seat The seat's number (seats of later attempts continue the numbering).
    /// @param attempt Which draw of this panel.
    event SeatDrawn(
        bytes32 indexed subject, address indexed validator, Panel indexed panel, uint256 seat, uint256 attempt
    );
    /// @notice Emitted when a seat committed a verdict hash.
    /// @param subject The subject.
    /// @param validator The seat's validator.
    /// @param panel Audit panel or committee.
    /// @param seat The seat.
    /// @param commitHash The full 256-bit commitment.
    event VerdictCommitted(
        bytes32 indexed subject, address indexed validator, Panel indexed panel, uint256 seat, bytes32 commitHash
    );
    /// @notice Emitted when a seat revealed its verdict.
    /// @param subject The subject.
    /// @param validator The seat's validator.
    /// @param panel Audit panel or committee.
    /// @param seat The seat.
    /// @param verdict Pass or Fail.
    /// @param evidenceDigest sha256 of the evidence bundle.
    /// @param evidenceCid Where the evidence is pinned.
    event VerdictRevealed(
        bytes32 indexed subject,
        address indexed validator,
        Panel indexed panel,
        uint256 seat,
        Verdict verdict,
        bytes32 evidenceDigest,
        string evidenceCid
    );
    /// @notice Emitted when the first failing audit verdict (or a passing verdict on a plant) opened a dispute.
    /// @param subject The subject.
    /// @param accuser The seat's validator whose verdict contests the work (or the plant).
    /// @param seat Its seat.
    /// @param evidenceDigest Its evidence digest.
    event DisputeOpened(bytes32 indexed subject, address indexed accuser, uint256 seat, bytes32 evidenceDigest);
    /// @notice Emitted when the sponsor's sentinel unsealed a planted error.
    /// @param subject The subject.
    /// @param sentinel The planted slot's miner, as the sponsor sealed it at job creation.
    event PlantUnsealed(bytes32 indexed subject, address indexed sentinel);
    /// @notice Emitted when a submission was settled.
    /// @param subject The subject.
    /// @param jobId The job.
    /// @param miner The miner.
    /// @param outcome How it was settled.
    /// @param paid The miner's reward credited.
    /// @param slashed What was slashed from the miner.
    event SubmissionSettled(
        bytes32 indexed subject, uint256 indexed jobId, address indexed miner, Outcome outcome, uint256 paid, uint256 slashed
    );
    /// @notice Emitted when a seat was settled: paid if its verdict matched the outcome, slashed if it lost, stayed
    /// silent after being drawn, or never revealed.
    /// @param subject The subject.
    /// @param validator The seat's validator.
    /// @param panel Audit panel or committee.
    /// @param seat The seat.
    /// @param paid Reward and bounty credited.
    /// @param slashed Stake slashed.
    event SeatSettled(
        bytes32 indexed subject, address indexed validator, Panel indexed panel, uint256 seat, uint256 paid, uint256 slashed
    );
    /// @notice Emitted when slashed funds of a planted subject were burned (they never return to the planter).
    /// @param subject The subject.
    /// @param amount Tokens burned.
    event SlashBurned(bytes32 indexed subject, uint256 amount);
    /// @notice Emitted when an unclaimed slot, or one claimed and never submitted, was vacated.
    /// @param subject The subject.
    /// @param jobId The job.
    /// @param miner The slot's miner (zero if unclaimed).
    /// @param slashed The collateral slashed into the escrow.
    event SlotVacated(bytes32 indexed subject, uint256 indexed jobId, address indexed miner, uint256 slashed);

    /// @notice Emitted when the registry handed a new job to the ledger and round 0 opened.
    /// @param jobId The job.
    /// @param sponsor Its sponsor.
    /// @param escrow The escrow taken (the plant bond included).
    event JobRegistered(uint256 indexed jobId, address indexed sponsor, uint256 escrow);
    /// @notice Emitted when the final round's aggregate was accepted.
    /// @param jobId The job.
    /// @param finalCheckpointDigest The final model's digest.
    event JobCompleted(uint256 indexed jobId, bytes32 finalCheckpointDigest);
    /// @notice Emitted when a job could not go on (nobody aggregated in time, or too many aggregates were rejected).
    /// @param jobId The job.
    /// @param round The round it stopped in.
    event JobAbandoned(uint256 indexed jobId, uint256 indexed round);
    /// @notice Emitted when the sponsor took back what the finished job did not spend.
    /// @param jobId The job.
    /// @param sponsor The sponsor.
    /// @param amount The amount credited.
    event EscrowRefunded(uint256 indexed jobId, address indexed sponsor, uint256 amount);
    /// @notice Emitted once, when the job registry was bound.
    /// @param registry The registry.
    event RegistryBound(address indexed registry);
}
