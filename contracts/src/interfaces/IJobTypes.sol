// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Job types
/// @notice Types, errors and events shared by the job registry and the work ledger.
interface IJobTypes {
    /// @notice What kind of training the job runs; the same round machinery serves all of them.
    enum JobKind {
        Pretrain,
        Sft,
        Dpo,
        Grpo
    }

    /// @notice Lifecycle of a job.
    enum JobStatus {
        None,
        Active,
        Completed
    }

    /// @notice Deadlines, in blocks. Packed in one storage slot.
    struct Windows {
        uint32 submitWindow; // claim -> submit deadline
        uint32 seedDelay; // D: audit randomness comes from the block D blocks after the submission
        uint32 checkpointRevealWindow; // seed block -> deadline for the miner to reveal sampled checkpoints
        uint32 commitWindow; // verdict commit window (audit and committee)
        uint32 revealWindow; // verdict reveal window (audit and committee)
        uint32 unsealWindow; // after the audit reveals, a sentinel may unseal a planted forced error
        uint32 roundClaimWindow; // after a round opens, unclaimed slots can be vacated
    }

    /// @notice Everything the protocol enforces about a job.
    struct JobParams {
        JobKind kind;
        uint16 numRounds;
        uint16 slotsPerRound; // W work slots; slot index W is the round's aggregation slot
        uint8 intervalsPerSlot; // checkpoint intervals per slot (K / c); boundaries are 0..intervalsPerSlot
        uint8 sampledIntervals; // m intervals replayed per audit
        uint16 auditBps; // p, audit probability of a work slot in basis points
        uint8 seatsPerAudit; // validators drawn per audit
        uint8 committeeSize; // validators drawn per dispute
        uint16 minerSlashBps; // slice of a losing miner's stake slashed on top of its collateral
        uint16 bountyBps; // share of slashed funds paid to the seats on the winning side
        uint96 minerReward; // per accepted work slot
        uint96 validatorReward; // per audit seat whose verdict matches the outcome
        uint96 aggregatorReward; // per accepted aggregate
        uint96 minerCollateral; // locked from the miner's stake per claimed slot
        uint96 validatorSlash; // slashed from a seat whose verdict loses or that never reveals
        Windows windows;
    }

    /// @notice Content bound to a job: digests of off-chain artifacts (the spec JSON names model, data, task).
    struct JobContent {
        bytes32 specDigest; // sha256 of the job spec JSON
        bytes32 toleranceDigest; // sha256 of the tolerance profile used for comparisons
        bytes32 initialCheckpointDigest; // sha256 of the round-0 base checkpoint
    }

    /// @notice No job with that id.
    error JobUnknown(uint256 jobId);
    /// @notice The job is not in the status the call needs.
    error JobWrongStatus(uint256 jobId, JobStatus status);
    /// @notice Only the job's sponsor may do this.
    error JobNotSponsor(uint256 jobId, address caller);
    /// @notice Only the bound job registry may register jobs.
    error JobUnauthorizedRegistry(address caller);
}
