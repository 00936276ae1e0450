// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ILedgerTypes} from "../interfaces/ILedgerTypes.sol";

/// @title Commitments
/// @notice The hashes the protocol binds parties to. One definition, used by the ledger (which enforces them) and the
/// lens (which tells off-chain parties what to commit), so the two can never disagree.
library Commitments {
    /// @notice What a seat commits for a verdict (all 256 bits are stored and compared): binds chain, ledger,
    /// subject, panel, seat and validator, so a commitment cannot be replayed on another chain or deployment or
    /// copied by another validator.
    function verdict(
        address ledger,
        bytes32 subject,
        ILedgerTypes.Panel panel,
        uint8 seat,
        ILedgerTypes.Verdict verdict_,
        bytes32 evidenceDigest,
        bytes32 salt,
        address validator
    ) internal view returns (bytes32) {
        return keccak256(
            abi.encode(block.chainid, ledger, subject, panel, seat, verdict_, evidenceDigest, salt, validator)
        );
    }

    /// @notice A leaf of a job's planted-error set: the sponsor commits the root of these at job creation, so only
    /// a slot it named, held by the sentinel it named, can ever be unsealed as planted. Double-hashed (OpenZeppelin's
    /// convention for Merkle leaves), so no inner node of the tree is a valid leaf.
    function plantLeaf(uint16 round, uint16 slot, address sentinel, bytes32 salt) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode("crucible.plant", round, slot, sentinel, salt))));
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
