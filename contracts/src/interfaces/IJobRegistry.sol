// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IJobTypes} from "./IJobTypes.sol";

/// @title Job registry
/// @notice Sponsors post jobs with an escrowed reward. A job is a sequence of rounds; each round has W work slots
/// and one aggregation slot. All time is measured in blocks. The registry validates parameters, takes the escrow
/// into the reward vault, stores the job's content digests and hands the parameters to the work ledger, which
/// runs the job from then on.
interface IJobRegistry is IJobTypes {
    /// @notice A parameter is out of its allowed range; `code` names which (see docs/contracts.md).
    error JobInvalidParams(uint8 code, uint256 value);
    /// @notice The longest audit plus dispute of this job would outlast stake unbonding, letting a cheat escape.
    error JobResolutionOutlastsUnbonding(uint256 resolutionBlocks, uint256 unbondingBlocks);

    /// @notice Emitted when a sponsor created and funded a job.
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

    /// @notice The escrow a job with these parameters needs.
    function requiredEscrow(JobParams calldata params) external pure returns (uint256);

    /// @notice A job's content digests.
    function jobContent(uint256 jobId) external view returns (JobContent memory);

    /// @notice Number of jobs created so far.
    function jobCount() external view returns (uint256);
}
