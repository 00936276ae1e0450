// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ILedgerTypes} from "./ILedgerTypes.sol";

/// @title Ledger lens
/// @notice Read-only answers derived from the ledger's state: deadlines, audit selection, sampled intervals, drawn
/// seats and the blocks whose randomness a subject needs. Separate from the ledger to keep it under the code size
/// limit; it uses the same libraries the ledger enforces with, so its answers are the ledger's.
interface ILedgerLens {
    /// @notice The current state of a slot's submission, decoded from the ledger's storage.
    function subjectOf(uint256 jobId, uint16 round, uint16 slot) external view returns (ILedgerTypes.SubjectView memory);

    /// @notice The deadlines of a slot's submission, for the seed try and panel attempts in effect now.
    function timelineOf(uint256 jobId, uint16 round, uint16 slot) external view returns (ILedgerTypes.Timeline memory);

    /// @notice The seed try, audit attempt and committee attempt in effect now.
    function attemptsOf(uint256 jobId, uint16 round, uint16 slot)
        external
        view
        returns (uint8 seedAttempt, uint8 auditAttempt, uint8 committeeAttempt);

    /// @notice Whether the submission is audited (`known` is false until a seed try's randomness is recorded).
    function auditStatus(uint256 jobId, uint16 round, uint16 slot) external view returns (bool known, bool audited);

    /// @notice The distinct checkpoint intervals sampled for audit (empty until the seed is known).
    function sampledIntervals(uint256 jobId, uint16 round, uint16 slot) external view returns (uint32[] memory);

    /// @notice Every drawn seat of a panel (all attempts), with its number.
    function seatsOf(uint256 jobId, uint16 round, uint16 slot, ILedgerTypes.Panel panel)
        external
        view
        returns (uint256[] memory numbers, ILedgerTypes.Seat[] memory seats);

    /// @notice The blocks whose randomness this subject may need (seed tries, audit re-draws, committee draws), in
    /// order. Keepers record randomness in exactly these blocks.
    function randomnessBlocks(uint256 jobId, uint16 round, uint16 slot) external view returns (uint256[] memory);

    /// @notice The hash a validator commits for a verdict (binds chain, ledger, subject, seat and validator).
    function verdictCommitment(
        bytes32 subject,
        ILedgerTypes.Panel panel,
        uint8 seat,
        ILedgerTypes.Verdict verdict,
        bytes32 evidenceDigest,
        bytes32 salt,
        address validator
    ) external view returns (bytes32);

    /// @notice A leaf of a sponsor's planted-error set (the sponsor commits the Merkle root of these).
    function plantLeaf(uint16 round, uint16 slot, address sentinel, bytes32 salt) external pure returns (bytes32);

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

    /// @notice The depth of the checkpoint tree of a slot with `intervals` intervals (intervals + 1 leaves).
    function merkleDepth(uint256 intervals) external pure returns (uint256);

    /// @notice `m` distinct intervals out of `intervals` drawn from `seed` (the audit's rule; a test vector for Python).
    function intervalsFor(bytes32 seed, uint256 m, uint256 intervals) external pure returns (uint256[] memory);

    /// @notice The seat flag bits (drawn, committed, pass, fail, settled), shared with off-chain code.
    function seatFlags() external pure returns (uint8 drawn, uint8 committed, uint8 pass, uint8 fail, uint8 settled);
}
