// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {CrucibleTest} from "./utils/CrucibleTest.sol";

/// @notice The contracts agree with the shared Merkle vectors that the Python engine produces
/// (contracts/test/vectors/merkle.json, written by `python -m crucible.chain.vectors`).
contract MerkleVectors_SharedWithPython is CrucibleTest {
    function test_leavesAndProofsMatchThePythonVectors() public view {
        string memory json = vm.readFile("contracts/test/vectors/merkle.json");
        for (uint256 c; c < 3; ++c) {
            string memory at = string.concat(".cases[", vm.toString(c), "]");
            uint256 jobId = vm.parseJsonUint(json, string.concat(at, ".jobId"));
            uint16 round = uint16(vm.parseJsonUint(json, string.concat(at, ".round")));
            uint16 slot = uint16(vm.parseJsonUint(json, string.concat(at, ".slot")));
            address miner = vm.parseJsonAddress(json, string.concat(at, ".miner"));
            bytes32 root = vm.parseJsonBytes32(json, string.concat(at, ".root"));
            bytes32[] memory ckpts = vm.parseJsonBytes32Array(json, string.concat(at, ".checkpointDigests"));
            bytes32[] memory traces = vm.parseJsonBytes32Array(json, string.concat(at, ".traceDigests"));
            bytes32[] memory expectedLeaves = vm.parseJsonBytes32Array(json, string.concat(at, ".leaves"));
            for (uint256 i; i < ckpts.length; ++i) {
                bytes32 leaf = lens.checkpointLeaf(jobId, round, slot, miner, i, ckpts[i], traces[i]);
                vm.assertEq(leaf, expectedLeaves[i], "leaf encoding");
                bytes32[] memory proof =
                    vm.parseJsonBytes32Array(json, string.concat(at, ".proofs[", vm.toString(i), "]"));
                vm.assertTrue(MerkleProof.verify(proof, root, leaf), "python proof verifies on-chain");
            }
        }
    }
}
