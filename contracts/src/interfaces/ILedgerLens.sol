// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IWorkLedger} from "./IWorkLedger.sol";

/// @title Ledger lens
/// @notice Read-only answers derived from the ledger's state: deadlines, audit selection, sampled intervals and
/// seat draws. Separate from the ledger to keep it under the code size limit; it uses the same libraries the ledger
/// enforces with, so its answers are the ledger's.
interface ILedgerLens {
    /// @notice The current state of a slot's submission, decoded from the ledger's storage.
    function subjectOf(uint256 jobId, uint16 round, uint16 slot) external view returns (IWorkLedger.SubjectView memory);

    /// @notice The deadlines of a slot's latest submission.
    function timelineOf(uint256 jobId, uint16 round, uint16 slot) external view returns (IWorkLedger.Timeline memory);

    /// @notice Whether the latest submission is audited (`known` is false until its seed is available).
    function auditStatus(uint256 jobId, uint16 round, uint16 slot) external view returns (bool known, bool audited);

    /// @notice The checkpoint intervals sampled for audit of the latest submission (empty until the seed is known).
    function sampledIntervals(uint256 jobId, uint16 round, uint16 slot) external view returns (uint32[] memory);

    /// @notice The validator drawn for a seat (zero address until the panel's seed is known).
    function seatHolder(uint256 jobId, uint16 round, uint16 slot, IWorkLedger.Panel panel, uint8 seat)
        external
        view
        returns (address);

    /// @notice The hash a validator commits for a verdict (binds chain, ledger, subject, seat and validator).
    function verdictCommitment(
        bytes32 subject,
        IWorkLedger.Panel panel,
        uint8 seat,
        IWorkLedger.Verdict verdict,
        bytes32 evidenceDigest,
        bytes32 salt,
        address validator
    ) external view returns (bytes32);

    /// @notice The seal a sentinel puts in a planted forced error's commitment.
    function forcedErrorSeal(bytes32 subject, bytes32 salt) external view returns (bytes32);

    /// @notice The Merkle leaf of checkpoint boundary `index` (shared test vector with the Python engine).
    function checkpointLeaf(
        uint256 jobId,
        uint16 round,
        uint16 slot,
        address miner,
        uint256 index,
        bytes32 checkpointDigest,
        bytes32 traceDigest
    ) external pure returns (bytes32);
}
