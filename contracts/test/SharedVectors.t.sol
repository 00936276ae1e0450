// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {CrucibleTest} from "./utils/CrucibleTest.sol";

/// @notice The contracts agree with the shared vectors the Python side produces (contracts/test/vectors/merkle.json,
/// written by `python -m crucible.chain.vectors`): checkpoint leaves and position-bound proofs, the audit's interval
/// sampling, and the planted-error leaves.
contract SharedVectors_WithPython is CrucibleTest {
    string internal json;

    function setUp() public override {
        super.setUp();
        json = vm.readFile("contracts/test/vectors/merkle.json");
    }

    function test_leavesAndPositionalProofsMatchThePythonTree() public view {
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
            vm.assertEq(lens.merkleDepth(ckpts.length - 1), vm.parseJsonUint(json, string.concat(at, ".depth")), "depth");
            for (uint256 i; i < ckpts.length; ++i) {
                bytes32 leaf = lens.checkpointLeaf(jobId, round, slot, miner, i, ckpts[i], traces[i]);
                vm.assertEq(leaf, expectedLeaves[i], "leaf encoding");
                bytes32[] memory proof =
                    vm.parseJsonBytes32Array(json, string.concat(at, ".proofs[", vm.toString(i), "]"));
                vm.assertEq(_climb(leaf, i, proof), root, "the Python proof opens the leaf at its index");
                if (ckpts.length > 1) {
                    vm.assertTrue(_climb(leaf, i ^ 1, proof) != root, "and at no other index");
                }
            }
        }
    }

    /// @dev PositionalMerkle's rule, restated: the index's bits pick the side at each level.
    function _climb(bytes32 leaf, uint256 index, bytes32[] memory proof) internal pure returns (bytes32 node) {
        node = leaf;
        for (uint256 level; level < proof.length; ++level) {
            node = (index >> level) & 1 == 0
                ? keccak256(abi.encode(node, proof[level]))
                : keccak256(abi.encode(proof[level], node));
        }
    }

    function test_intervalSamplingMatchesPython() public view {
        for (uint256 c; c < 5; ++c) {
            string memory at = string.concat(".sampling[", vm.toString(c), "]");
            bytes32 seedValue = vm.parseJsonBytes32(json, string.concat(at, ".seed"));
            uint256 m = vm.parseJsonUint(json, string.concat(at, ".m"));
            uint256 intervals = vm.parseJsonUint(json, string.concat(at, ".intervals"));
            uint256[] memory expected = vm.parseJsonUintArray(json, string.concat(at, ".picked"));
            uint256[] memory picked = lens.intervalsFor(seedValue, m, intervals);
            vm.assertEq(picked.length, expected.length, "count");
            for (uint256 j; j < m; ++j) {
                vm.assertEq(picked[j], expected[j], "same interval, same order");
                for (uint256 k = j + 1; k < m; ++k) vm.assertTrue(picked[j] != picked[k], "distinct");
            }
        }
    }

    function test_plantLeavesMatchPython() public view {
        for (uint256 c; c < 2; ++c) {
            string memory at = string.concat(".plants[", vm.toString(c), "]");
            bytes32 leaf = lens.plantLeaf(
                uint16(vm.parseJsonUint(json, string.concat(at, ".round"))),
                uint16(vm.parseJsonUint(json, string.concat(at, ".slot"))),
                vm.parseJsonAddress(json, string.concat(at, ".sentinel")),
                vm.parseJsonBytes32(json, string.concat(at, ".salt"))
            );
            vm.assertEq(leaf, vm.parseJsonBytes32(json, string.concat(at, ".leaf")), "plant leaf");
        }
    }

    function test_seatFlagsAreTheNamedConstants() public view {
        (uint8 drawn, uint8 committed, uint8 pass, uint8 fail, uint8 settled) = lens.seatFlags();
        vm.assertEq(uint256(drawn) | committed | pass | fail | settled, 31, "five distinct bits");
    }
}
