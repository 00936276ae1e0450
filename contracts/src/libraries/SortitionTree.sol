// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {WeightHistory} from "./WeightHistory.sol";

/// @title SortitionTree
/// @notice A stake-weighted sum tree in the style of Kleros' SortitionSumTree, with a checkpointed history per node:
/// K = 8 children per node, depth 4 (4,096 leaves), each node one storage word holding its last four epochs of
/// weight (WeightHistory). `set` touches the leaf and its four ancestors (O(log n)); `find` walks down from the root
/// reading at most 8 children per level (O(log n)). Every node's value at an epoch is the sum of its children's
/// values at that epoch, because every write adds the same delta at the same epoch along the whole path.
library SortitionTree {
    using WeightHistory for uint256;

    uint256 internal constant K = 8;
    uint256 internal constant DEPTH = 4;
    uint256 internal constant CAPACITY = 4_096; // K ** DEPTH

    struct Tree {
        mapping(uint256 key => uint256 packedHistory) nodes; // key = level << 32 | index; the root is (0, 0)
        mapping(uint256 leaf => address) accounts;
        uint256 leaves;
        // Retired leaves, first in first out: (leaf << 128 | the first epoch it may be reused in).
        mapping(uint256 position => uint256) retired;
        uint128 retiredHead;
        uint128 retiredTail;
    }

    /// @notice Appends a leaf for `account`; returns its index. A leaf never moves while it is in use.
    function addLeaf(Tree storage tree, address account) internal returns (uint256 leaf) {
        leaf = tree.leaves++;
        tree.accounts[leaf] = account;
    }

    /// @notice Queues a leaf whose weight has gone to zero for reuse from `reusableFrom` on (once no draw can read
    /// an epoch in which it still weighed something).
    function retire(Tree storage tree, uint256 leaf, uint256 reusableFrom) internal {
        tree.retired[tree.retiredTail++] = leaf << 128 | reusableFrom;
    }

    /// @notice Takes the oldest retired leaf that is reusable at `epoch` and still retired (`stillRetired` says so
    /// for its owner), hands it to `account`, and returns (leaf, previous owner). Looks at no more than 4 queued
    /// entries (stale ones, whose owner came back, are dropped); `found` is false when none is ready.
    function reuse(Tree storage tree, address account, uint256 epoch, function(address, uint256) view returns (bool) stillRetired)
        internal
        returns (bool found, uint256 leaf, address previous)
    {
        for (uint256 i; i < 4 && tree.retiredHead < tree.retiredTail; ++i) {
            uint256 entry = tree.retired[tree.retiredHead];
            if (uint128(entry) > epoch) return (false, 0, address(0));
            delete tree.retired[tree.retiredHead++];
            leaf = entry >> 128;
            previous = tree.accounts[leaf];
            if (!stillRetired(previous, leaf)) continue;
            tree.accounts[leaf] = account;
            return (true, leaf, previous);
        }
    }

    /// @notice Sets a leaf's weight from `epoch` on; returns whether it changed.
    function set(Tree storage tree, uint256 leaf, uint256 weight, uint256 epoch) internal returns (bool) {
        if (weight > WeightHistory.MAX_VALUE) weight = WeightHistory.MAX_VALUE;
        int256 delta = int256(weight) - int256(tree.nodes[_key(DEPTH, leaf)].at(epoch));
        if (delta == 0) return false;
        for (uint256 level = DEPTH + 1; level > 0;) {
            --level;
            uint256 key = _key(level, leaf >> (3 * (DEPTH - level)));
            tree.nodes[key] = tree.nodes[key].add(epoch, delta);
        }
        return true;
    }

    function totalAt(Tree storage tree, uint256 epoch) internal view returns (uint256) {
        return tree.nodes[_key(0, 0)].at(epoch);
    }

    function leafAt(Tree storage tree, uint256 leaf, uint256 epoch) internal view returns (uint256) {
        return tree.nodes[_key(DEPTH, leaf)].at(epoch);
    }

    function accountAt(Tree storage tree, uint256 leaf) internal view returns (address) {
        return tree.accounts[leaf];
    }

    /// @notice The leaf whose cumulative weight range at `epoch` contains `point` (point < totalAt(epoch)).
    function find(Tree storage tree, uint256 point, uint256 epoch) internal view returns (uint256 index) {
        for (uint256 level = 1; level <= DEPTH; ++level) {
            uint256 first = index * K;
            uint256 child = first;
            for (uint256 last = first + K - 1; child < last; ++child) {
                uint256 weight = tree.nodes[_key(level, child)].at(epoch);
                if (point < weight) break;
                point -= weight;
            }
            index = child;
        }
    }

    function _key(uint256 level, uint256 index) private pure returns (uint256) {
        return level << 32 | index;
    }
}
