// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {CrucibleTest} from "./utils/CrucibleTest.sol";
import {IJobTypes} from "../src/interfaces/IJobTypes.sol";
import {IJobRegistry} from "../src/interfaces/IJobRegistry.sol";

contract JobRegistry_CreateJob is CrucibleTest {
    function create(IJobTypes.JobParams memory p) external returns (uint256) {
        return postJob(p);
    }

    function test_createJob_escrowsEveryPanelAndThePlantBond() public {
        IJobTypes.JobParams memory p = defaultParams();
        p.plantBond = 7 ether;
        // 2 rounds x (2 slots x (10 + 3 x 1) + 2 + 3 x 1) + 7
        vm.assertEq(registry.requiredEscrow(p), 2 * (2 * 13 ether + 5 ether) + 7 ether, "budget");
        uint256 jobId = postJob(p);
        vm.assertEq(vault.escrowOf(jobId), registry.requiredEscrow(p), "escrowed in the vault");
        assertBooksBalance();
    }

    function test_createJob_namesTheParameterItRefuses() public {
        IJobTypes.JobParams memory p = defaultParams();
        p.sampledIntervals = 4; // more than the 3 intervals a slot has
        vm.expectRevert(abi.encodeWithSelector(IJobRegistry.JobParamOutOfRange.selector, "sampledIntervals", 4, 1, 3));
        this.create(p);
        p = defaultParams();
        p.seatsPerAudit = 17;
        vm.expectRevert(abi.encodeWithSelector(IJobRegistry.JobParamOutOfRange.selector, "seatsPerAudit", 17, 1, 16));
        this.create(p);
        p = defaultParams();
        p.bountyBps = 10_001;
        vm.expectRevert(abi.encodeWithSelector(IJobRegistry.JobParamOutOfRange.selector, "bountyBps", 10_001, 0, 10_000));
        this.create(p);
    }

    function test_createJob_refusesAResolutionLongerThanAnEpoch() public {
        IJobTypes.JobParams memory p = defaultParams();
        p.windows.revealWindow = 100;
        uint256 resolution = registry.longestResolution(p.windows);
        vm.expectRevert(
            abi.encodeWithSelector(IJobRegistry.JobResolutionTooLong.selector, resolution, UNBONDING_BLOCKS, EPOCH_BLOCKS)
        );
        this.create(p);
    }

    function testFuzz_longestResolution_boundsEveryTimeline(uint32 a, uint32 b, uint32 c, uint32 d, uint32 e) public view {
        IJobTypes.Windows memory w = IJobTypes.Windows(
            uint32(bound(a, 1, 1_000)),
            uint32(bound(b, 1, 50)),
            uint32(bound(c, 1, 1_000)),
            uint32(bound(d, 1, 1_000)),
            uint32(bound(e, 1, 1_000)),
            7,
            2_000
        );
        // The last deadline of a submission made at the end of its submit window, after every retry.
        vm.assertGt(registry.longestResolution(w), uint256(w.submitWindow) + 3 * w.seedDelay + w.checkpointRevealWindow, "covers the tries");
    }
}
