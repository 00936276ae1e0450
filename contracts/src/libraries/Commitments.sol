// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IWorkLedger} from "../interfaces/IWorkLedger.sol";

/// @title Commitments
/// @notice The hashes the protocol binds parties to. One definition, used by the ledger (which enforces them) and the
/// lens (which tells off-chain parties what to commit), so the two can never disagree.
library Commitments {
    /// @notice What a seat commits for a verdict: binds chain, ledger, subject, seat and validator, so a commitment
    /// cannot be replayed on another chain or deployment or copied by another validator.
    function verdict(
        address ledger,
        bytes32 subject,
        IWorkLedger.Panel panel,
        uint8 seat,
        IWorkLedger.Verdict verdict_,
        bytes32 evidenceDigest,
        bytes32 salt,
        address validator
    ) internal view returns (bytes32) {
        return keccak256(
            abi.encode(block.chainid, ledger, subject, panel, seat, verdict_, evidenceDigest, salt, validator)
        );
    }

    /// @notice The seal of a planted forced error.
    function forcedErrorSeal(address ledger, bytes32 subject, bytes32 salt) internal view returns (bytes32) {
        return keccak256(abi.encode("crucible.forced-error", block.chainid, ledger, subject, salt));
    }

    /// @notice The Merkle leaf of checkpoint boundary `index` (shared test vector with the Python engine).
    function checkpointLeaf(
        uint256 jobId,
        uint16 round,
        uint16 slot,
        address miner,
        uint256 index,
        bytes32 checkpointDigest,
        bytes32 traceDigest
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(jobId, round, slot, miner, index, checkpointDigest, traceDigest));
    }
}
