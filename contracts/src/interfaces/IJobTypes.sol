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

    /// @notice Lifecycle of a job. Completed and Abandoned are terminal: the sponsor may take back the rest.
    enum JobStatus {
        None,
        Active,
        Completed,
        Abandoned
    }

    /// @notice Deadlines, in blocks. Packed in one storage slot.
    struct Windows {
        uint32 submitWindow; // claim -> submit deadline
        uint32 seedDelay; // audit randomness is the prevrandao recorded in block submission + seedDelay (or a retry)
        uint32 checkpointRevealWindow; // seed block -> deadline for the miner to reveal sampled checkpoints
        uint32 commitWindow; // verdict commit window (audit and committee)
        uint32 revealWindow; // verdict reveal window (audit and committee)
        uint32 unsealWindow; // after the audit reveals, the sponsor's sentinel may unseal a planted error
        uint32 roundClaimWindow; // after a round (or its aggregation slot) opens, unclaimed slots can be vacated
    }

    /// @notice Everything the protocol enforces about a job. The registry validates every field (see JobRegistry).
    struct JobParams {
        JobKind kind;
        uint16 numRounds;
        uint16 slotsPerRound; // W work slots; slot index W + failed aggregates is the round's aggregation slot
        uint8 intervalsPerSlot; // K checkpoint intervals per slot; boundaries are 0..K
        uint8 sampledIntervals; // m distinct intervals replayed per audit
        uint16 auditBps; // p, audit probability of a work slot in basis points (1..10,000)
        uint8 seatsPerAudit; // validators drawn per audit panel
        uint8 committeeSize; // validators drawn per dispute committee
        uint16 minerSlashBps; // slice of a losing miner's free and unbonding stake slashed on top of its collateral
        uint16 bountyBps; // share of slashed funds paid to the seats on the winning side
        uint96 minerReward; // per accepted work slot
        uint96 validatorReward; // per audit seat whose verdict matches the outcome
        uint96 aggregatorReward; // per accepted aggregate
        uint96 minerCollateral; // locked from the miner's stake per claimed slot; funds a rejected slot's auditors
        uint96 validatorSlash; // slashed from a seat whose verdict loses, or that was drawn and stayed silent
        uint96 plantBond; // escrowed by the sponsor; forfeited to the seats the first time a plant proves correct
        Windows windows;
    }

    /// @notice Content bound to a job: digests of off-chain artifacts (the spec JSON names model, data, task), and the
    /// sponsor's sealed set of planted forced errors.
    struct JobContent {
        bytes32 specDigest; // sha256 of the job spec JSON
        bytes32 toleranceDigest; // sha256 of the tolerance profile used for comparisons
        bytes32 initialCheckpointDigest; // sha256 of the round-0 base checkpoint
        bytes32 plantRoot; // Merkle root of Commitments.plantLeaf(round, slot, sentinel, salt); 0 = no plants
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
