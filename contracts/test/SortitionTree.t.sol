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

    mapping(address => bool) public cameBack;

    function retire(uint256 leaf, uint256 from) external {
        tree.retire(leaf, from);
    }

    function comeBack(address owner) external {
        cameBack[owner] = true;
    }

    function reuse(address account, uint256 epoch) external returns (bool found, uint256 leaf, address previous) {
        return tree.reuse(account, epoch, _stillRetired);
    }

    function _stillRetired(address owner, uint256) internal view returns (bool) {
        return !cameBack[owner];
    }

    function owner(uint256 leaf) external view returns (address) {
        return tree.accountAt(leaf);
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

contract SortitionTree_Recycling {
    bool public IS_TEST = true;
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    /// @dev A full tree of departed accounts never locks newcomers out: retired leaves are handed on in order, only
    /// once no draw can still read a weight they had, and never when their owner came back.
    function test_retiredLeavesAreReused_inOrder_whenReady_skippingOwnersWhoCameBack() public {
        TreeHarness t = new TreeHarness();
        for (uint256 i; i < 3; ++i) t.add(address(uint160(100 + i)));
        t.retire(0, 10);
        t.retire(1, 10);
        t.retire(2, 12);
        (bool found,,) = t.reuse(address(0xA), 9);
        vm.assertFalse(found, "not before its epoch");
        t.comeBack(address(100)); // leaf 0's owner registered again: its entry is stale
        (bool ok, uint256 leaf, address previous) = t.reuse(address(0xA), 10);
        vm.assertTrue(ok, "found");
        vm.assertEq(leaf, 1, "the oldest still-retired leaf");
        vm.assertEq(previous, address(101), "its previous owner");
        vm.assertEq(t.owner(1), address(0xA), "handed on");
        (ok,,) = t.reuse(address(0xB), 11);
        vm.assertFalse(ok, "leaf 2 is not ready yet");
        (ok, leaf,) = t.reuse(address(0xB), 12);
        vm.assertTrue(ok && leaf == 2, "then it is");
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
