// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {LedgerStory} from "./WorkLedger.t.sol";
import {Vm} from "./utils/Vm.sol";
import {WorkFixtures} from "./utils/WorkFixtures.sol";
import {IJobTypes} from "../src/interfaces/IJobTypes.sol";
import {ILedgerTypes} from "../src/interfaces/ILedgerTypes.sol";
import {IStakeManager} from "../src/interfaces/IStakeManager.sol";
import {IWorkLedger} from "../src/interfaces/IWorkLedger.sol";
import {LedgerSettlement} from "../src/LedgerSettlement.sol";
import {WorkLedger} from "../src/WorkLedger.sol";
import {Commitments} from "../src/libraries/Commitments.sol";
import {Sampling} from "../src/libraries/Sampling.sol";
import {SeatFlags} from "../src/libraries/SeatFlags.sol";

/// @notice Unit tests of every external function of the work ledger: each refusal with its exact error and arguments,
/// and each effect. The default job (LedgerStory) has two rounds of two slots, every work slot audited, three-seat
/// panels, and windows that put a submission at block S on this timeline: seed block S+2, checkpoint reveal deadline
/// S+22, commit end S+42, reveal end S+62, unseal end S+72, committee seed S+74, its commit end S+94, its reveal end
/// S+114; a re-drawn audit panel (attempt 1) draws from S+64 and reveals until S+104.
abstract contract LedgerUnit is LedgerStory {
    bytes32 internal constant PLANT_SALT = keccak256("plant salt");

    function key(uint16 slot) internal view returns (bytes32) {
        return subject(jobId, 0, slot);
    }

    function stored(ILedgerTypes.Commitment memory c) internal pure returns (bytes32) {
        return keccak256(abi.encode(c));
    }

    /// @dev minerA claims and submits slot 0 of the default job; returns the commitment and the submission block.
    function submitted() internal returns (ILedgerTypes.Commitment memory c, uint256 s) {
        c = claimAndSubmit(jobId, 0, 0, minerA, HONEST);
        s = block.number;
    }

    /// @dev Submitted, seeded, checkpoints revealed: the audit panel can be drawn.
    function revealed() internal returns (uint256 s) {
        (ILedgerTypes.Commitment memory c, uint256 at) = submitted();
        seed(jobId, 0, 0);
        revealSampled(jobId, 0, 0, minerA, HONEST, c);
        s = at;
    }

    /// @dev Audit verdicts given, the panel's reveal window over: a dispute (if contested) can be drawn after unsealEnd.
    function audited(ILedgerTypes.Verdict[3] memory verdicts) internal returns (uint256 s) {
        s = revealed();
        auditWith(jobId, 0, 0, verdicts);
    }

    function noBoundaries() internal pure returns (ILedgerTypes.Boundary[] memory b, string[] memory cids) {
        b = new ILedgerTypes.Boundary[](0);
        cids = new string[](0);
    }

    function reveal(ILedgerTypes.Verdict verdict, bytes32 evidence, bytes32 s)
        internal
        pure
        returns (ILedgerTypes.VerdictReveal memory)
    {
        return ILedgerTypes.VerdictReveal(verdict, evidence, s, "bafy-evidence");
    }

    /// @dev A job of one round and one work slot whose only work slot was vacated unclaimed: its aggregation slot
    /// (slot 1) is open.
    function jobWithOpenAggregation() internal returns (uint256 job) {
        IJobTypes.JobParams memory p = defaultParams();
        p.numRounds = 1;
        p.slotsPerRound = 1;
        job = postJob(p);
        vm.roll(block.number + p.windows.roundClaimWindow + 1);
        ledger.vacateSlot(job, 0, 0);
    }

    function plantedJob() internal returns (uint256 job) {
        IJobTypes.JobParams memory p = defaultParams();
        p.plantBond = 50 ether;
        job = postJobWithPlants(p, plantRootOf(0, 0, sentinel, PLANT_SALT));
    }

    /// @dev How many logs `emitter` emitted with `topic0` since recordLogs.
    function countLogs(address emitter, bytes32 topic0) internal returns (uint256 n) {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter == emitter && logs[i].topics.length != 0 && logs[i].topics[0] == topic0) ++n;
        }
    }
}

// ================================================================ jobs

contract WorkLedger_BindRegistry is LedgerUnit {
    function test_bindRegistry_revertsForAnyoneButTheDeployer() public {
        WorkLedger fresh = new WorkLedger(vault, stakes, address(new LedgerSettlement(vault, stakes)));
        vm.prank(sponsor);
        vm.expectRevert(abi.encodeWithSelector(IJobTypes.JobUnauthorizedRegistry.selector, sponsor));
        fresh.bindRegistry(sponsor);
    }

    function test_bindRegistry_revertsOnceBound() public {
        vm.expectRevert(abi.encodeWithSelector(IJobTypes.JobUnauthorizedRegistry.selector, address(this)));
        ledger.bindRegistry(address(this));
    }

    function test_bindRegistry_bindsOnce_andOnlyTheRegistryRegistersJobs() public {
        WorkLedger fresh = new WorkLedger(vault, stakes, address(new LedgerSettlement(vault, stakes)));
        address newRegistry = makeAddr("new registry");
        vm.expectEmit(true, false, false, true);
        emit ILedgerTypes.RegistryBound(newRegistry);
        fresh.bindRegistry(newRegistry);
        vm.expectRevert(abi.encodeWithSelector(IJobTypes.JobUnauthorizedRegistry.selector, address(this)));
        fresh.bindRegistry(address(this));
    }
}

contract WorkLedger_RegisterJob is LedgerUnit {
    function test_registerJob_revertsForAnyoneButTheRegistry() public {
        IJobTypes.JobParams memory p = defaultParams();
        vm.prank(sponsor);
        vm.expectRevert(abi.encodeWithSelector(IJobTypes.JobUnauthorizedRegistry.selector, sponsor));
        ledger.registerJob(7, sponsor, p, bytes32(0), bytes32(0), 1 ether);
        // Not even the deployer: only the bound registry hands jobs over.
        vm.expectRevert(abi.encodeWithSelector(IJobTypes.JobUnauthorizedRegistry.selector, address(this)));
        ledger.registerJob(7, sponsor, p, bytes32(0), bytes32(0), 1 ether);
    }

    function test_registerJob_opensRoundZero_andRecordsTheEscrow() public {
        IJobTypes.JobParams memory p = defaultParams();
        uint256 escrow = registry.requiredEscrow(p);
        uint256 next = registry.jobCount() + 1;
        fund(sponsor, escrow);
        vm.prank(sponsor);
        token.approve(address(registry), escrow);
        IJobTypes.JobContent memory content = IJobTypes.JobContent(
            keccak256("spec"), keccak256("tolerance"), keccak256("initial checkpoint"), bytes32(0)
        );
        vm.expectEmit(true, true, false, true, address(ledger));
        emit ILedgerTypes.JobRegistered(next, sponsor, escrow);
        vm.expectEmit(true, true, false, true, address(ledger));
        emit ILedgerTypes.RoundOpened(next, 0, keccak256("initial checkpoint"));
        vm.prank(sponsor);
        uint256 job = registry.createJob(p, content, "bafy-spec");
        vm.assertEq(job, next, "job id");
        (address jobSponsor, IJobTypes.JobStatus status, uint16 current) = ledger.jobState(job);
        vm.assertEq(jobSponsor, sponsor, "sponsor");
        vm.assertEq(uint256(status), uint256(IJobTypes.JobStatus.Active), "active");
        vm.assertEq(current, 0, "round 0");
        vm.assertEq(ledger.roundOf(job, 0).openedAt, block.number, "opened now");
        vm.assertEq(ledger.roundOf(job, 0).baseDigest, keccak256("initial checkpoint"), "base digest");
        vm.assertEq(vault.escrowOf(job), escrow, "escrow recorded");
        vm.assertEq(keccak256(abi.encode(ledger.jobParams(job))), keccak256(abi.encode(p)), "parameters kept");
    }
}

contract WorkLedger_Views is LedgerUnit {
    function test_jobViews_revertOnAnUnknownJob() public {
        vm.expectRevert(abi.encodeWithSelector(IJobTypes.JobUnknown.selector, 99));
        ledger.jobParams(99);
        vm.expectRevert(abi.encodeWithSelector(IJobTypes.JobUnknown.selector, 99));
        ledger.jobState(99);
    }

    function testFuzz_subjectKey_isTheHashOfJobRoundSlot(uint256 job, uint16 round, uint16 slot) public view {
        vm.assertEq(ledger.subjectKey(job, round, slot), keccak256(abi.encode(job, round, slot)), "subject key");
    }
}

// ================================================================ miners

contract WorkLedger_ClaimSlot is LedgerUnit {
    function test_claimSlot_revertsOnAnUnknownJob() public {
        vm.prank(minerA);
        vm.expectRevert(abi.encodeWithSelector(IJobTypes.JobUnknown.selector, 99));
        ledger.claimSlot(99, 0, 0);
    }

    function test_claimSlot_revertsOnAJobThatEnded() public {
        uint256 job = jobWithOpenAggregation();
        vm.roll(block.number + 101);
        ledger.vacateSlot(job, 0, 1); // nobody aggregated: abandoned
        vm.prank(minerA);
        vm.expectRevert(abi.encodeWithSelector(IJobTypes.JobWrongStatus.selector, job, IJobTypes.JobStatus.Abandoned));
        ledger.claimSlot(job, 0, 1);
    }

    function test_claimSlot_revertsOutsideTheOpenRound() public {
        vm.prank(minerA);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerRoundNotOpen.selector, jobId, 1, 0));
        ledger.claimSlot(jobId, 1, 0);
    }

    function test_claimSlot_revertsBeyondTheAggregationSlot() public {
        vm.prank(minerA);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerSlotOutOfRange.selector, 3, 2));
        ledger.claimSlot(jobId, 0, 3);
    }

    function test_claimSlot_revertsOnTheAggregationSlotBeforeEveryWorkSlotSettled() public {
        vm.prank(aggregator);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerRoundNotReadyForAggregation.selector, jobId, 0, 0, 2));
        ledger.claimSlot(jobId, 0, 2);
    }

    function test_claimSlot_revertsWhenTaken() public {
        vm.prank(minerA);
        ledger.claimSlot(jobId, 0, 0);
        bytes32 k = key(0);
        vm.prank(minerB);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerSlotTaken.selector, k, minerA));
        ledger.claimSlot(jobId, 0, 0);
        // Its own miner cannot claim it twice either.
        vm.prank(minerA);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerSlotTaken.selector, k, minerA));
        ledger.claimSlot(jobId, 0, 0);
    }

    function test_claimSlot_revertsOnAVacatedSlot() public {
        vm.prank(minerA);
        ledger.claimSlot(jobId, 0, 0);
        vm.roll(block.number + 51);
        ledger.vacateSlot(jobId, 0, 0);
        bytes32 k = key(0);
        vm.prank(minerB);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerSlotTaken.selector, k, minerA));
        ledger.claimSlot(jobId, 0, 0);
    }

    function test_claimSlot_revertsBelowTheMinerMinimum() public {
        address poor = makeAddr("poor miner");
        stakeAs(poor, 99 ether);
        vm.prank(poor);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerMinerStakeTooLow.selector, poor, 100 ether, 99 ether));
        ledger.claimSlot(jobId, 0, 0);
    }

    /// @dev The minimum is on bonded stake, the collateral on free stake: a miner whose stake is all locked in open
    /// slots cannot claim one more.
    function test_claimSlot_revertsWhenTheCollateralIsNotFree() public {
        IJobTypes.JobParams memory p = defaultParams();
        p.slotsPerRound = 6;
        uint256 job = postJob(p);
        address miner = makeAddr("fully locked miner");
        stakeAs(miner, 100 ether);
        for (uint16 slot; slot < 5; ++slot) {
            vm.prank(miner);
            ledger.claimSlot(job, 0, slot);
        }
        vm.prank(miner);
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeInsufficientFree.selector, miner, 20 ether, 0));
        ledger.claimSlot(job, 0, 5);
    }

    function test_claimSlot_locksTheCollateral_andStartsTheSubmitWindow() public {
        bytes32 k = key(0);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit ILedgerTypes.SlotClaimed(k, jobId, minerA, 0, 0, block.number + 50);
        vm.expectEmit(true, false, false, true, address(stakes));
        emit IStakeManager.CollateralLocked(minerA, 20 ether, 20 ether);
        vm.prank(minerA);
        ledger.claimSlot(jobId, 0, 0);
        ILedgerTypes.SubjectView memory v = view_(jobId, 0, 0);
        vm.assertEq(uint256(v.status), uint256(ILedgerTypes.SlotStatus.Claimed), "claimed");
        vm.assertEq(v.miner, minerA, "miner");
        vm.assertEq(v.deadlineOrSubmittedAt, block.number + 50, "submit deadline");
        vm.assertEq(stakes.stakeOf(minerA).locked, 20 ether, "collateral locked");
        vm.assertEq(staked(minerA), 500 ether, "nothing taken");
    }

    function testFuzz_claimSlot_locksExactlyOneCollateralPerSlot(uint256 stake, uint256 slots) public {
        IJobTypes.JobParams memory p = defaultParams();
        p.slotsPerRound = 8;
        uint256 job = postJob(p);
        address miner = makeAddr("fuzzed miner");
        stake = bound(stake, 100 ether, 400 ether);
        slots = bound(slots, 1, 8);
        stakeAs(miner, stake);
        for (uint16 slot; slot < slots; ++slot) {
            uint256 free = stakes.freeStakeOf(miner);
            vm.prank(miner);
            if (free < 20 ether) {
                vm.expectRevert(
                    abi.encodeWithSelector(IStakeManager.StakeInsufficientFree.selector, miner, 20 ether, free)
                );
            }
            ledger.claimSlot(job, 0, slot);
        }
        uint256 claimed = slots < stake / 20 ether ? slots : stake / 20 ether;
        vm.assertEq(stakes.stakeOf(miner).locked, claimed * 20 ether, "one collateral per claimed slot");
        vm.assertLe(stakes.stakeOf(miner).locked, stakes.stakeOf(miner).staked, "locked <= staked");
    }
}

contract WorkLedger_Submit is LedgerUnit {
    function test_submit_revertsOnAnUnclaimedSlot() public {
        bytes32 k = key(0);
        vm.prank(minerA);
        vm.expectRevert(
            abi.encodeWithSelector(ILedgerTypes.LedgerWrongStatus.selector, k, ILedgerTypes.SlotStatus.Open)
        );
        ledger.submit(jobId, 0, 0, "bafy-bundle", bytes32(0), bytes32(0));
    }

    function test_submit_revertsForAnotherMiner() public {
        vm.prank(minerA);
        ledger.claimSlot(jobId, 0, 0);
        bytes32 k = key(0);
        vm.prank(minerB);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerNotSlotMiner.selector, k, minerB, minerA));
        ledger.submit(jobId, 0, 0, "bafy-bundle", bytes32(0), bytes32(0));
    }

    function test_submit_revertsAfterTheDeadline_andAcceptsAtIt() public {
        vm.prank(minerA);
        ledger.claimSlot(jobId, 0, 0);
        uint256 deadline = block.number + 50;
        bytes32 k = key(0);
        uint256 snapshot = vm.snapshotState();
        vm.roll(deadline);
        vm.prank(minerA);
        ledger.submit(jobId, 0, 0, "bafy-bundle", bytes32(0), bytes32(0));
        vm.revertToState(snapshot);
        vm.roll(deadline + 1);
        vm.prank(minerA);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerDeadlinePassed.selector, k, deadline, deadline + 1));
        ledger.submit(jobId, 0, 0, "bafy-bundle", bytes32(0), bytes32(0));
    }

    function test_submit_revertsTwice() public {
        submitted();
        bytes32 k = key(0);
        vm.prank(minerA);
        vm.expectRevert(
            abi.encodeWithSelector(ILedgerTypes.LedgerWrongStatus.selector, k, ILedgerTypes.SlotStatus.Submitted)
        );
        ledger.submit(jobId, 0, 0, "bafy-other", bytes32(0), bytes32(0));
    }

    function test_submit_storesTheCommitment_andStartsTheTimeline() public {
        vm.prank(minerA);
        ledger.claimSlot(jobId, 0, 0);
        vm.roll(block.number + 7);
        ILedgerTypes.Commitment memory c =
            ILedgerTypes.Commitment(keccak256(bytes("bafy-bundle")), keccak256("result"), keccak256("root"));
        bytes32 k = key(0);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit ILedgerTypes.WorkSubmitted(k, jobId, minerA, 0, 0, "bafy-bundle", c);
        vm.prank(minerA);
        ledger.submit(jobId, 0, 0, "bafy-bundle", c.resultDigest, c.merkleRoot);
        ILedgerTypes.SubjectView memory v = view_(jobId, 0, 0);
        vm.assertEq(v.commitment, stored(c), "commitment stored whole");
        vm.assertEq(uint256(v.status), uint256(ILedgerTypes.SlotStatus.Submitted), "submitted");
        vm.assertEq(v.deadlineOrSubmittedAt, block.number, "the timeline starts at the submission");
        vm.assertEq(timeline(jobId, 0, 0).seedBlock, block.number + 2, "seed block fixed in advance");
    }
}

contract WorkLedger_RevealCheckpoints is LedgerUnit {
    function _seeded() internal returns (ILedgerTypes.Commitment memory c) {
        (c,) = submitted();
        seed(jobId, 0, 0);
    }

    function _call(
        address who,
        ILedgerTypes.Commitment memory c,
        ILedgerTypes.Boundary[] memory b,
        string[] memory cids
    ) internal {
        vm.prank(who);
        ledger.revealCheckpoints(jobId, 0, 0, c, b, cids);
    }

    function test_revealCheckpoints_revertsBeforeSubmission() public {
        vm.prank(minerA);
        ledger.claimSlot(jobId, 0, 0);
        (ILedgerTypes.Boundary[] memory b, string[] memory cids) = noBoundaries();
        vm.expectRevert(
            abi.encodeWithSelector(ILedgerTypes.LedgerWrongStatus.selector, key(0), ILedgerTypes.SlotStatus.Claimed)
        );
        _call(minerA, commitmentOf(0, 0), b, cids);
    }

    function test_revealCheckpoints_revertsForAnotherMiner() public {
        ILedgerTypes.Commitment memory c = _seeded();
        (ILedgerTypes.Boundary[] memory b, string[] memory cids) = boundariesFor(jobId, 0, 0, minerA, HONEST);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerNotSlotMiner.selector, key(0), minerB, minerA));
        _call(minerB, c, b, cids);
    }

    function test_revealCheckpoints_revertsOnAnotherPreimage() public {
        ILedgerTypes.Commitment memory c = _seeded();
        (ILedgerTypes.Boundary[] memory b, string[] memory cids) = boundariesFor(jobId, 0, 0, minerA, HONEST);
        bytes32 expected = stored(c);
        ILedgerTypes.Commitment memory other =
            ILedgerTypes.Commitment(c.bundleCidHash, keccak256("another result"), c.merkleRoot);
        vm.expectRevert(
            abi.encodeWithSelector(ILedgerTypes.LedgerCommitmentMismatch.selector, key(0), expected, stored(other))
        );
        _call(minerA, other, b, cids);
    }

    /// @dev Until the seed block's randomness is recorded. Recorded randomness is final (only a transaction in that
    /// very block can write it), so the seed is usable from that block on: the reveal then gets past the seed and
    /// is judged on its boundaries.
    function test_revealCheckpoints_revertsWhileTheSeedIsPending() public {
        (ILedgerTypes.Commitment memory c, uint256 s) = submitted();
        (ILedgerTypes.Boundary[] memory b, string[] memory cids) = noBoundaries();
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerTooEarly.selector, key(0), s + 3, s));
        _call(minerA, c, b, cids);
        vm.roll(s + 2);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerTooEarly.selector, key(0), s + 3, s + 2));
        _call(minerA, c, b, cids);
        recordAt(s + 2);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerBoundaryCount.selector, 4, 0));
        _call(minerA, c, b, cids);
    }

    function test_revealCheckpoints_revertsWhenEverySeedTryWasMissed() public {
        (ILedgerTypes.Commitment memory c, uint256 s) = submitted();
        vm.roll(s + 7);
        (ILedgerTypes.Boundary[] memory b, string[] memory cids) = noBoundaries();
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerSeedFailed.selector, key(0)));
        _call(minerA, c, b, cids);
    }

    function test_revealCheckpoints_revertsOnUnauditedWork() public {
        IJobTypes.JobParams memory p = defaultParams();
        p.auditBps = 1;
        uint256 job = postJob(p);
        ILedgerTypes.Commitment memory c = claimAndSubmit(job, 0, 0, minerA, HONEST);
        seed(job, 0, 0);
        (, bool isAudited) = lens.auditStatus(job, 0, 0);
        vm.assertFalse(isAudited, "this seed does not audit");
        bytes32 k = subject(job, 0, 0);
        (ILedgerTypes.Boundary[] memory b, string[] memory cids) = noBoundaries();
        vm.prank(minerA);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerNotAudited.selector, k));
        ledger.revealCheckpoints(job, 0, 0, c, b, cids);
    }

    function test_revealCheckpoints_revertsAfterTheDeadline_andAcceptsAtIt() public {
        ILedgerTypes.Commitment memory c = _seeded();
        uint256 deadline = timeline(jobId, 0, 0).revealDeadline;
        (ILedgerTypes.Boundary[] memory b, string[] memory cids) = boundariesFor(jobId, 0, 0, minerA, HONEST);
        uint256 snapshot = vm.snapshotState();
        vm.roll(deadline);
        _call(minerA, c, b, cids);
        vm.revertToState(snapshot);
        vm.roll(deadline + 1);
        vm.expectRevert(
            abi.encodeWithSelector(ILedgerTypes.LedgerDeadlinePassed.selector, key(0), deadline, deadline + 1)
        );
        _call(minerA, c, b, cids);
    }

    function test_revealCheckpoints_revertsOnAnAggregate() public {
        uint256 job = jobWithOpenAggregation();
        vm.prank(aggregator);
        ledger.claimSlot(job, 0, 1);
        vm.prank(aggregator);
        ledger.submit(job, 0, 1, "bafy-aggregate", keccak256("aggregate"), bytes32(0));
        ILedgerTypes.Commitment memory c =
            ILedgerTypes.Commitment(keccak256(bytes("bafy-aggregate")), keccak256("aggregate"), bytes32(0));
        seed(job, 0, 1);
        bytes32 k = subject(job, 0, 1);
        (ILedgerTypes.Boundary[] memory b, string[] memory cids) = noBoundaries();
        vm.prank(aggregator);
        vm.expectRevert(
            abi.encodeWithSelector(ILedgerTypes.LedgerWrongStatus.selector, k, ILedgerTypes.SlotStatus.Submitted)
        );
        ledger.revealCheckpoints(job, 0, 1, c, b, cids);
    }

    function test_revealCheckpoints_revertsTwice() public {
        ILedgerTypes.Commitment memory c = _seeded();
        (ILedgerTypes.Boundary[] memory b, string[] memory cids) = boundariesFor(jobId, 0, 0, minerA, HONEST);
        _call(minerA, c, b, cids);
        vm.expectRevert(
            abi.encodeWithSelector(
                ILedgerTypes.LedgerWrongStatus.selector, key(0), ILedgerTypes.SlotStatus.CheckpointsRevealed
            )
        );
        _call(minerA, c, b, cids);
    }

    /// @dev Exactly two boundaries per sampled interval (m = 2 here).
    function testFuzz_revealCheckpoints_revertsOnAnyOtherNumberOfBoundaries(uint256 n) public {
        n = bound(n, 0, 12);
        vm.assume(n != 4);
        ILedgerTypes.Commitment memory c = _seeded();
        (ILedgerTypes.Boundary[] memory full, string[] memory cids) = boundariesFor(jobId, 0, 0, minerA, HONEST);
        ILedgerTypes.Boundary[] memory b = new ILedgerTypes.Boundary[](n);
        for (uint256 i; i < n; ++i) {
            b[i] = full[i % 4];
        }
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerBoundaryCount.selector, 4, n));
        _call(minerA, c, b, cids);
    }

    /// @dev One CID per revealed boundary, plus up to 2m more for an audit's short replay windows.
    function test_revealCheckpoints_revertsOnTooFewOrTooManyCids_andAcceptsUpTo4m() public {
        ILedgerTypes.Commitment memory c = _seeded();
        (ILedgerTypes.Boundary[] memory b,) = boundariesFor(jobId, 0, 0, minerA, HONEST);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerBoundaryCount.selector, 4, 3));
        _call(minerA, c, b, new string[](3));
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerBoundaryCount.selector, 4, 9));
        _call(minerA, c, b, new string[](9));
        _call(minerA, c, b, new string[](8));
        vm.assertEq(uint256(view_(jobId, 0, 0).status), uint256(ILedgerTypes.SlotStatus.CheckpointsRevealed), "ok");
    }

    function test_revealCheckpoints_revertsOnABoundaryOutOfPlace() public {
        ILedgerTypes.Commitment memory c = _seeded();
        uint32[] memory sampled = lens.sampledIntervals(jobId, 0, 0);
        (ILedgerTypes.Boundary[] memory b, string[] memory cids) = boundariesFor(jobId, 0, 0, minerA, HONEST);
        // End before start.
        (b[0], b[1]) = (b[1], b[0]);
        vm.expectRevert(
            abi.encodeWithSelector(ILedgerTypes.LedgerWrongBoundary.selector, 0, sampled[0], sampled[0] + 1)
        );
        _call(minerA, c, b, cids);
        // The second interval first.
        (b, cids) = boundariesFor(jobId, 0, 0, minerA, HONEST);
        (b[0], b[1], b[2], b[3]) = (b[2], b[3], b[0], b[1]);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerWrongBoundary.selector, 0, sampled[0], sampled[1]));
        _call(minerA, c, b, cids);
    }

    /// @dev The proof's length is the tree's depth (ceil(log2(K + 1)) = 2 here), neither shorter nor longer.
    function testFuzz_revealCheckpoints_revertsOnAProofOfTheWrongLength(uint256 length, uint256 position) public {
        length = bound(length, 0, 6);
        vm.assume(length != 2);
        position = bound(position, 0, 3);
        ILedgerTypes.Commitment memory c = _seeded();
        (ILedgerTypes.Boundary[] memory b, string[] memory cids) = boundariesFor(jobId, 0, 0, minerA, HONEST);
        bytes32[] memory proof = new bytes32[](length);
        for (uint256 i; i < length; ++i) {
            proof[i] = i < 2 ? b[position].proof[i] : keccak256(abi.encode(i));
        }
        b[position].proof = proof;
        vm.expectRevert(
            abi.encodeWithSelector(ILedgerTypes.LedgerInvalidMerkleProof.selector, key(0), b[position].index, length, 2)
        );
        _call(minerA, c, b, cids);
    }

    function test_revealCheckpoints_revertsOnADigestTheRootDoesNotHold() public {
        ILedgerTypes.Commitment memory c = _seeded();
        (ILedgerTypes.Boundary[] memory b, string[] memory cids) = boundariesFor(jobId, 0, 0, minerA, HONEST);
        b[3].checkpointDigest = keccak256("a checkpoint never committed");
        vm.expectRevert(
            abi.encodeWithSelector(ILedgerTypes.LedgerInvalidMerkleProof.selector, key(0), b[3].index, 2, 2)
        );
        _call(minerA, c, b, cids);
        (b, cids) = boundariesFor(jobId, 0, 0, minerA, HONEST);
        b[2].traceDigest = keccak256("a trace never committed");
        vm.expectRevert(
            abi.encodeWithSelector(ILedgerTypes.LedgerInvalidMerkleProof.selector, key(0), b[2].index, 2, 2)
        );
        _call(minerA, c, b, cids);
    }

    /// @dev A proof of a neighbouring leaf does not open another index: the index's bits choose the hashing side.
    function test_revealCheckpoints_revertsOnTheSiblingsProof() public {
        ILedgerTypes.Commitment memory c = _seeded();
        (ILedgerTypes.Boundary[] memory b, string[] memory cids) = boundariesFor(jobId, 0, 0, minerA, HONEST);
        bytes32[4] memory l = leaves(jobId, 0, 0, minerA, HONEST);
        b[0].proof = WorkFixtures.proof(l, b[0].index ^ 1);
        vm.expectRevert(
            abi.encodeWithSelector(ILedgerTypes.LedgerInvalidMerkleProof.selector, key(0), b[0].index, 2, 2)
        );
        _call(minerA, c, b, cids);
    }

    function test_revealCheckpoints_publishesTheSampledBoundaries() public {
        ILedgerTypes.Commitment memory c = _seeded();
        (ILedgerTypes.Boundary[] memory b, string[] memory cids) = boundariesFor(jobId, 0, 0, minerA, HONEST);
        vm.expectEmit(true, true, false, true, address(ledger));
        emit ILedgerTypes.CheckpointsRevealed(key(0), minerA, b, cids);
        _call(minerA, c, b, cids);
        vm.assertEq(
            uint256(view_(jobId, 0, 0).status), uint256(ILedgerTypes.SlotStatus.CheckpointsRevealed), "revealed"
        );
    }
}

// ================================================================ randomness and seeds

contract WorkLedger_RecordRandomness is LedgerUnit {
    function test_recordRandomness_recordsThisBlocksPrevrandao() public {
        bytes32 beacon = keccak256("beacon");
        vm.prevrandao(beacon);
        vm.expectEmit(true, false, false, true, address(ledger));
        emit ILedgerTypes.RandomnessRecorded(block.number, beacon);
        ledger.recordRandomness();
        vm.assertEq(ledger.randomnessAt(block.number), beacon, "recorded");
        vm.assertEq(ledger.randomnessAt(block.number - 1), bytes32(0), "other blocks untouched");
        vm.assertEq(ledger.randomnessAt(block.number + 1), bytes32(0), "future blocks untouched");
    }

    /// @dev A second call in the same block changes nothing and emits nothing, whatever it sees.
    function test_recordRandomness_isIdempotentWithinABlock() public {
        bytes32 beacon = keccak256("beacon");
        vm.prevrandao(beacon);
        ledger.recordRandomness();
        vm.prevrandao(keccak256("another value"));
        vm.recordLogs();
        ledger.recordRandomness();
        vm.assertEq(countLogs(address(ledger), ILedgerTypes.RandomnessRecorded.selector), 0, "no second event");
        vm.assertEq(ledger.randomnessAt(block.number), beacon, "first value kept");
    }

    /// @dev Chains without a beacon report zero: the parent hash, bound to the block number, is used instead.
    function test_recordRandomness_fallsBackToTheParentHashWithoutABeacon() public {
        bytes32 parent = keccak256("parent block");
        vm.setBlockhash(block.number - 1, parent);
        vm.prevrandao(bytes32(0));
        ledger.recordRandomness();
        bytes32 expected = keccak256(abi.encode(parent, block.number));
        vm.assertEq(ledger.randomnessAt(block.number), expected, "parent hash fallback");
    }

    function testFuzz_recordRandomness_neverRecordsZero(bytes32 beacon, uint256 blockNumber) public {
        vm.roll(bound(blockNumber, 2, 1e12));
        vm.prevrandao(beacon);
        ledger.recordRandomness();
        bytes32 got = ledger.randomnessAt(block.number);
        vm.assertNotEq(got, bytes32(0), "recorded randomness is never zero (zero means missing)");
        if (beacon != 0) vm.assertEq(got, beacon, "the beacon itself when there is one");
    }
}

contract WorkLedger_RecordSeed is LedgerUnit {
    function test_recordSeed_revertsOnASlotWithoutWork() public {
        vm.expectRevert(
            abi.encodeWithSelector(ILedgerTypes.LedgerWrongStatus.selector, key(0), ILedgerTypes.SlotStatus.Open)
        );
        ledger.recordSeed(jobId, 0, 0);
        vm.prank(minerA);
        ledger.claimSlot(jobId, 0, 0);
        vm.expectRevert(
            abi.encodeWithSelector(ILedgerTypes.LedgerWrongStatus.selector, key(0), ILedgerTypes.SlotStatus.Claimed)
        );
        ledger.recordSeed(jobId, 0, 0);
    }

    function test_recordSeed_revertsOnASettledSubject() public {
        audited(pass3());
        vm.roll(timeline(jobId, 0, 0).unsealEnd + 1);
        ledger.settleSubmission(jobId, 0, 0);
        vm.expectRevert(
            abi.encodeWithSelector(ILedgerTypes.LedgerWrongStatus.selector, key(0), ILedgerTypes.SlotStatus.Accepted)
        );
        ledger.recordSeed(jobId, 0, 0);
    }

    function test_recordSeed_revertsWhileTheSeedBlockIsAhead() public {
        (, uint256 s) = submitted();
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerTooEarly.selector, key(0), s + 3, s));
        ledger.recordSeed(jobId, 0, 0);
        // A first try nobody recorded: the next try is the one to wait for.
        vm.roll(s + 3);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerTooEarly.selector, key(0), s + 5, s + 3));
        ledger.recordSeed(jobId, 0, 0);
    }

    function test_recordSeed_fixesTheSeedOnce() public {
        (, uint256 s) = submitted();
        bytes32 beacon = keccak256("seed beacon");
        recordAt(s + 2, beacon);
        vm.roll(s + 3);
        bytes32 k = key(0);
        bytes32 expected = Sampling.auditSeed(beacon, k);
        vm.expectEmit(true, false, false, true, address(ledger));
        emit ILedgerTypes.SeedRecorded(k, expected, s + 2, true);
        ledger.recordSeed(jobId, 0, 0);
        vm.recordLogs();
        ledger.recordSeed(jobId, 0, 0);
        vm.assertEq(countLogs(address(ledger), ILedgerTypes.SeedRecorded.selector), 0, "fixed once");
        ILedgerTypes.SubjectView memory v = view_(jobId, 0, 0);
        vm.assertEq(v.auditSeed, expected, "seed");
        vm.assertEq(v.seedAttempt, 0, "first try");
    }

    /// @dev A later try always audits: not recording the first seed block never spares a miner its audit.
    function test_recordSeed_aRetriedTryForcesAnAudit() public {
        IJobTypes.JobParams memory p = defaultParams();
        p.auditBps = 1;
        uint256 job = postJob(p);
        claimAndSubmit(job, 0, 0, minerA, HONEST);
        uint256 s = block.number;
        bytes32 beacon = keccak256("second try");
        recordAt(s + 4, beacon);
        vm.roll(s + 5);
        bytes32 k = subject(job, 0, 0);
        vm.expectEmit(true, false, false, true, address(ledger));
        emit ILedgerTypes.SeedRecorded(k, Sampling.auditSeed(beacon, k), s + 4, true);
        ledger.recordSeed(job, 0, 0);
        vm.assertEq(view_(job, 0, 0).seedAttempt, 1, "second try");
    }

    function test_recordSeed_marksTheSeedFailedAfterEveryTry_withoutReverting() public {
        (, uint256 s) = submitted();
        vm.roll(s + 7);
        vm.recordLogs();
        ledger.recordSeed(jobId, 0, 0);
        vm.assertEq(countLogs(address(ledger), ILedgerTypes.SeedRecorded.selector), 0, "no seed");
        vm.assertEq(view_(jobId, 0, 0).flags & 8, 8, "seed failed");
        // Randomness recorded late, in a block nobody asked for, changes nothing.
        recordAt(s + 8);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerSeedFailed.selector, key(0)));
        ledger.drawSeats(jobId, 0, 0, AUDIT);
    }
}

// ================================================================ panels

contract WorkLedger_DrawSeats is LedgerUnit {
    function test_drawSeats_revertsOnASlotWithoutWork() public {
        vm.expectRevert(
            abi.encodeWithSelector(ILedgerTypes.LedgerWrongStatus.selector, key(0), ILedgerTypes.SlotStatus.Open)
        );
        ledger.drawSeats(jobId, 0, 0, AUDIT);
    }

    function test_drawSeats_revertsWhileTheSeedIsPending() public {
        (, uint256 s) = submitted();
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerTooEarly.selector, key(0), s + 3, s));
        ledger.drawSeats(jobId, 0, 0, AUDIT);
    }

    function test_drawSeats_revertsWhenEverySeedTryWasMissed() public {
        (, uint256 s) = submitted();
        vm.roll(s + 7);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerSeedFailed.selector, key(0)));
        ledger.drawSeats(jobId, 0, 0, AUDIT);
    }

    function test_drawSeats_revertsOnUnauditedWork() public {
        IJobTypes.JobParams memory p = defaultParams();
        p.auditBps = 1;
        uint256 job = postJob(p);
        claimAndSubmit(job, 0, 0, minerA, HONEST);
        seed(job, 0, 0);
        bytes32 k = subject(job, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerNotAudited.selector, k));
        ledger.drawSeats(job, 0, 0, AUDIT);
    }

    function test_drawSeats_revertsBeforeTheCheckpointsAreRevealed() public {
        submitted();
        seed(jobId, 0, 0);
        vm.expectRevert(
            abi.encodeWithSelector(ILedgerTypes.LedgerWrongStatus.selector, key(0), ILedgerTypes.SlotStatus.Submitted)
        );
        ledger.drawSeats(jobId, 0, 0, AUDIT);
    }

    function test_drawSeats_revertsTwiceForOneAttempt() public {
        revealed();
        ledger.drawSeats(jobId, 0, 0, AUDIT);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerPanelAlreadyDrawn.selector, key(0), AUDIT, 0));
        ledger.drawSeats(jobId, 0, 0, AUDIT);
    }

    /// @dev The draw deadline is half the commit window before its end (commits end at s + 42, the window is 20):
    /// a panel drawn later would leave its seats less than half the window to judge and commit.
    function test_drawSeats_revertsAfterTheDrawDeadline() public {
        uint256 s = revealed();
        uint256 before = vm.snapshotState();
        vm.roll(s + 32);
        ledger.drawSeats(jobId, 0, 0, AUDIT);
        vm.assertEq(view_(jobId, 0, 0).auditDrawn, 1, "drawn at the deadline itself");
        vm.revertToState(before);
        vm.roll(s + 33);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerDeadlinePassed.selector, key(0), s + 32, s + 33));
        ledger.drawSeats(jobId, 0, 0, AUDIT);
    }

    function test_drawSeats_writesEverySeatWithItsWindows() public {
        uint256 s = revealed();
        vm.recordLogs();
        ledger.drawSeats(jobId, 0, 0, AUDIT);
        vm.assertEq(countLogs(address(ledger), ILedgerTypes.SeatDrawn.selector), 3, "three seats drawn");
        for (uint8 seat; seat < 3; ++seat) {
            ILedgerTypes.Seat memory r = ledger.seatOf(key(0), AUDIT, seat);
            vm.assertTrue(r.validator != address(0) && r.validator != minerA, "a validator, never the miner");
            vm.assertEq(r.flags, SeatFlags.DRAWN, "drawn");
            vm.assertEq(r.commitEnd, s + 42, "commit end");
            vm.assertEq(r.revealEnd, s + 62, "reveal end");
            vm.assertEq(r.attempt, 0, "attempt 0");
            for (uint8 other; other < seat; ++other) {
                vm.assertNotEq(r.validator, ledger.seatOf(key(0), AUDIT, other).validator, "distinct");
            }
        }
        vm.assertEq(ledger.seatOf(key(0), AUDIT, 3).flags, 0, "no fourth seat");
        vm.assertEq(view_(jobId, 0, 0).auditDrawn, 1, "attempt 0 drawn");
    }

    /// @dev A panel that revealed nothing is re-drawn from the randomness of (its reveal end + seedDelay): not before
    /// that block, and from the block that records it on (recorded randomness is final).
    function test_drawSeats_aRedrawWaitsForItsOwnSeedBlock() public {
        uint256 s = revealed();
        ledger.drawSeats(jobId, 0, 0, AUDIT);
        vm.roll(s + 63);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerTooEarly.selector, key(0), s + 65, s + 63));
        ledger.drawSeats(jobId, 0, 0, AUDIT);
        vm.roll(s + 64);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerTooEarly.selector, key(0), s + 65, s + 64));
        ledger.drawSeats(jobId, 0, 0, AUDIT);
        recordAt(s + 64);
        ledger.drawSeats(jobId, 0, 0, AUDIT);
        ILedgerTypes.Seat memory r = ledger.seatOf(key(0), AUDIT, 3);
        vm.assertEq(r.attempt, 1, "seats 3..5 belong to attempt 1");
        vm.assertEq(r.commitEnd, s + 84, "its own commit window");
        vm.assertEq(r.revealEnd, s + 104, "its own reveal window");
    }

    function test_drawSeats_aRedrawNeedsItsRandomness() public {
        uint256 s = revealed();
        vm.roll(s + 65);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerRandomnessMissing.selector, key(0), s + 64));
        ledger.drawSeats(jobId, 0, 0, AUDIT);
    }

    function test_drawSeats_noCommitteeOnAnUncontestedSubject() public {
        uint256 s = audited(pass3());
        recordAt(s + 74);
        vm.roll(s + 75);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerNoDispute.selector, key(0)));
        ledger.drawSeats(jobId, 0, 0, COMMITTEE);
    }

    function test_drawSeats_noCommitteeUntilTheUnsealWindowClosed() public {
        uint256 s = audited([FAIL, PASS, PASS]);
        vm.roll(s + 72);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerNoDispute.selector, key(0)));
        ledger.drawSeats(jobId, 0, 0, COMMITTEE);
    }

    function test_drawSeats_theCommitteeWaitsForItsSeedBlock() public {
        uint256 s = audited([FAIL, PASS, PASS]);
        vm.roll(s + 73);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerTooEarly.selector, key(0), s + 75, s + 73));
        ledger.drawSeats(jobId, 0, 0, COMMITTEE);
    }

    function test_drawSeats_theCommitteeNeedsItsRandomness() public {
        uint256 s = audited([FAIL, PASS, PASS]);
        vm.roll(s + 75);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerRandomnessMissing.selector, key(0), s + 74));
        ledger.drawSeats(jobId, 0, 0, COMMITTEE);
    }

    /// @dev Committee commits end at s + 94: its draw deadline is s + 84.
    function test_drawSeats_theCommitteeRevertsAfterItsDrawDeadline() public {
        uint256 s = audited([FAIL, PASS, PASS]);
        recordAt(s + 74);
        uint256 before = vm.snapshotState();
        vm.roll(s + 84);
        ledger.drawSeats(jobId, 0, 0, COMMITTEE);
        vm.assertEq(view_(jobId, 0, 0).committeeDrawn, 1, "drawn at the deadline itself");
        vm.revertToState(before);
        vm.roll(s + 85);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerDeadlinePassed.selector, key(0), s + 84, s + 85));
        ledger.drawSeats(jobId, 0, 0, COMMITTEE);
    }

    function test_drawSeats_theCommitteeOncePerAttempt() public {
        uint256 s = audited([FAIL, PASS, PASS]);
        recordAt(s + 74);
        vm.roll(s + 75);
        ledger.drawSeats(jobId, 0, 0, COMMITTEE);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerPanelAlreadyDrawn.selector, key(0), COMMITTEE, 0));
        ledger.drawSeats(jobId, 0, 0, COMMITTEE);
        vm.assertEq(view_(jobId, 0, 0).committeeDrawn, 1, "committee attempt 0 drawn");
        vm.assertEq(ledger.seatOf(key(0), COMMITTEE, 0).revealEnd, s + 114, "committee reveal end");
    }

    /// @dev An aggregate has no checkpoints to reveal: its panel is drawn as soon as its seed is known, and an
    /// aggregate is always audited.
    function test_drawSeats_anAggregateIsDrawnOnceItsSeedIsKnown() public {
        uint256 job = jobWithOpenAggregation();
        vm.prank(aggregator);
        ledger.claimSlot(job, 0, 1);
        vm.prank(aggregator);
        ledger.submit(job, 0, 1, "bafy-aggregate", keccak256("aggregate"), bytes32(0));
        seed(job, 0, 1);
        ledger.drawSeats(job, 0, 1, AUDIT);
        vm.assertEq(view_(job, 0, 1).flags & 4, 4, "audited");
        vm.assertTrue(ledger.seatOf(subject(job, 0, 1), AUDIT, 0).validator != address(0), "seated");
    }
}

contract WorkLedger_CommitVerdict is LedgerUnit {
    function test_commitVerdict_revertsOnASeatNeverDrawn() public {
        revealed();
        bytes32 k = key(0);
        vm.prank(validators[0]);
        vm.expectRevert(
            abi.encodeWithSelector(ILedgerTypes.LedgerNotSeatHolder.selector, k, AUDIT, 0, validators[0], address(0))
        );
        ledger.commitVerdict(jobId, 0, 0, AUDIT, 0, keccak256("x"));
        ledger.drawSeats(jobId, 0, 0, AUDIT);
        vm.prank(validators[0]);
        vm.expectRevert(
            abi.encodeWithSelector(ILedgerTypes.LedgerNotSeatHolder.selector, k, AUDIT, 3, validators[0], address(0))
        );
        ledger.commitVerdict(jobId, 0, 0, AUDIT, 3, keccak256("x"));
    }

    function test_commitVerdict_revertsForAnyoneButTheHolder() public {
        revealed();
        ledger.drawSeats(jobId, 0, 0, AUDIT);
        address holder = holderOf(jobId, 0, 0, AUDIT, 1);
        bytes32 k = key(0);
        vm.prank(minerA);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerNotSeatHolder.selector, k, AUDIT, 1, minerA, holder));
        ledger.commitVerdict(jobId, 0, 0, AUDIT, 1, keccak256("x"));
    }

    function test_commitVerdict_revertsTwice() public {
        revealed();
        ledger.drawSeats(jobId, 0, 0, AUDIT);
        address holder = commitSeat(jobId, 0, 0, AUDIT, 0, PASS);
        bytes32 k = key(0);
        vm.prank(holder);
        vm.expectRevert(
            abi.encodeWithSelector(
                ILedgerTypes.LedgerSeatNotCommittable.selector, k, AUDIT, 0, SeatFlags.DRAWN | SeatFlags.COMMITTED
            )
        );
        ledger.commitVerdict(jobId, 0, 0, AUDIT, 0, keccak256("change of mind"));
    }

    function test_commitVerdict_revertsAfterTheCommitWindow_andAcceptsAtItsEnd() public {
        uint256 s = revealed();
        ledger.drawSeats(jobId, 0, 0, AUDIT);
        vm.roll(s + 42);
        commitSeat(jobId, 0, 0, AUDIT, 0, PASS);
        vm.roll(s + 43);
        address holder = holderOf(jobId, 0, 0, AUDIT, 1);
        bytes32 k = key(0);
        vm.prank(holder);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerDeadlinePassed.selector, k, s + 42, s + 43));
        ledger.commitVerdict(jobId, 0, 0, AUDIT, 1, keccak256("late"));
    }

    /// @dev A silent seat settled as such can never commit afterwards.
    function test_commitVerdict_revertsOnASettledSeat() public {
        uint256 s = revealed();
        ledger.drawSeats(jobId, 0, 0, AUDIT);
        commitSeat(jobId, 0, 0, AUDIT, 1, PASS);
        vm.roll(s + 43);
        revealSeat(jobId, 0, 0, AUDIT, 1, PASS);
        vm.roll(s + 73);
        ledger.settleSubmission(jobId, 0, 0);
        ledger.settleSeat(jobId, 0, 0, AUDIT, 0);
        address holder = holderOf(jobId, 0, 0, AUDIT, 0);
        bytes32 k = key(0);
        vm.prank(holder);
        vm.expectRevert(
            abi.encodeWithSelector(
                ILedgerTypes.LedgerSeatNotCommittable.selector, k, AUDIT, 0, SeatFlags.DRAWN | SeatFlags.SETTLED
            )
        );
        ledger.commitVerdict(jobId, 0, 0, AUDIT, 0, keccak256("too late"));
    }

    function testFuzz_commitVerdict_storesAll256Bits(bytes32 commitHash) public {
        revealed();
        ledger.drawSeats(jobId, 0, 0, AUDIT);
        address holder = holderOf(jobId, 0, 0, AUDIT, 2);
        bytes32 k = key(0);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit ILedgerTypes.VerdictCommitted(k, holder, AUDIT, 2, commitHash);
        vm.prank(holder);
        ledger.commitVerdict(jobId, 0, 0, AUDIT, 2, commitHash);
        vm.assertEq(ledger.seatCommitment(key(0), AUDIT, 2), commitHash, "the whole hash");
        vm.assertEq(ledger.seatOf(key(0), AUDIT, 2).flags, SeatFlags.DRAWN | SeatFlags.COMMITTED, "committed");
    }
}

contract WorkLedger_RevealVerdict is LedgerUnit {
    uint256 internal s;
    address internal holder;
    bytes32 internal evidence = keccak256("evidence");

    function setUp() public override {
        super.setUp();
        s = revealed();
        ledger.drawSeats(jobId, 0, 0, AUDIT);
        holder = commitSeat(jobId, 0, 0, AUDIT, 0, FAIL);
    }

    function test_revealVerdict_revertsOnASeatThatNeverCommitted() public {
        vm.roll(s + 43);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerSeatNotCommitted.selector, key(0), AUDIT, 1));
        ledger.revealVerdict(jobId, 0, 0, AUDIT, 1, reveal(PASS, evidence, salt(AUDIT, 1)));
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerSeatNotCommitted.selector, key(0), AUDIT, 9));
        ledger.revealVerdict(jobId, 0, 0, AUDIT, 9, reveal(PASS, evidence, salt(AUDIT, 9)));
    }

    function test_revealVerdict_revertsDuringTheCommitWindow() public {
        vm.roll(s + 42);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerTooEarly.selector, key(0), s + 43, s + 42));
        ledger.revealVerdict(jobId, 0, 0, AUDIT, 0, reveal(FAIL, evidence, salt(AUDIT, 0)));
    }

    function test_revealVerdict_revertsAfterTheRevealWindow_andAcceptsAtItsEnd() public {
        commitSeat(jobId, 0, 0, AUDIT, 1, PASS);
        vm.roll(s + 62);
        revealSeat(jobId, 0, 0, AUDIT, 1, PASS);
        vm.roll(s + 63);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerDeadlinePassed.selector, key(0), s + 62, s + 63));
        ledger.revealVerdict(jobId, 0, 0, AUDIT, 0, reveal(FAIL, evidence, salt(AUDIT, 0)));
    }

    function test_revealVerdict_revertsOnNone() public {
        vm.roll(s + 43);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerInvalidVerdict.selector, 0));
        ledger.revealVerdict(jobId, 0, 0, AUDIT, 0, reveal(NONE, evidence, salt(AUDIT, 0)));
    }

    /// @dev Verdict, evidence and salt are all bound: changing any one of them is a mismatch.
    function test_revealVerdict_revertsOnAnythingButTheCommittedPreimage() public {
        vm.roll(s + 43);
        bytes32 committed = ledger.seatCommitment(key(0), AUDIT, 0);
        ILedgerTypes.VerdictReveal[3] memory wrong = [
            reveal(PASS, evidence, salt(AUDIT, 0)),
            reveal(FAIL, keccak256("other evidence"), salt(AUDIT, 0)),
            reveal(FAIL, evidence, keccak256("other salt"))
        ];
        for (uint256 i; i < 3; ++i) {
            bytes32 recomputed = lens.verdictCommitment(
                key(0), AUDIT, 0, wrong[i].verdict, wrong[i].evidenceDigest, wrong[i].salt, holder
            );
            vm.expectRevert(
                abi.encodeWithSelector(
                    ILedgerTypes.LedgerVerdictMismatch.selector, key(0), AUDIT, 0, committed, recomputed
                )
            );
            ledger.revealVerdict(jobId, 0, 0, AUDIT, 0, wrong[i]);
        }
    }

    /// @dev A commitment made for another chain does not open here (the chain id is part of the preimage).
    function test_revealVerdict_revertsOnACommitmentForAnotherChain() public {
        address seat1 = holderOf(jobId, 0, 0, AUDIT, 1);
        vm.chainId(1);
        bytes32 mainnet = lens.verdictCommitment(key(0), AUDIT, 1, PASS, evidence, salt(AUDIT, 1), seat1);
        vm.chainId(31337);
        vm.prank(seat1);
        ledger.commitVerdict(jobId, 0, 0, AUDIT, 1, mainnet);
        vm.roll(s + 43);
        bytes32 local = lens.verdictCommitment(key(0), AUDIT, 1, PASS, evidence, salt(AUDIT, 1), seat1);
        vm.expectRevert(
            abi.encodeWithSelector(ILedgerTypes.LedgerVerdictMismatch.selector, key(0), AUDIT, 1, mainnet, local)
        );
        ledger.revealVerdict(jobId, 0, 0, AUDIT, 1, reveal(PASS, evidence, salt(AUDIT, 1)));
    }

    function test_revealVerdict_revertsTwice() public {
        vm.roll(s + 43);
        revealSeat(jobId, 0, 0, AUDIT, 0, FAIL);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerSeatAlreadyDone.selector, key(0), AUDIT, 0));
        revealSeat(jobId, 0, 0, AUDIT, 0, FAIL);
    }

    /// @dev Anyone may carry a validator's reveal (the commitment binds the validator), and the first Fail opens the
    /// dispute; a second Fail does not open another.
    function test_revealVerdict_talliesAndOpensTheDisputeOnce() public {
        address seat1 = commitSeat(jobId, 0, 0, AUDIT, 1, FAIL);
        commitSeat(jobId, 0, 0, AUDIT, 2, PASS);
        vm.roll(s + 43);
        bytes32 k = key(0);
        address relayer = makeAddr("relayer");
        vm.expectEmit(true, true, false, true, address(ledger));
        emit ILedgerTypes.DisputeOpened(k, holder, 0, evidence);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit ILedgerTypes.VerdictRevealed(k, holder, AUDIT, 0, FAIL, evidence, "bafy-evidence");
        vm.prank(relayer);
        revealSeat(jobId, 0, 0, AUDIT, 0, FAIL);
        vm.recordLogs();
        revealSeat(jobId, 0, 0, AUDIT, 1, FAIL);
        vm.assertEq(countLogs(address(ledger), ILedgerTypes.DisputeOpened.selector), 0, "one dispute per subject");
        revealSeat(jobId, 0, 0, AUDIT, 2, PASS);
        ILedgerTypes.SubjectView memory v = view_(jobId, 0, 0);
        vm.assertEq(v.auditFail, 2, "two Fail");
        vm.assertEq(v.auditPass, 1, "one Pass");
        vm.assertEq(v.auditAttempt, 0, "attempt 0 decides");
        vm.assertEq(
            ledger.seatOf(key(0), AUDIT, 1).flags, SeatFlags.DRAWN | SeatFlags.COMMITTED | SeatFlags.FAIL, "fail"
        );
        vm.assertEq(
            ledger.seatOf(key(0), AUDIT, 2).flags, SeatFlags.DRAWN | SeatFlags.COMMITTED | SeatFlags.PASS, "pass"
        );
        vm.assertTrue(seat1 != address(0), "seat 1 held");
    }

    function test_revealVerdict_committeeVotesCountOnTheCommitteeSide() public {
        vm.roll(s + 43);
        revealSeat(jobId, 0, 0, AUDIT, 0, FAIL);
        recordAt(s + 74);
        vm.roll(s + 75);
        ledger.drawSeats(jobId, 0, 0, COMMITTEE);
        commitSeat(jobId, 0, 0, COMMITTEE, 0, PASS);
        commitSeat(jobId, 0, 0, COMMITTEE, 1, FAIL);
        vm.roll(s + 95);
        revealSeat(jobId, 0, 0, COMMITTEE, 0, PASS);
        revealSeat(jobId, 0, 0, COMMITTEE, 1, FAIL);
        ILedgerTypes.SubjectView memory v = view_(jobId, 0, 0);
        vm.assertEq(v.committeePass, 1, "committee pass");
        vm.assertEq(v.committeeFail, 1, "committee fail");
        vm.assertEq(v.auditFail, 1, "audit tally untouched");
    }
}

// ================================================================ planted errors

contract WorkLedger_UnsealPlant is LedgerUnit {
    uint256 internal job;

    function setUp() public override {
        super.setUp();
        job = plantedJob();
    }

    function _plantSubmitted() internal returns (ILedgerTypes.Commitment memory c, uint256 s) {
        c = claimAndSubmit(job, 0, 0, sentinel, CHEAT);
        s = block.number;
    }

    function _plantAudited(ILedgerTypes.Verdict[3] memory verdicts) internal returns (uint256 s) {
        ILedgerTypes.Commitment memory c;
        (c, s) = _plantSubmitted();
        seed(job, 0, 0);
        revealSampled(job, 0, 0, sentinel, CHEAT, c);
        auditWith(job, 0, 0, verdicts);
    }

    function _k() internal view returns (bytes32) {
        return subject(job, 0, 0);
    }

    function test_unsealPlant_revertsOnASlotWithoutWork() public {
        bytes32 k = _k();
        vm.expectRevert(
            abi.encodeWithSelector(ILedgerTypes.LedgerWrongStatus.selector, k, ILedgerTypes.SlotStatus.Open)
        );
        ledger.unsealPlant(job, 0, 0, PLANT_SALT, new bytes32[](0));
    }

    function test_unsealPlant_revertsWhileTheSeedIsPending() public {
        (, uint256 s) = _plantSubmitted();
        bytes32 k = _k();
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerTooEarly.selector, k, s + 3, s));
        ledger.unsealPlant(job, 0, 0, PLANT_SALT, new bytes32[](0));
    }

    function test_unsealPlant_revertsWhenEverySeedTryWasMissed() public {
        (, uint256 s) = _plantSubmitted();
        vm.roll(s + 7);
        bytes32 k = _k();
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerSeedFailed.selector, k));
        ledger.unsealPlant(job, 0, 0, PLANT_SALT, new bytes32[](0));
    }

    /// @dev The leaf binds round, slot, the slot's miner and the salt: any other opening is refused.
    function test_unsealPlant_revertsOnAnythingButTheSealedLeaf() public {
        uint256 s = _plantAudited(fail3());
        vm.roll(s + 63);
        bytes32 k = _k();
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerPlantMismatch.selector, k, sentinel));
        ledger.unsealPlant(job, 0, 0, keccak256("wrong salt"), new bytes32[](0));
        bytes32[] memory junk = new bytes32[](1);
        junk[0] = keccak256("junk");
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerPlantMismatch.selector, k, sentinel));
        ledger.unsealPlant(job, 0, 0, PLANT_SALT, junk);
    }

    function test_unsealPlant_revertsWhenTheSlotIsHeldByAnotherMiner() public {
        // The sponsor planted slot 0 for its sentinel, but minerA claimed it first: the leaf names the sentinel.
        uint256 other = plantedJob();
        ILedgerTypes.Commitment memory c = claimAndSubmit(other, 0, 0, minerA, CHEAT);
        seed(other, 0, 0);
        revealSampled(other, 0, 0, minerA, CHEAT, c);
        auditWith(other, 0, 0, fail3());
        vm.roll(timeline(other, 0, 0).revealEnd + 1);
        bytes32 k = subject(other, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerPlantMismatch.selector, k, minerA));
        ledger.unsealPlant(other, 0, 0, PLANT_SALT, new bytes32[](0));
    }

    function test_unsealPlant_revertsOnAJobWithoutPlants() public {
        uint256 s = audited(fail3());
        vm.roll(s + 63);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerPlantMismatch.selector, key(0), minerA));
        ledger.unsealPlant(jobId, 0, 0, PLANT_SALT, new bytes32[](0));
    }

    function test_unsealPlant_revertsUntilTheAuditRevealsAreOver() public {
        uint256 s = _plantAudited(fail3());
        vm.roll(s + 62);
        bytes32 k = _k();
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerTooEarly.selector, k, s + 63, s + 62));
        ledger.unsealPlant(job, 0, 0, PLANT_SALT, new bytes32[](0));
    }

    function test_unsealPlant_revertsAfterTheUnsealWindow_andAcceptsAtItsEnd() public {
        uint256 s = _plantAudited(fail3());
        bytes32 k = _k();
        uint256 snapshot = vm.snapshotState();
        vm.roll(s + 72);
        ledger.unsealPlant(job, 0, 0, PLANT_SALT, new bytes32[](0));
        vm.revertToState(snapshot);
        vm.roll(s + 73);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerDeadlinePassed.selector, k, s + 72, s + 73));
        ledger.unsealPlant(job, 0, 0, PLANT_SALT, new bytes32[](0));
    }

    function test_unsealPlant_revertsTwice() public {
        uint256 s = _plantAudited(fail3());
        vm.roll(s + 63);
        ledger.unsealPlant(job, 0, 0, PLANT_SALT, new bytes32[](0));
        bytes32 k = _k();
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerPlantMismatch.selector, k, sentinel));
        ledger.unsealPlant(job, 0, 0, PLANT_SALT, new bytes32[](0));
    }

    /// @dev Whoever knows the salt may unseal (the sponsor, its sentinel, a relayer); it marks the subject planted.
    function test_unsealPlant_marksThePlant() public {
        uint256 s = _plantAudited(fail3());
        vm.roll(s + 63);
        bytes32 k = _k();
        address relayer = makeAddr("relayer");
        vm.expectEmit(true, true, false, true, address(ledger));
        emit ILedgerTypes.PlantUnsealed(k, sentinel);
        vm.prank(relayer);
        ledger.unsealPlant(job, 0, 0, PLANT_SALT, new bytes32[](0));
        vm.assertEq(view_(job, 0, 0).flags & 1, 1, "planted");
    }

    /// @dev A root over several plants (OpenZeppelin's sorted-pair tree of double-hashed leaves) opens each leaf with
    /// its own proof, and a leaf's proof opens only that leaf.
    function test_unsealPlant_opensOneLeafOfASetOfPlants() public {
        address sentinel2 = makeAddr("second sentinel");
        stakeAs(sentinel2, 500 ether);
        bytes32 leaf0 = lens.plantLeaf(0, 0, sentinel, PLANT_SALT);
        bytes32 leaf1 = lens.plantLeaf(0, 1, sentinel2, keccak256("second salt"));
        bytes32 root = leaf0 < leaf1 ? keccak256(abi.encode(leaf0, leaf1)) : keccak256(abi.encode(leaf1, leaf0));
        IJobTypes.JobParams memory p = defaultParams();
        p.plantBond = 50 ether;
        uint256 two = postJobWithPlants(p, root);
        ILedgerTypes.Commitment memory c = claimAndSubmit(two, 0, 1, sentinel2, CHEAT);
        seed(two, 0, 1);
        revealSampled(two, 0, 1, sentinel2, CHEAT, c);
        auditWith(two, 0, 1, fail3());
        vm.roll(timeline(two, 0, 1).revealEnd + 1);
        bytes32[] memory proof = new bytes32[](1);
        proof[0] = leaf1; // the proof of leaf 0: does not open slot 1
        bytes32 k = subject(two, 0, 1);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerPlantMismatch.selector, k, sentinel2));
        ledger.unsealPlant(two, 0, 1, keccak256("second salt"), proof);
        proof[0] = leaf0;
        ledger.unsealPlant(two, 0, 1, keccak256("second salt"), proof);
        vm.assertEq(view_(two, 0, 1).flags & 1, 1, "planted");
    }
}

// ================================================================ settlement

/// @notice settleSubmission refuses until the rule can decide, in every phase, and names the block from which it can.
contract WorkLedger_SettleSubmission is LedgerUnit {
    function test_settleSubmission_revertsOnASlotWithoutWork() public {
        vm.expectRevert(
            abi.encodeWithSelector(ILedgerTypes.LedgerWrongStatus.selector, key(0), ILedgerTypes.SlotStatus.Open)
        );
        ledger.settleSubmission(jobId, 0, 0);
        vm.prank(minerA);
        ledger.claimSlot(jobId, 0, 0);
        vm.expectRevert(
            abi.encodeWithSelector(ILedgerTypes.LedgerWrongStatus.selector, key(0), ILedgerTypes.SlotStatus.Claimed)
        );
        ledger.settleSubmission(jobId, 0, 0);
    }

    function test_settleSubmission_revertsTwice() public {
        audited(pass3());
        vm.roll(timeline(jobId, 0, 0).unsealEnd + 1);
        ledger.settleSubmission(jobId, 0, 0);
        vm.expectRevert(
            abi.encodeWithSelector(ILedgerTypes.LedgerWrongStatus.selector, key(0), ILedgerTypes.SlotStatus.Accepted)
        );
        ledger.settleSubmission(jobId, 0, 0);
    }

    function test_settleSubmission_tooEarlyWhileTheSeedIsPending() public {
        (, uint256 s) = submitted();
        vm.roll(s + 1);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerTooEarly.selector, key(0), s + 3, s + 1));
        ledger.settleSubmission(jobId, 0, 0);
    }

    function test_settleSubmission_tooEarlyForUnauditedWorkUntilTheUnsealWindowClosed() public {
        IJobTypes.JobParams memory p = defaultParams();
        p.auditBps = 1;
        uint256 job = postJob(p);
        claimAndSubmit(job, 0, 0, minerA, HONEST);
        uint256 s = block.number;
        seed(job, 0, 0);
        vm.roll(s + 72);
        bytes32 k = subject(job, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerTooEarly.selector, k, s + 73, s + 72));
        ledger.settleSubmission(job, 0, 0);
        vm.roll(s + 73);
        ledger.settleSubmission(job, 0, 0);
        vm.assertEq(uint256(view_(job, 0, 0).outcome), uint256(ILedgerTypes.Outcome.Accepted), "accepted");
    }

    function test_settleSubmission_tooEarlyBeforeTheCheckpointRevealDeadline() public {
        (, uint256 s) = submitted();
        seed(jobId, 0, 0);
        vm.roll(s + 22);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerTooEarly.selector, key(0), s + 23, s + 22));
        ledger.settleSubmission(jobId, 0, 0);
        vm.roll(s + 23);
        ledger.settleSubmission(jobId, 0, 0);
        vm.assertEq(uint256(outcome(jobId, 0)), uint256(ILedgerTypes.Outcome.RejectedWithheld), "withheld");
    }

    function test_settleSubmission_tooEarlyDuringTheAuditReveals() public {
        uint256 s = audited(pass3());
        vm.roll(s + 62);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerTooEarly.selector, key(0), s + 63, s + 62));
        ledger.settleSubmission(jobId, 0, 0);
    }

    /// @dev Verdicts are in: the sponsor's sentinel still has the unseal window.
    function test_settleSubmission_tooEarlyDuringTheUnsealWindow() public {
        uint256 s = audited(pass3());
        vm.roll(s + 72);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerTooEarly.selector, key(0), s + 73, s + 72));
        ledger.settleSubmission(jobId, 0, 0);
    }

    /// @dev A silent panel is re-drawn: the decision moves to the next attempt's reveal end, then the last one's.
    function test_settleSubmission_tooEarlyWhileASilentPanelIsRedrawn() public {
        uint256 s = revealed();
        vm.roll(s + 63);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerTooEarly.selector, key(0), s + 105, s + 63));
        ledger.settleSubmission(jobId, 0, 0);
        vm.roll(s + 105);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerTooEarly.selector, key(0), s + 147, s + 105));
        ledger.settleSubmission(jobId, 0, 0);
        vm.roll(s + 147);
        ledger.settleSubmission(jobId, 0, 0);
        vm.assertEq(uint256(outcome(jobId, 0)), uint256(ILedgerTypes.Outcome.Unverified), "nobody checked it");
    }

    function test_settleSubmission_tooEarlyDuringTheDispute() public {
        uint256 s = audited([FAIL, PASS, PASS]);
        vm.roll(s + 114);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerTooEarly.selector, key(0), s + 115, s + 114));
        ledger.settleSubmission(jobId, 0, 0);
        // Nobody drew the committee: its next attempt runs until s + 114 + 42.
        vm.roll(s + 115);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerTooEarly.selector, key(0), s + 157, s + 115));
        ledger.settleSubmission(jobId, 0, 0);
    }

    function test_settleSubmission_anAggregateWaitsForItsPanel() public {
        uint256 job = jobWithOpenAggregation();
        vm.prank(aggregator);
        ledger.claimSlot(job, 0, 1);
        vm.prank(aggregator);
        ledger.submit(job, 0, 1, "bafy-aggregate", keccak256("aggregate"), bytes32(0));
        uint256 s = block.number;
        seed(job, 0, 1);
        vm.roll(s + 62);
        bytes32 k = subject(job, 0, 1);
        // An aggregate has no checkpoint deadline; with no verdict its panel is re-drawn like any other.
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerTooEarly.selector, k, s + 63, s + 62));
        ledger.settleSubmission(job, 0, 1);
    }

    function test_settleSubmission_acceptedWorkIsPaid_andTheRoundAdvances() public {
        audited(pass3());
        vm.roll(timeline(jobId, 0, 0).unsealEnd + 1);
        bytes32 k = key(0);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit ILedgerTypes.SubmissionSettled(k, jobId, minerA, ILedgerTypes.Outcome.Accepted, 10 ether, 0);
        ledger.settleSubmission(jobId, 0, 0);
        ILedgerTypes.Round memory r = ledger.roundOf(jobId, 0);
        vm.assertEq(r.settledSlots, 1, "one slot settled");
        vm.assertEq(r.acceptedSlots, 1, "one accepted");
        vm.assertEq(r.aggregationOpenedAt, 0, "aggregation waits for slot 1");
        ILedgerTypes.SubjectView memory v = view_(jobId, 0, 0);
        vm.assertEq(v.winners, 3, "three winners");
        vm.assertEq(v.pendingLosers, 0, "no loser");
        vm.assertEq(v.rewardEach, 1 ether, "a reward per audit winner");
        vm.assertEq(v.poolBalance, 3 ether, "their rewards reserved in the pool");
        vm.prank(minerB);
        ledger.claimSlot(jobId, 0, 1);
        vm.roll(block.number + 51);
        vm.expectEmit(true, true, false, true, address(ledger));
        emit ILedgerTypes.AggregationOpened(jobId, 0, 2);
        ledger.vacateSlot(jobId, 0, 1);
    }

    function test_settleSubmission_aCheatLosesCollateralAndSlice() public {
        submitAndReveal(jobId, 0, minerA, CHEAT);
        auditWith(jobId, 0, 0, fail3());
        // Any Fail contests the work: only the committee (or, if it never sits, the audit majority) rejects it.
        disputeWith(jobId, 0, 0, fail3());
        bytes32 k = key(0);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit ILedgerTypes.SubmissionSettled(k, jobId, minerA, ILedgerTypes.Outcome.RejectedCheat, 0, 68 ether);
        ledger.settleSubmission(jobId, 0, 0);
        ILedgerTypes.SubjectView memory v = view_(jobId, 0, 0);
        vm.assertEq(v.rewardEach, 1 ether, "auditors' rewards come out of the slash");
        vm.assertEq(v.slashedIntoPool, 65 ether, "the rest is the bounty base");
        vm.assertEq(v.bountyEach, uint256(65 ether) * 5_000 / 10_000 / 6, "half of it, split among six winners");
        vm.assertEq(ledger.roundOf(jobId, 0).acceptedSlots, 0, "not accepted");
        vm.assertEq(ledger.roundOf(jobId, 0).settledSlots, 1, "but settled");
    }
}

contract WorkLedger_SettleSeat is LedgerUnit {
    function test_settleSeat_revertsBeforeTheSubmissionSettled() public {
        revealed();
        ledger.drawSeats(jobId, 0, 0, AUDIT);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerNotSettled.selector, key(0)));
        ledger.settleSeat(jobId, 0, 0, AUDIT, 0);
    }

    function test_settleSeat_revertsOnASeatNeverDrawn() public {
        audited(pass3());
        vm.roll(timeline(jobId, 0, 0).unsealEnd + 1);
        ledger.settleSubmission(jobId, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerSeatNotCommitted.selector, key(0), AUDIT, 3));
        ledger.settleSeat(jobId, 0, 0, AUDIT, 3);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerSeatNotCommitted.selector, key(0), COMMITTEE, 0));
        ledger.settleSeat(jobId, 0, 0, COMMITTEE, 0);
    }

    function test_settleSeat_revertsTwice() public {
        audited(pass3());
        vm.roll(timeline(jobId, 0, 0).unsealEnd + 1);
        ledger.settleSubmission(jobId, 0, 0);
        ledger.settleSeat(jobId, 0, 0, AUDIT, 1);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerSeatAlreadyDone.selector, key(0), AUDIT, 1));
        ledger.settleSeat(jobId, 0, 0, AUDIT, 1);
    }

    /// @dev Winners are paid once every loser is slashed, so a winner's bounty share is final when it is paid.
    function test_settleSeat_winnersWaitForTheLosers() public {
        audited([FAIL, PASS, PASS]);
        disputeWith(jobId, 0, 0, pass3());
        ledger.settleSubmission(jobId, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerBountyNotReady.selector, key(0), 1));
        ledger.settleSeat(jobId, 0, 0, AUDIT, 1);
        address loser = holderOf(jobId, 0, 0, AUDIT, 0);
        uint256 before = staked(loser);
        bytes32 k = key(0);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit ILedgerTypes.SeatSettled(k, loser, AUDIT, 0, 0, 10 ether);
        ledger.settleSeat(jobId, 0, 0, AUDIT, 0);
        vm.assertEq(staked(loser), before - 10 ether, "loser slashed");
        // Bounty base: the loser's 10; half of it over five winners (two audit, three committee).
        ILedgerTypes.SubjectView memory v = view_(jobId, 0, 0);
        vm.assertEq(v.bountyEach, 1 ether, "10 * 50% / 5");
        address winner = holderOf(jobId, 0, 0, AUDIT, 1);
        uint256 claimable = vault.claimableOf(winner);
        ledger.settleSeat(jobId, 0, 0, AUDIT, 1);
        vm.assertEq(vault.claimableOf(winner), claimable + 2 ether, "reward + bounty");
    }

    /// @dev The last winner closes the pool: the non-bounty share returns to the escrow and the pool is empty.
    function test_settleSeat_theLastWinnerClosesThePool() public {
        audited([FAIL, PASS, PASS]);
        disputeWith(jobId, 0, 0, pass3());
        ledger.settleSubmission(jobId, 0, 0);
        uint256 escrowBefore = vault.escrowOf(jobId);
        settleAllSeats(jobId, 0, 0);
        ILedgerTypes.SubjectView memory v = view_(jobId, 0, 0);
        vm.assertEq(v.poolBalance, 0, "pool closed");
        vm.assertEq(v.winnersPaid, 5, "every winner paid once");
        vm.assertEq(vault.escrowOf(jobId), escrowBefore + 5 ether, "the other half of the bounty base returns");
        (, uint256 pooled) = vault.totals();
        vm.assertEq(pooled, 0, "nothing left pooled");
        assertBooksBalance();
    }

    /// @dev A seat slash on a planted subject is burned even when the seat was silent.
    function test_settleSeat_aSilentSeatOnAPlantIsBurned() public {
        IJobTypes.JobParams memory p = defaultParams();
        p.plantBond = 50 ether;
        uint256 job = postJobWithPlants(p, plantRootOf(0, 0, sentinel, PLANT_SALT));
        ILedgerTypes.Commitment memory c = claimAndSubmit(job, 0, 0, sentinel, CHEAT);
        seed(job, 0, 0);
        revealSampled(job, 0, 0, sentinel, CHEAT, c);
        auditWith(job, 0, 0, [FAIL, FAIL, NONE]);
        vm.roll(timeline(job, 0, 0).revealEnd + 1);
        ledger.unsealPlant(job, 0, 0, PLANT_SALT, new bytes32[](0));
        vm.roll(timeline(job, 0, 0).unsealEnd + 1);
        ledger.settleSubmission(job, 0, 0);
        vm.assertEq(uint256(view_(job, 0, 0).outcome), uint256(ILedgerTypes.Outcome.RejectedPlanted), "planted");
        uint256 supply = token.totalSupply();
        uint256 escrow = vault.escrowOf(job);
        bytes32 k = subject(job, 0, 0);
        vm.expectEmit(true, false, false, true, address(ledger));
        emit ILedgerTypes.SlashBurned(k, 10 ether);
        ledger.settleSeat(job, 0, 0, AUDIT, 2);
        vm.assertEq(token.totalSupply(), supply - 10 ether, "burned");
        vm.assertEq(vault.escrowOf(job), escrow, "never back to the sponsor");
        assertBooksBalance();
    }

    /// @dev A losing seat with nothing left at risk is slashed nothing, yet still counts as settled, so the winners
    /// are never blocked.
    function test_settleSeat_aLoserWithNothingAtRiskStillUnblocksTheWinners() public {
        audited([FAIL, PASS, PASS]);
        disputeWith(jobId, 0, 0, pass3());
        ledger.settleSubmission(jobId, 0, 0);
        address loser = holderOf(jobId, 0, 0, AUDIT, 0);
        uint256 all = staked(loser);
        vm.prank(loser);
        stakes.requestUnbond(all);
        vm.roll(block.number + UNBONDING_BLOCKS);
        vm.prank(loser);
        stakes.withdraw();
        ledger.settleSeat(jobId, 0, 0, AUDIT, 0);
        vm.assertEq(view_(jobId, 0, 0).pendingLosers, 0, "settled");
        ledger.settleSeat(jobId, 0, 0, AUDIT, 1);
        assertBooksBalance();
    }
}

contract WorkLedger_VacateSlot is LedgerUnit {
    function test_vacateSlot_revertsOnAnUnknownJob() public {
        vm.expectRevert(abi.encodeWithSelector(IJobTypes.JobUnknown.selector, 99));
        ledger.vacateSlot(99, 0, 0);
    }

    function test_vacateSlot_anOpenSlotWaitsForTheClaimWindow() public {
        uint256 opened = ledger.roundOf(jobId, 0).openedAt;
        vm.roll(opened + 100);
        vm.expectRevert(
            abi.encodeWithSelector(ILedgerTypes.LedgerTooEarly.selector, key(0), opened + 101, opened + 100)
        );
        ledger.vacateSlot(jobId, 0, 0);
        vm.roll(opened + 101);
        bytes32 k = key(0);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit ILedgerTypes.SlotVacated(k, jobId, address(0), 0);
        ledger.vacateSlot(jobId, 0, 0);
        vm.assertEq(ledger.roundOf(jobId, 0).settledSlots, 1, "counts as settled");
    }

    function test_vacateSlot_revertsOnASlotOfAnotherRound() public {
        vm.roll(block.number + 101);
        bytes32 k = subject(jobId, 1, 0);
        vm.expectRevert(
            abi.encodeWithSelector(ILedgerTypes.LedgerWrongStatus.selector, k, ILedgerTypes.SlotStatus.Open)
        );
        ledger.vacateSlot(jobId, 1, 0);
    }

    function test_vacateSlot_revertsOnTheAggregationSlotBeforeItOpens_orAnotherIndex() public {
        vm.roll(block.number + 101);
        bytes32 k = key(2);
        vm.expectRevert(
            abi.encodeWithSelector(ILedgerTypes.LedgerWrongStatus.selector, k, ILedgerTypes.SlotStatus.Open)
        );
        ledger.vacateSlot(jobId, 0, 2);
        ledger.vacateSlot(jobId, 0, 0);
        ledger.vacateSlot(jobId, 0, 1);
        vm.roll(block.number + 101);
        k = key(3);
        vm.expectRevert(
            abi.encodeWithSelector(ILedgerTypes.LedgerWrongStatus.selector, k, ILedgerTypes.SlotStatus.Open)
        );
        ledger.vacateSlot(jobId, 0, 3);
    }

    function test_vacateSlot_anOpenAggregationSlotWaitsForItsOwnClaimWindow_thenAbandonsTheJob() public {
        uint256 job = jobWithOpenAggregation();
        uint256 opened = ledger.roundOf(job, 0).aggregationOpenedAt;
        vm.assertEq(opened, block.number, "aggregation opened by the vacated work slot");
        bytes32 k = subject(job, 0, 1);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerTooEarly.selector, k, opened + 101, opened));
        ledger.vacateSlot(job, 0, 1);
        vm.roll(opened + 101);
        vm.expectEmit(true, true, false, true, address(ledger));
        emit ILedgerTypes.JobAbandoned(job, 0);
        ledger.vacateSlot(job, 0, 1);
        (, IJobTypes.JobStatus status,) = ledger.jobState(job);
        vm.assertEq(uint256(status), uint256(IJobTypes.JobStatus.Abandoned), "abandoned");
    }

    function test_vacateSlot_aClaimedSlotWaitsForItsSubmitDeadline() public {
        vm.prank(minerA);
        ledger.claimSlot(jobId, 0, 0);
        uint256 deadline = block.number + 50;
        vm.roll(deadline);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerTooEarly.selector, key(0), deadline + 1, deadline));
        ledger.vacateSlot(jobId, 0, 0);
        vm.roll(deadline + 1);
        uint256 escrow = vault.escrowOf(jobId);
        bytes32 k = key(0);
        vm.expectEmit(true, true, true, true, address(ledger));
        emit ILedgerTypes.SlotVacated(k, jobId, minerA, 20 ether);
        ledger.vacateSlot(jobId, 0, 0);
        vm.assertEq(vault.escrowOf(jobId), escrow + 20 ether, "the collateral refills the escrow");
        vm.assertEq(staked(minerA), 480 ether, "exactly the collateral, no slice");
        vm.assertEq(stakes.stakeOf(minerA).locked, 0, "released");
    }

    function test_vacateSlot_revertsOnSubmittedOrVacatedSlots() public {
        submitted();
        vm.roll(block.number + 200);
        vm.expectRevert(
            abi.encodeWithSelector(ILedgerTypes.LedgerWrongStatus.selector, key(0), ILedgerTypes.SlotStatus.Submitted)
        );
        ledger.vacateSlot(jobId, 0, 0);
        ledger.vacateSlot(jobId, 0, 1);
        vm.expectRevert(
            abi.encodeWithSelector(ILedgerTypes.LedgerWrongStatus.selector, key(1), ILedgerTypes.SlotStatus.Vacated)
        );
        ledger.vacateSlot(jobId, 0, 1);
    }

    /// @dev An aggregator that claims and never submits loses its collateral; the round gets a fresh slot.
    function test_vacateSlot_aClaimedAggregationSlotOpensTheNextOne() public {
        uint256 job = jobWithOpenAggregation();
        vm.prank(aggregator);
        ledger.claimSlot(job, 0, 1);
        vm.roll(block.number + 51);
        vm.expectEmit(true, true, false, true, address(ledger));
        emit ILedgerTypes.AggregationOpened(job, 0, 2);
        ledger.vacateSlot(job, 0, 1);
        vm.assertEq(ledger.roundOf(job, 0).failedAggregates, 1, "counted as a failed aggregate");
        vm.prank(minerA);
        ledger.claimSlot(job, 0, 2);
    }
}

contract WorkLedger_RefundEscrow is LedgerUnit {
    function test_refundEscrow_revertsOnAnUnknownJob() public {
        vm.prank(sponsor);
        vm.expectRevert(abi.encodeWithSelector(IJobTypes.JobUnknown.selector, 99));
        ledger.refundEscrow(99);
    }

    function test_refundEscrow_revertsForAnyoneButTheSponsor() public {
        uint256 job = jobWithOpenAggregation();
        vm.roll(block.number + 101);
        ledger.vacateSlot(job, 0, 1);
        vm.prank(minerA);
        vm.expectRevert(abi.encodeWithSelector(IJobTypes.JobNotSponsor.selector, job, minerA));
        ledger.refundEscrow(job);
    }

    function test_refundEscrow_revertsWhileTheJobRuns() public {
        vm.prank(sponsor);
        vm.expectRevert(abi.encodeWithSelector(IJobTypes.JobWrongStatus.selector, jobId, IJobTypes.JobStatus.Active));
        ledger.refundEscrow(jobId);
    }

    /// @dev The refund credits the whole remaining escrow (the plant bond included) and can be called again to sweep
    /// what later seat settlements return.
    function test_refundEscrow_creditsTheRest_andSweepsLaterReturns() public {
        IJobTypes.JobParams memory p = defaultParams();
        p.numRounds = 1;
        p.slotsPerRound = 1;
        p.plantBond = 30 ether;
        uint256 job = postJob(p);
        ILedgerTypes.Commitment memory c = claimAndSubmit(job, 0, 0, minerA, HONEST);
        seed(job, 0, 0);
        revealSampled(job, 0, 0, minerA, HONEST, c);
        auditWith(job, 0, 0, [PASS, PASS, NONE]); // seat 2 stays silent
        vm.roll(timeline(job, 0, 0).unsealEnd + 1);
        ledger.settleSubmission(job, 0, 0);
        vm.roll(block.number + 101);
        ledger.vacateSlot(job, 0, 1); // nobody aggregates: abandoned
        uint256 escrow = vault.escrowOf(job);
        vm.expectEmit(true, true, false, true, address(ledger));
        emit ILedgerTypes.EscrowRefunded(job, sponsor, escrow);
        vm.prank(sponsor);
        vm.assertEq(ledger.refundEscrow(job), escrow, "the rest of the escrow");
        vm.assertEq(vault.claimableOf(sponsor), escrow, "credited to the sponsor");
        vm.assertEq(vault.escrowOf(job), 0, "empty");
        ledger.settleSeat(job, 0, 0, AUDIT, 2); // the silent seat's slash returns to the escrow
        vm.prank(sponsor);
        vm.assertEq(ledger.refundEscrow(job), 10 ether, "swept");
        vm.prank(sponsor);
        vm.assertEq(ledger.refundEscrow(job), 0, "nothing more");
        assertBooksBalance();
    }
}

/// @notice The settlement module only runs by delegatecall from the ledger.
contract WorkLedger_SettlementModule is LedgerUnit {
    function test_settlementModule_refusesEveryDirectCall() public {
        LedgerSettlement module = LedgerSettlement(ledger.settlementModule());
        bytes memory refused = abi.encodeWithSelector(ILedgerTypes.LedgerModuleDirectCall.selector);
        vm.expectRevert(refused);
        module.drawSeats(jobId, 0, 0, AUDIT);
        vm.expectRevert(refused);
        module.unsealPlant(jobId, 0, 0, PLANT_SALT, new bytes32[](0));
        vm.expectRevert(refused);
        module.settleSubmission(jobId, 0, 0);
        vm.expectRevert(refused);
        module.settleSeat(jobId, 0, 0, AUDIT, 0);
        vm.expectRevert(refused);
        module.vacateSlot(jobId, 0, 0);
        vm.prank(sponsor);
        vm.expectRevert(refused);
        module.refundEscrow(jobId);
    }
}
