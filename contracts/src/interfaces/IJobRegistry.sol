// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IJobTypes} from "./IJobTypes.sol";

/// @title Job registry
/// @notice Sponsors post jobs with an escrowed reward. A job is a sequence of rounds; each round has W work slots
/// and one aggregation slot. All time is measured in blocks. The registry validates parameters (refusing any under
/// which a slash could exceed its cap, a rejected slot could not pay its auditors, or a slash could be escaped),
/// takes the escrow (and the sponsor's plant bond) into the reward vault, stores the job's content digests and hands
/// the job to the work ledger, which runs it from then on.
interface IJobRegistry is IJobTypes {
    /// @notice A parameter is outside its allowed range [min, max].
    error JobParamOutOfRange(string name, uint256 value, uint256 min, uint256 max);
    /// @notice The longest audit plus dispute of this job would outlast stake unbonding or validator activation,
    /// letting a cheat escape or a validator set change under a running audit.
    error JobResolutionTooLong(uint256 resolutionBlocks, uint256 unbondingBlocks, uint256 epochBlocks);

    /// @notice Emitted when a sponsor created and funded a job.
    /// @param jobId The new job.
    /// @param sponsor Its sponsor.
    /// @param kind The kind of training.
    /// @param escrow Tokens escrowed (rewards budget plus plant bond).
    /// @param specCid Where the job spec is pinned.
    /// @param params The job's parameters.
    /// @param content The job's content digests and plant root.
    event JobCreated(
        uint256 indexed jobId,
        address indexed sponsor,
        JobKind indexed kind,
        uint256 escrow,
        string specCid,
        JobParams params,
        JobContent content
    );

    /// @notice Creates a job and pulls its full escrow from the caller (needs an allowance to this contract).
    /// @return jobId The new job's id (ids start at 1).
    function createJob(JobParams calldata params, JobContent calldata content, string calldata specCid)
        external
        returns (uint256 jobId);

    /// @notice Like createJob, with an EIP-2612 permit for the escrow instead of a prior approval.
    function createJobWithPermit(
        JobParams calldata params,
        JobContent calldata content,
        string calldata specCid,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external returns (uint256 jobId);

    /// @notice The escrow a job with these parameters needs: every slot and aggregate paid and audited once, plus
    /// the plant bond.
    function requiredEscrow(JobParams calldata params) external pure returns (uint256);

    /// @notice Blocks from a claim to the last block at which its settlement can still be undecided (every retry of
    /// seed, panel and committee included).
    function longestResolution(Windows calldata w) external pure returns (uint256);

    /// @notice A job's content digests.
    function jobContent(uint256 jobId) external view returns (JobContent memory);

    /// @notice Number of jobs created so far.
    function jobCount() external view returns (uint256);
}
