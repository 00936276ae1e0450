// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Vm} from "./utils/Vm.sol";
import {SortitionTree} from "../src/libraries/SortitionTree.sol";
import {WeightHistory} from "../src/libraries/WeightHistory.sol";

/// @notice Exposes the tree library on a storage tree.
contract TreeHarness {
    using SortitionTree for SortitionTree.Tree;

    SortitionTree.Tree internal tree;

    function add(address account) external returns (uint256) {
        return tree.addLeaf(account);
    }

    function set(uint256 leaf, uint256 weight, uint256 epoch) external {
        tree.set(leaf, weight, epoch);
    }

    function total(uint256 epoch) external view returns (uint256) {
        return tree.totalAt(epoch);
    }

    function leafAt(uint256 leaf, uint256 epoch) external view returns (uint256) {
        return tree.leafAt(leaf, epoch);
    }

    function find(uint256 point, uint256 epoch) external view returns (uint256) {
        return tree.find(point, epoch);
    }
}

contract WeightHistory_Ring {
    bool public IS_TEST = true;
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    function test_keepsFourEpochs_andCarriesValuesForward() public pure {
        uint256 h;
        h = WeightHistory.add(h, 3, 10);
        h = WeightHistory.add(h, 5, 5);
        vm.assertEq(WeightHistory.at(h, 3), 10, "epoch 3");
        vm.assertEq(WeightHistory.at(h, 4), 10, "epoch 4 carries epoch 3");
        vm.assertEq(WeightHistory.at(h, 5), 15, "epoch 5");
        vm.assertEq(WeightHistory.at(h, 99), 15, "later epochs read the last");
        h = WeightHistory.add(h, 20, -15);
        vm.assertEq(WeightHistory.at(h, 17), 15, "the carried value fills the gap");
        vm.assertEq(WeightHistory.at(h, 20), 0, "epoch 20");
    }

    function test_readsFurtherBackThanFourEpochs_revert() public {
        uint256 h = WeightHistory.add(0, 10, 1);
        vm.expectRevert(abi.encodeWithSelector(WeightHistory.WeightHistoryUnavailable.selector, 6, 10));
        this.read(h, 6);
    }

    function read(uint256 h, uint256 epoch) external pure returns (uint256) {
        return WeightHistory.at(h, epoch);
    }
}

contract SortitionTree_Sums {
    bool public IS_TEST = true;
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    /// @dev Random weights scheduled over epochs: at every readable epoch the root is the sum of the leaves, and
    /// `find` maps every point of [0, total) onto the leaf whose cumulative range holds it.
    function testFuzz_rootIsTheSumOfLeaves_andFindInvertsPrefixSums(uint256 seed) public {
        TreeHarness t = new TreeHarness();
        uint256 n = 11 + seed % 60;
        for (uint256 i; i < n; ++i) t.add(address(uint160(i + 1)));
        uint256 epoch = 3;
        for (uint256 step; step < 30; ++step) {
            seed = uint256(keccak256(abi.encode(seed, step)));
            uint256 leaf = (seed >> 8) % n;
            if ((seed >> 40) % 3 == 0) epoch += 1 + (seed >> 50) % 2;
            t.set(leaf, (seed >> 64) % 1_000, epoch);
        }
        for (uint256 e = epoch - 1; e <= epoch; ++e) {
            uint256 sum;
            for (uint256 i; i < n; ++i) sum += t.leafAt(i, e);
            vm.assertEq(t.total(e), sum, "root = sum of leaves");
            uint256 cumulative;
            for (uint256 i; i < n; ++i) {
                uint256 w = t.leafAt(i, e);
                if (w == 0) continue;
                vm.assertEq(t.find(cumulative, e), i, "first point of a leaf's range");
                vm.assertEq(t.find(cumulative + w - 1, e), i, "last point of a leaf's range");
                cumulative += w;
            }
        }
    }
}
