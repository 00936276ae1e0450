// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {CrucibleTest} from "./utils/CrucibleTest.sol";
import {IJobTypes} from "../src/interfaces/IJobTypes.sol";
import {IWorkLedger} from "../src/interfaces/IWorkLedger.sol";
import {IStakeManager} from "../src/interfaces/IStakeManager.sol";

/// @notice Shared steps of the protocol's story, used by the ledger tests below.
abstract contract LedgerStory is CrucibleTest {
    bytes32 internal constant HONEST = keccak256("honest run");
    IWorkLedger.Panel internal constant AUDIT = IWorkLedger.Panel.Audit;
    IWorkLedger.Panel internal constant COMMITTEE = IWorkLedger.Panel.Committee;
    IWorkLedger.Verdict internal constant PASS = IWorkLedger.Verdict.Pass;
    IWorkLedger.Verdict internal constant FAIL = IWorkLedger.Verdict.Fail;
    IWorkLedger.Verdict internal constant NONE = IWorkLedger.Verdict.None;

    uint256 internal jobId;

    function setUp() public virtual override {
        super.setUp();
        stakeEveryone();
        jobId = postJob(defaultParams());
    }

    /// @dev Miner claims, submits, waits for the seed, and reveals the sampled checkpoints.
    function submitAndReveal(uint16 slot, address miner, bytes32 variant) internal returns (IWorkLedger.Commitment memory c) {
        c = claimAndSubmit(jobId, 0, slot, miner, variant, keccak256(abi.encode("random seal", slot)));
        vm.roll(timeline(jobId, 0, slot).seedBlock + 1);
        revealSampled(jobId, 0, slot, miner, variant, c);
    }

    function disputeWith(uint16 slot, IWorkLedger.Verdict[3] memory verdicts) internal {
        IWorkLedger.Timeline memory t = timeline(jobId, 0, slot);
        vm.roll(t.disputeSeedBlock + 1);
        for (uint8 seat; seat < 3; ++seat) {
            if (verdicts[seat] != NONE) commitSeat(jobId, 0, slot, COMMITTEE, seat, verdicts[seat]);
        }
        vm.roll(t.disputeCommitEnd + 1);
        for (uint8 seat; seat < 3; ++seat) {
            if (verdicts[seat] != NONE) revealSeat(jobId, 0, slot, COMMITTEE, seat, verdicts[seat]);
        }
        vm.roll(t.disputeRevealEnd + 1);
    }

    /// @dev Settles every committed seat of both panels: losers first (their slashes fund the bounty), then winners.
    function settleAllSeats(uint16 slot) internal {
        IWorkLedger.SubjectView memory v = lens.subjectOf(jobId, 0, slot);
        bool minerWon = v.outcome == IWorkLedger.Outcome.Accepted;
        for (uint256 pass; pass < 2; ++pass) {
            for (uint8 panel; panel < 2; ++panel) {
                for (uint8 seat; seat < 3; ++seat) {
                    IWorkLedger.Seat memory st = ledger.seatOf(v.key, IWorkLedger.Panel(panel), seat);
                    if (st.flags == 0 || st.flags & 8 != 0) continue;
                    bool winner = st.flags != 1 && ((st.flags & 2 != 0) == minerWon);
                    if ((pass == 0) == winner) continue;
                    ledger.settleSeat(jobId, 0, slot, IWorkLedger.Panel(panel), seat);
                }
            }
        }
    }

    function claimable(address who) internal view returns (uint256) {
        return vault.claimableOf(who);
    }
}

contract WorkLedger_Story is LedgerStory {
    function test_honestWork_isAuditedAcceptedAndPaid() public {
        submitAndReveal(0, minerA, HONEST);
        auditWith(jobId, 0, 0, pass3());
        vm.roll(timeline(jobId, 0, 0).unsealEnd + 1);
        ledger.settleSubmission(jobId, 0, 0);

        IWorkLedger.SubjectView memory v = lens.subjectOf(jobId, 0, 0);
        vm.assertEq(uint256(v.outcome), uint256(IWorkLedger.Outcome.Accepted), "accepted");
        vm.assertEq(claimable(minerA), 10 ether, "miner paid its reward");
        vm.assertEq(stakes.stakeOf(minerA).locked, 0, "collateral released");
        settleAllSeats(0);
        uint256 paidToValidators;
        for (uint256 i; i < validators.length; ++i) paidToValidators += claimable(validators[i]);
        vm.assertEq(paidToValidators, 3 ether, "three matching seats paid");
        vm.assertEq(lens.subjectOf(jobId, 0, 0).poolBalance, 0, "pool closed");
        assertBooksBalance();
    }

    function test_cheatingMiner_isSlashedAndChallengersPaid() public {
        submitAndReveal(0, minerA, keccak256("skipped steps"));
        auditWith(jobId, 0, 0, fail3());
        disputeWith(0, fail3());
        uint256 stakeBefore = stakes.stakeOf(minerA).staked;
        ledger.settleSubmission(jobId, 0, 0);

        IWorkLedger.SubjectView memory v = lens.subjectOf(jobId, 0, 0);
        vm.assertEq(uint256(v.outcome), uint256(IWorkLedger.Outcome.RejectedCheat), "rejected as a cheat");
        uint256 expectedSlash = 20 ether + (stakeBefore - 20 ether) / 10;
        vm.assertEq(stakes.stakeOf(minerA).staked, stakeBefore - expectedSlash, "collateral + 10% slashed");
        vm.assertEq(claimable(minerA), 0, "cheat earns nothing");
        settleAllSeats(0);
        // Six winning seats share half the slash; audit seats also earn their reward.
        uint256 bountyEach = expectedSlash / 2 / 6;
        uint256 paid;
        for (uint256 i; i < validators.length; ++i) paid += claimable(validators[i]);
        vm.assertEq(paid, 6 * bountyEach + 3 ether, "challengers paid bounty and rewards");
        vm.assertEq(lens.subjectOf(jobId, 0, 0).poolBalance, 0, "rest returned to the escrow");
        assertBooksBalance();
    }

    function test_falseAccuser_isSlashedAndHonestMinerPaid() public {
        submitAndReveal(0, minerA, HONEST);
        auditWith(jobId, 0, 0, [FAIL, PASS, PASS]);
        disputeWith(0, pass3());
        ledger.settleSubmission(jobId, 0, 0);
        vm.assertEq(claimable(minerA), 10 ether, "honest miner paid");

        address accuser = ledger.seatOf(subject(jobId, 0, 0), AUDIT, 0).validator;
        uint256 before = stakes.stakeOf(accuser).staked;
        ledger.settleSeat(jobId, 0, 0, AUDIT, 0);
        vm.assertEq(stakes.stakeOf(accuser).staked, before - 10 ether, "false accuser slashed");
        settleAllSeats(0);
        assertBooksBalance();
    }

    function test_lazyValidator_isCaughtByPlantedForcedError() public {
        bytes32 sentinelSalt = keccak256("sentinel secret");
        bytes32 seal = lens.forcedErrorSeal(ledger.subjectKey(jobId, 0, 0), sentinelSalt);
        // The sponsor's sentinel plants known-bad work in a slot like any miner.
        IWorkLedger.Commitment memory c = claimAndSubmit(jobId, 0, 0, minerB, keccak256("planted"), seal);
        vm.roll(timeline(jobId, 0, 0).seedBlock + 1);
        revealSampled(jobId, 0, 0, minerB, keccak256("planted"), c);
        auditWith(jobId, 0, 0, [PASS, FAIL, FAIL]); // seat 0 approves without checking
        vm.roll(timeline(jobId, 0, 0).revealEnd + 1);
        vm.prank(sponsor);
        ledger.unsealForcedError(jobId, 0, 0, c, sentinelSalt);
        vm.roll(timeline(jobId, 0, 0).unsealEnd + 1);
        uint256 sentinelStake = stakes.stakeOf(minerB).staked;
        ledger.settleSubmission(jobId, 0, 0);

        vm.assertEq(
            uint256(lens.subjectOf(jobId, 0, 0).outcome), uint256(IWorkLedger.Outcome.RejectedPlanted), "planted"
        );
        vm.assertEq(stakes.stakeOf(minerB).staked, sentinelStake, "sentinel not slashed");
        vm.assertEq(stakes.stakeOf(minerB).locked, 0, "sentinel collateral released");
        address lazy = ledger.seatOf(subject(jobId, 0, 0), AUDIT, 0).validator;
        uint256 lazyBefore = stakes.stakeOf(lazy).staked;
        ledger.settleSeat(jobId, 0, 0, AUDIT, 0);
        vm.assertEq(stakes.stakeOf(lazy).staked, lazyBefore - 10 ether, "lazy validator slashed");
        settleAllSeats(0);
        assertBooksBalance();
    }

    function test_withheldCheckpoints_slashTheMiner() public {
        claimAndSubmit(jobId, 0, 0, minerA, HONEST, bytes32(0));
        uint256 before = stakes.stakeOf(minerA).staked;
        vm.roll(timeline(jobId, 0, 0).revealDeadline + 1);
        ledger.settleSubmission(jobId, 0, 0);
        vm.assertEq(
            uint256(lens.subjectOf(jobId, 0, 0).outcome), uint256(IWorkLedger.Outcome.RejectedWithheld), "withheld"
        );
        vm.assertLt(stakes.stakeOf(minerA).staked, before, "slashed for silence");
        assertBooksBalance();
    }

    function test_copiedWork_cannotBeRevealedByTheCopier() public {
        // minerB copies minerA's commitment for its own slot: the leaves bind minerA, so no proof verifies.
        IWorkLedger.Commitment memory stolen = claimAndSubmit(jobId, 0, 0, minerA, HONEST, bytes32(0));
        vm.prank(minerB);
        ledger.claimSlot(jobId, 0, 1);
        vm.prank(minerB);
        ledger.submit(jobId, 0, 1, "bafy-bundle", stolen.resultDigest, stolen.merkleRoot, bytes32(0));
        vm.roll(timeline(jobId, 0, 1).seedBlock + 1);
        uint32[] memory sampled = lens.sampledIntervals(jobId, 0, 1);
        bytes32[4] memory l = leaves(jobId, 0, 0, minerA, HONEST);
        IWorkLedger.Boundary[] memory b = new IWorkLedger.Boundary[](4);
        string[] memory cids = new string[](4);
        for (uint256 j; j < 2; ++j) {
            for (uint256 e; e < 2; ++e) {
                uint256 i = sampled[j] + e;
                b[2 * j + e] = IWorkLedger.Boundary(uint32(i), ckptDigest(HONEST, i), traceDigest(HONEST, i), proofFor(l, i));
            }
        }
        vm.expectRevert(
            abi.encodeWithSelector(IWorkLedger.LedgerInvalidMerkleProof.selector, subject(jobId, 0, 1), b[0].index)
        );
        vm.prank(minerB);
        ledger.revealCheckpoints(jobId, 0, 1, stolen, b, cids);
    }

    function test_committeeNoShow_fallsBackToAuditMajority() public {
        submitAndReveal(0, minerA, keccak256("noisy weights"));
        auditWith(jobId, 0, 0, [FAIL, FAIL, PASS]);
        vm.roll(timeline(jobId, 0, 0).disputeRevealEnd + 1);
        ledger.settleSubmission(jobId, 0, 0);
        vm.assertEq(
            uint256(lens.subjectOf(jobId, 0, 0).outcome), uint256(IWorkLedger.Outcome.RejectedCheat), "majority"
        );
        settleAllSeats(0);
        assertBooksBalance();
    }

    function test_nonRevealingSeat_isSlashedIntoEscrow() public {
        submitAndReveal(0, minerA, HONEST);
        IWorkLedger.Timeline memory t = timeline(jobId, 0, 0);
        address silent = commitSeat(jobId, 0, 0, AUDIT, 0, PASS);
        vm.roll(t.unsealEnd + 1);
        ledger.settleSubmission(jobId, 0, 0);
        uint256 escrowBefore = vault.escrowOf(jobId);
        uint256 before = stakes.stakeOf(silent).staked;
        ledger.settleSeat(jobId, 0, 0, AUDIT, 0);
        vm.assertEq(stakes.stakeOf(silent).staked, before - 10 ether, "silence slashed");
        vm.assertEq(vault.escrowOf(jobId), escrowBefore + 10 ether, "into the escrow");
        assertBooksBalance();
    }

    function test_unauditedWork_isAcceptedAfterTheRevealDeadline() public {
        IJobTypes.JobParams memory p = defaultParams();
        p.auditBps = 0;
        jobId = postJob(p);
        claimAndSubmit(jobId, 0, 0, minerA, HONEST, bytes32(0));
        IWorkLedger.Timeline memory t = timeline(jobId, 0, 0);
        vm.roll(t.revealDeadline);
        vm.expectRevert(
            abi.encodeWithSelector(
                IWorkLedger.LedgerTooEarly.selector, subject(jobId, 0, 0), t.revealDeadline + 1, t.revealDeadline
            )
        );
        ledger.settleSubmission(jobId, 0, 0);
        vm.roll(t.revealDeadline + 1);
        ledger.settleSubmission(jobId, 0, 0);
        vm.assertEq(claimable(minerA), 10 ether, "paid");
    }
}

contract WorkLedger_Rounds is LedgerStory {
    function setUp() public override {
        super.setUp();
        IJobTypes.JobParams memory p = defaultParams();
        p.auditBps = 0; // work slots go unaudited here; aggregates are always audited
        jobId = postJob(p);
    }

    function _finishWorkSlots(uint16 round) internal {
        claimAndSubmitRound(round, 0, minerA);
        claimAndSubmitRound(round, 1, minerB);
        vm.roll(timeline(jobId, round, 1).revealDeadline + 1);
        ledger.settleSubmission(jobId, round, 0);
        ledger.settleSubmission(jobId, round, 1);
    }

    function claimAndSubmitRound(uint16 round, uint16 slot, address miner) internal {
        claimAndSubmit(jobId, round, slot, miner, keccak256(abi.encode("work", round, slot)), bytes32(0));
    }

    function _aggregate(uint16 round, bytes32 digest, IWorkLedger.Verdict[3] memory verdicts) internal {
        vm.prank(aggregator);
        ledger.claimSlot(jobId, round, 2);
        vm.prank(aggregator);
        ledger.submit(jobId, round, 2, "bafy-aggregate", digest, bytes32(0), bytes32(0));
        IWorkLedger.Timeline memory t = timeline(jobId, round, 2);
        vm.roll(t.seedBlock + 1);
        for (uint8 seat; seat < 3; ++seat) commitSeat(jobId, round, 2, AUDIT, seat, verdicts[seat]);
        vm.roll(t.commitEnd + 1);
        for (uint8 seat; seat < 3; ++seat) revealSeat(jobId, round, 2, AUDIT, seat, verdicts[seat]);
    }

    function test_aggregation_opensTheNextRoundAndCompletesTheJob() public {
        _finishWorkSlots(0);
        _aggregate(0, keccak256("aggregate 0"), pass3());
        vm.roll(timeline(jobId, 0, 2).unsealEnd + 1);
        ledger.settleSubmission(jobId, 0, 2);
        (, IJobTypes.JobStatus status, uint16 current) = ledger.jobState(jobId);
        vm.assertEq(current, 1, "round 1 open");
        vm.assertEq(ledger.roundOf(jobId, 1).baseDigest, keccak256("aggregate 0"), "base is the aggregate");
        vm.assertEq(claimable(aggregator), 2 ether, "aggregator paid");

        _finishWorkSlots(1);
        _aggregate(1, keccak256("aggregate 1"), pass3());
        vm.roll(timeline(jobId, 1, 2).unsealEnd + 1);
        ledger.settleSubmission(jobId, 1, 2);
        (, status,) = ledger.jobState(jobId);
        vm.assertEq(uint256(status), uint256(IJobTypes.JobStatus.Completed), "completed");

        uint256 before = claimable(sponsor);
        vm.prank(sponsor);
        uint256 refunded = ledger.refundEscrow(jobId);
        vm.assertGt(refunded, 0, "unspent escrow refunded");
        vm.assertEq(claimable(sponsor), before + refunded, "to the sponsor");
        assertBooksBalance();
    }

    function test_wrongAggregate_isRejectedAndTheSlotReopens() public {
        _finishWorkSlots(0);
        _aggregate(0, keccak256("wrong aggregate"), fail3());
        IWorkLedger.Timeline memory t = timeline(jobId, 0, 2);
        vm.roll(t.disputeRevealEnd + 1);
        ledger.settleSubmission(jobId, 0, 2);
        vm.assertEq(uint256(lens.subjectOf(jobId, 0, 2).status), uint256(IWorkLedger.SlotStatus.Rejected), "rejected");
        vm.assertEq(ledger.roundOf(jobId, 0).failedAggregates, 1, "one failed aggregate");
        // The round's next aggregation slot is W + 1; the old one stays settled for its seats.
        vm.prank(minerB);
        ledger.claimSlot(jobId, 0, 3);
        vm.expectRevert(abi.encodeWithSelector(IWorkLedger.LedgerSlotOutOfRange.selector, 2, 3));
        vm.prank(aggregator);
        ledger.claimSlot(jobId, 0, 2);
        (,, uint16 current) = ledger.jobState(jobId);
        vm.assertEq(current, 0, "round 0 still open");
        assertBooksBalance();
    }

    function test_claimSlot_aggregationWaitsForEveryWorkSlot() public {
        claimAndSubmitRound(0, 0, minerA);
        vm.expectRevert(abi.encodeWithSelector(IWorkLedger.LedgerRoundNotReadyForAggregation.selector, jobId, 0, 0, 2));
        vm.prank(aggregator);
        ledger.claimSlot(jobId, 0, 2);
    }

    function test_vacateSlot_unclaimedAfterTheClaimWindow() public {
        uint256 closes = ledger.roundOf(jobId, 0).openedAt + 100;
        vm.expectRevert(
            abi.encodeWithSelector(IWorkLedger.LedgerTooEarly.selector, subject(jobId, 0, 0), closes + 1, block.number)
        );
        ledger.vacateSlot(jobId, 0, 0);
        vm.roll(closes + 1);
        ledger.vacateSlot(jobId, 0, 0);
        vm.assertEq(ledger.roundOf(jobId, 0).settledSlots, 1, "counts as settled");
    }

    function test_vacateSlot_claimedAndNeverSubmittedForfeitsCollateral() public {
        vm.prank(minerA);
        ledger.claimSlot(jobId, 0, 0);
        uint256 escrowBefore = vault.escrowOf(jobId);
        vm.roll(block.number + 51);
        ledger.vacateSlot(jobId, 0, 0);
        vm.assertEq(vault.escrowOf(jobId), escrowBefore + 20 ether, "collateral to the escrow");
        vm.assertEq(stakes.stakeOf(minerA).locked, 0, "nothing left locked");
        assertBooksBalance();
    }

    function test_vacateSlot_revertsOnSubmittedWork() public {
        claimAndSubmitRound(0, 0, minerA);
        vm.expectRevert(
            abi.encodeWithSelector(
                IWorkLedger.LedgerWrongStatus.selector, subject(jobId, 0, 0), IWorkLedger.SlotStatus.Submitted
            )
        );
        ledger.vacateSlot(jobId, 0, 0);
    }
}

contract WorkLedger_ClaimSlot is LedgerStory {
    function test_claimSlot_locksCollateral() public {
        vm.prank(minerA);
        ledger.claimSlot(jobId, 0, 0);
        vm.assertEq(stakes.stakeOf(minerA).locked, 20 ether, "collateral locked");
    }

    function test_claimSlot_revertsOnUnknownJob() public {
        vm.expectRevert(abi.encodeWithSelector(IJobTypes.JobUnknown.selector, 99));
        vm.prank(minerA);
        ledger.claimSlot(99, 0, 0);
    }

    function test_claimSlot_revertsOnClosedRound() public {
        vm.expectRevert(abi.encodeWithSelector(IWorkLedger.LedgerRoundNotOpen.selector, jobId, 1, 0));
        vm.prank(minerA);
        ledger.claimSlot(jobId, 1, 0);
    }

    function test_claimSlot_revertsOutOfRange() public {
        vm.expectRevert(abi.encodeWithSelector(IWorkLedger.LedgerSlotOutOfRange.selector, 3, 2));
        vm.prank(minerA);
        ledger.claimSlot(jobId, 0, 3);
    }

    function test_claimSlot_revertsWhenTaken() public {
        vm.prank(minerA);
        ledger.claimSlot(jobId, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(IWorkLedger.LedgerSlotTaken.selector, subject(jobId, 0, 0), minerA));
        vm.prank(minerB);
        ledger.claimSlot(jobId, 0, 0);
    }

    function test_claimSlot_revertsBelowMinimumStake() public {
        address poor = makeAddr("poor");
        stakeAs(poor, 50 ether);
        vm.expectRevert(
            abi.encodeWithSelector(IWorkLedger.LedgerMinerStakeTooLow.selector, poor, MIN_MINER_STAKE, 50 ether)
        );
        vm.prank(poor);
        ledger.claimSlot(jobId, 0, 0);
    }

    function test_claimSlot_revertsWhenCollateralIsAllLocked() public {
        address thin = makeAddr("thin");
        stakeAs(thin, 100 ether);
        IJobTypes.JobParams memory p = defaultParams();
        p.minerCollateral = 60 ether;
        uint256 job2 = postJob(p);
        vm.prank(thin);
        ledger.claimSlot(job2, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(IStakeManager.StakeInsufficientFree.selector, thin, 60 ether, 40 ether));
        vm.prank(thin);
        ledger.claimSlot(job2, 0, 1);
    }
}

contract WorkLedger_Submit is LedgerStory {
    function test_submit_revertsWhenNotClaimed() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IWorkLedger.LedgerWrongStatus.selector, subject(jobId, 0, 0), IWorkLedger.SlotStatus.Open
            )
        );
        vm.prank(minerA);
        ledger.submit(jobId, 0, 0, "cid", bytes32(0), bytes32(0), bytes32(0));
    }

    function test_submit_revertsForAnotherMiner() public {
        vm.prank(minerA);
        ledger.claimSlot(jobId, 0, 0);
        vm.expectRevert(
            abi.encodeWithSelector(IWorkLedger.LedgerNotSlotMiner.selector, subject(jobId, 0, 0), minerB, minerA)
        );
        vm.prank(minerB);
        ledger.submit(jobId, 0, 0, "cid", bytes32(0), bytes32(0), bytes32(0));
    }

    function test_submit_revertsAfterDeadline() public {
        vm.prank(minerA);
        ledger.claimSlot(jobId, 0, 0);
        uint256 deadline = block.number + 50;
        vm.roll(deadline + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IWorkLedger.LedgerDeadlinePassed.selector, subject(jobId, 0, 0), deadline, deadline + 1)
        );
        vm.prank(minerA);
        ledger.submit(jobId, 0, 0, "cid", bytes32(0), bytes32(0), bytes32(0));
    }

    function test_submit_cannotBeRepeated() public {
        claimAndSubmit(jobId, 0, 0, minerA, HONEST, bytes32(0));
        vm.expectRevert(
            abi.encodeWithSelector(
                IWorkLedger.LedgerWrongStatus.selector, subject(jobId, 0, 0), IWorkLedger.SlotStatus.Submitted
            )
        );
        vm.prank(minerA);
        ledger.submit(jobId, 0, 0, "cid", bytes32(0), bytes32(0), bytes32(0));
    }
}

contract WorkLedger_RevealCheckpoints is LedgerStory {
    function test_revealCheckpoints_revertsBeforeTheSeed() public {
        IWorkLedger.Commitment memory c = claimAndSubmit(jobId, 0, 0, minerA, HONEST, bytes32(0));
        IWorkLedger.Timeline memory t = timeline(jobId, 0, 0);
        IWorkLedger.Boundary[] memory b;
        string[] memory cids;
        vm.expectRevert(
            abi.encodeWithSelector(IWorkLedger.LedgerTooEarly.selector, subject(jobId, 0, 0), t.seedBlock + 1, block.number)
        );
        vm.prank(minerA);
        ledger.revealCheckpoints(jobId, 0, 0, c, b, cids);
    }

    function test_revealCheckpoints_revertsOnWrongPreimage() public {
        IWorkLedger.Commitment memory c = claimAndSubmit(jobId, 0, 0, minerA, HONEST, bytes32(0));
        c.resultDigest = keccak256("another result");
        IWorkLedger.Boundary[] memory b;
        string[] memory cids;
        vm.expectRevert(abi.encodeWithSelector(IWorkLedger.LedgerCommitmentMismatch.selector, subject(jobId, 0, 0)));
        vm.prank(minerA);
        ledger.revealCheckpoints(jobId, 0, 0, c, b, cids);
    }

    function test_revealCheckpoints_revertsOnWrongCount() public {
        IWorkLedger.Commitment memory c = claimAndSubmit(jobId, 0, 0, minerA, HONEST, bytes32(0));
        vm.roll(timeline(jobId, 0, 0).seedBlock + 1);
        IWorkLedger.Boundary[] memory b = new IWorkLedger.Boundary[](1);
        string[] memory cids = new string[](1);
        vm.expectRevert(abi.encodeWithSelector(IWorkLedger.LedgerBoundaryCount.selector, 4, 1));
        vm.prank(minerA);
        ledger.revealCheckpoints(jobId, 0, 0, c, b, cids);
    }

    function test_revealCheckpoints_revertsOnUnsampledBoundary() public {
        IWorkLedger.Commitment memory c = claimAndSubmit(jobId, 0, 0, minerA, HONEST, bytes32(0));
        vm.roll(timeline(jobId, 0, 0).seedBlock + 1);
        uint32[] memory sampled = lens.sampledIntervals(jobId, 0, 0);
        IWorkLedger.Boundary[] memory b = new IWorkLedger.Boundary[](4);
        string[] memory cids = new string[](4);
        uint32 wrong = (sampled[0] + 2) % 4;
        b[0].index = wrong;
        vm.expectRevert(abi.encodeWithSelector(IWorkLedger.LedgerWrongBoundary.selector, 0, sampled[0], wrong));
        vm.prank(minerA);
        ledger.revealCheckpoints(jobId, 0, 0, c, b, cids);
    }

    function test_revealCheckpoints_revertsAfterDeadline() public {
        IWorkLedger.Commitment memory c = claimAndSubmit(jobId, 0, 0, minerA, HONEST, bytes32(0));
        IWorkLedger.Timeline memory t = timeline(jobId, 0, 0);
        vm.roll(t.revealDeadline + 1);
        IWorkLedger.Boundary[] memory b;
        string[] memory cids;
        vm.expectRevert(
            abi.encodeWithSelector(
                IWorkLedger.LedgerDeadlinePassed.selector, subject(jobId, 0, 0), t.revealDeadline, t.revealDeadline + 1
            )
        );
        vm.prank(minerA);
        ledger.revealCheckpoints(jobId, 0, 0, c, b, cids);
    }

    function test_revealCheckpoints_revertsWhenNotAudited() public {
        IJobTypes.JobParams memory p = defaultParams();
        p.auditBps = 0;
        jobId = postJob(p);
        IWorkLedger.Commitment memory c = claimAndSubmit(jobId, 0, 0, minerA, HONEST, bytes32(0));
        vm.roll(timeline(jobId, 0, 0).seedBlock + 1);
        IWorkLedger.Boundary[] memory b;
        string[] memory cids;
        vm.expectRevert(abi.encodeWithSelector(IWorkLedger.LedgerNotAudited.selector, subject(jobId, 0, 0)));
        vm.prank(minerA);
        ledger.revealCheckpoints(jobId, 0, 0, c, b, cids);
    }

    function test_revealCheckpoints_revertsForAnotherMiner() public {
        IWorkLedger.Commitment memory c = claimAndSubmit(jobId, 0, 0, minerA, HONEST, bytes32(0));
        IWorkLedger.Boundary[] memory b;
        string[] memory cids;
        vm.expectRevert(
            abi.encodeWithSelector(IWorkLedger.LedgerNotSlotMiner.selector, subject(jobId, 0, 0), minerB, minerA)
        );
        vm.prank(minerB);
        ledger.revealCheckpoints(jobId, 0, 0, c, b, cids);
    }
}

contract WorkLedger_Verdicts is LedgerStory {
    function test_commitVerdict_revertsForAnUndrawnValidator() public {
        submitAndReveal(0, minerA, HONEST);
        address holder = lens.seatHolder(jobId, 0, 0, AUDIT, 0);
        address other = holder == validators[0] ? validators[1] : validators[0];
        vm.expectRevert(
            abi.encodeWithSelector(IWorkLedger.LedgerNotSeatHolder.selector, subject(jobId, 0, 0), AUDIT, 0, other, holder)
        );
        vm.prank(other);
        ledger.commitVerdict(jobId, 0, 0, AUDIT, 0, bytes32(uint256(1)));
    }

    function test_commitVerdict_revertsOutOfRangeSeat() public {
        submitAndReveal(0, minerA, HONEST);
        vm.expectRevert(abi.encodeWithSelector(IWorkLedger.LedgerSeatOutOfRange.selector, 3, 3));
        vm.prank(validators[0]);
        ledger.commitVerdict(jobId, 0, 0, AUDIT, 3, bytes32(uint256(1)));
    }

    function test_commitVerdict_revertsTwice() public {
        submitAndReveal(0, minerA, HONEST);
        address holder = commitSeat(jobId, 0, 0, AUDIT, 0, PASS);
        vm.expectRevert(abi.encodeWithSelector(IWorkLedger.LedgerSeatTaken.selector, subject(jobId, 0, 0), AUDIT, 0));
        vm.prank(holder);
        ledger.commitVerdict(jobId, 0, 0, AUDIT, 0, bytes32(uint256(1)));
    }

    function test_commitVerdict_revertsBeforeCheckpointsAreRevealed() public {
        claimAndSubmit(jobId, 0, 0, minerA, HONEST, bytes32(0));
        vm.roll(timeline(jobId, 0, 0).seedBlock + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IWorkLedger.LedgerWrongStatus.selector, subject(jobId, 0, 0), IWorkLedger.SlotStatus.Submitted
            )
        );
        vm.prank(validators[0]);
        ledger.commitVerdict(jobId, 0, 0, AUDIT, 0, bytes32(uint256(1)));
    }

    function test_commitVerdict_revertsAfterTheWindow() public {
        submitAndReveal(0, minerA, HONEST);
        IWorkLedger.Timeline memory t = timeline(jobId, 0, 0);
        vm.roll(t.commitEnd + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IWorkLedger.LedgerDeadlinePassed.selector, subject(jobId, 0, 0), t.commitEnd, t.commitEnd + 1)
        );
        vm.prank(validators[0]);
        ledger.commitVerdict(jobId, 0, 0, AUDIT, 0, bytes32(uint256(1)));
    }

    function test_commitVerdict_committeeNeedsADispute() public {
        submitAndReveal(0, minerA, HONEST);
        auditWith(jobId, 0, 0, pass3());
        vm.roll(timeline(jobId, 0, 0).disputeSeedBlock + 1);
        vm.expectRevert(abi.encodeWithSelector(IWorkLedger.LedgerNoDispute.selector, subject(jobId, 0, 0)));
        vm.prank(validators[0]);
        ledger.commitVerdict(jobId, 0, 0, COMMITTEE, 0, bytes32(uint256(1)));
    }

    function test_revealVerdict_revertsDuringCommitWindow() public {
        submitAndReveal(0, minerA, HONEST);
        commitSeat(jobId, 0, 0, AUDIT, 0, PASS);
        IWorkLedger.Timeline memory t = timeline(jobId, 0, 0);
        vm.expectRevert(
            abi.encodeWithSelector(IWorkLedger.LedgerTooEarly.selector, subject(jobId, 0, 0), t.commitEnd + 1, block.number)
        );
        revealSeat(jobId, 0, 0, AUDIT, 0, PASS);
    }

    function test_revealVerdict_revertsOnAChangedVerdict() public {
        // A validator cannot commit one verdict and reveal another (e.g. after seeing others' reveals).
        submitAndReveal(0, minerA, HONEST);
        commitSeat(jobId, 0, 0, AUDIT, 0, PASS);
        vm.roll(timeline(jobId, 0, 0).commitEnd + 1);
        vm.expectRevert(abi.encodeWithSelector(IWorkLedger.LedgerVerdictMismatch.selector, subject(jobId, 0, 0), AUDIT, 0));
        revealSeat(jobId, 0, 0, AUDIT, 0, FAIL);
    }

    function test_revealVerdict_revertsForAnUncommittedSeat() public {
        submitAndReveal(0, minerA, HONEST);
        vm.roll(timeline(jobId, 0, 0).commitEnd + 1);
        vm.expectRevert(abi.encodeWithSelector(IWorkLedger.LedgerSeatNotCommitted.selector, subject(jobId, 0, 0), AUDIT, 1));
        revealSeat(jobId, 0, 0, AUDIT, 1, PASS);
    }

    function test_revealVerdict_revertsTwice() public {
        submitAndReveal(0, minerA, HONEST);
        commitSeat(jobId, 0, 0, AUDIT, 0, PASS);
        vm.roll(timeline(jobId, 0, 0).commitEnd + 1);
        revealSeat(jobId, 0, 0, AUDIT, 0, PASS);
        vm.expectRevert(abi.encodeWithSelector(IWorkLedger.LedgerSeatAlreadyDone.selector, subject(jobId, 0, 0), AUDIT, 0));
        revealSeat(jobId, 0, 0, AUDIT, 0, PASS);
    }

    function test_revealVerdict_revertsOnVerdictNone() public {
        submitAndReveal(0, minerA, HONEST);
        commitSeat(jobId, 0, 0, AUDIT, 0, PASS);
        vm.roll(timeline(jobId, 0, 0).commitEnd + 1);
        vm.expectRevert(abi.encodeWithSelector(IWorkLedger.LedgerInvalidVerdict.selector, 0));
        revealSeat(jobId, 0, 0, AUDIT, 0, NONE);
    }

    function test_revealVerdict_revertsAfterTheWindow() public {
        submitAndReveal(0, minerA, HONEST);
        commitSeat(jobId, 0, 0, AUDIT, 0, PASS);
        IWorkLedger.Timeline memory t = timeline(jobId, 0, 0);
        vm.roll(t.revealEnd + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IWorkLedger.LedgerDeadlinePassed.selector, subject(jobId, 0, 0), t.revealEnd, t.revealEnd + 1)
        );
        revealSeat(jobId, 0, 0, AUDIT, 0, PASS);
    }

    function test_unsealForcedError_revertsBeforeVerdictsArePublic() public {
        bytes32 sentinelSalt = keccak256("s");
        bytes32 seal = lens.forcedErrorSeal(ledger.subjectKey(jobId, 0, 0), sentinelSalt);
        IWorkLedger.Commitment memory c = claimAndSubmit(jobId, 0, 0, minerB, HONEST, seal);
        IWorkLedger.Timeline memory t = timeline(jobId, 0, 0);
        vm.roll(t.seedBlock + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IWorkLedger.LedgerTooEarly.selector, subject(jobId, 0, 0), t.revealEnd + 1, block.number)
        );
        ledger.unsealForcedError(jobId, 0, 0, c, sentinelSalt);
    }

    function test_unsealForcedError_revertsOnWrongSalt() public {
        bytes32 seal = lens.forcedErrorSeal(ledger.subjectKey(jobId, 0, 0), keccak256("s"));
        IWorkLedger.Commitment memory c = claimAndSubmit(jobId, 0, 0, minerB, HONEST, seal);
        vm.expectRevert(abi.encodeWithSelector(IWorkLedger.LedgerSealMismatch.selector, subject(jobId, 0, 0)));
        ledger.unsealForcedError(jobId, 0, 0, c, keccak256("guess"));
    }
}

contract WorkLedger_Settle is LedgerStory {
    function test_settleSubmission_revertsOnAnOpenSlot() public {
        vm.expectRevert(
            abi.encodeWithSelector(IWorkLedger.LedgerWrongStatus.selector, subject(jobId, 0, 0), IWorkLedger.SlotStatus.Open)
        );
        ledger.settleSubmission(jobId, 0, 0);
    }

    function test_settleSubmission_cannotRunTwice() public {
        submitAndReveal(0, minerA, HONEST);
        vm.roll(timeline(jobId, 0, 0).unsealEnd + 1);
        ledger.settleSubmission(jobId, 0, 0);
        vm.expectRevert(
            abi.encodeWithSelector(
                IWorkLedger.LedgerWrongStatus.selector, subject(jobId, 0, 0), IWorkLedger.SlotStatus.Accepted
            )
        );
        ledger.settleSubmission(jobId, 0, 0);
    }

    function test_settleSeat_revertsBeforeTheSubmissionSettles() public {
        submitAndReveal(0, minerA, HONEST);
        commitSeat(jobId, 0, 0, AUDIT, 0, PASS);
        vm.expectRevert(abi.encodeWithSelector(IWorkLedger.LedgerNotSettled.selector, subject(jobId, 0, 0)));
        ledger.settleSeat(jobId, 0, 0, AUDIT, 0);
    }

    function test_settleSeat_winnersWaitForLosers() public {
        submitAndReveal(0, minerA, HONEST);
        auditWith(jobId, 0, 0, [FAIL, PASS, PASS]);
        disputeWith(0, pass3());
        ledger.settleSubmission(jobId, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(IWorkLedger.LedgerBountyNotReady.selector, subject(jobId, 0, 0), 1));
        ledger.settleSeat(jobId, 0, 0, AUDIT, 1);
    }

    function test_settleSeat_paysAtMostOnce() public {
        submitAndReveal(0, minerA, HONEST);
        auditWith(jobId, 0, 0, pass3());
        vm.roll(timeline(jobId, 0, 0).unsealEnd + 1);
        ledger.settleSubmission(jobId, 0, 0);
        ledger.settleSeat(jobId, 0, 0, AUDIT, 0);
        vm.expectRevert(abi.encodeWithSelector(IWorkLedger.LedgerSeatAlreadyDone.selector, subject(jobId, 0, 0), AUDIT, 0));
        ledger.settleSeat(jobId, 0, 0, AUDIT, 0);
    }

    function test_settleSeat_revertsOnAnEmptySeat() public {
        submitAndReveal(0, minerA, HONEST);
        vm.roll(timeline(jobId, 0, 0).unsealEnd + 1);
        ledger.settleSubmission(jobId, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(IWorkLedger.LedgerSeatNotCommitted.selector, subject(jobId, 0, 0), AUDIT, 2));
        ledger.settleSeat(jobId, 0, 0, AUDIT, 2);
    }

    function test_refundEscrow_onlySponsorAfterCompletion() public {
        vm.expectRevert(abi.encodeWithSelector(IJobTypes.JobNotSponsor.selector, jobId, minerA));
        vm.prank(minerA);
        ledger.refundEscrow(jobId);
        vm.expectRevert(abi.encodeWithSelector(IJobTypes.JobWrongStatus.selector, jobId, IJobTypes.JobStatus.Active));
        vm.prank(sponsor);
        ledger.refundEscrow(jobId);
    }

    function test_registerJob_onlyRegistry() public {
        vm.expectRevert(abi.encodeWithSelector(IJobTypes.JobUnauthorizedRegistry.selector, address(this)));
        ledger.registerJob(7, sponsor, defaultParams(), bytes32(0), 0);
    }

    function test_bindRegistry_onlyOnce() public {
        vm.expectRevert(abi.encodeWithSelector(IJobTypes.JobUnauthorizedRegistry.selector, address(this)));
        ledger.bindRegistry(minerA);
    }

    /// @dev Any mix of audit and committee verdicts settles, pays or slashes every seat, and balances the books.
    function testFuzz_anyVerdictPattern_settlesAndBalances(uint256 pattern, bool cheat) public {
        submitAndReveal(0, minerA, cheat ? keccak256("cheat") : HONEST);
        IWorkLedger.Verdict[3] memory audit;
        IWorkLedger.Verdict[3] memory committee;
        for (uint256 i; i < 3; ++i) {
            audit[i] = IWorkLedger.Verdict(pattern % 3);
            pattern /= 3;
            committee[i] = IWorkLedger.Verdict(pattern % 3);
            pattern /= 3;
        }
        auditWith(jobId, 0, 0, audit);
        IWorkLedger.SubjectView memory v = lens.subjectOf(jobId, 0, 0);
        if (v.auditFail > 0) disputeWith(0, committee);
        else vm.roll(timeline(jobId, 0, 0).unsealEnd + 1);
        ledger.settleSubmission(jobId, 0, 0);
        settleAllSeats(0);
        v = lens.subjectOf(jobId, 0, 0);
        vm.assertEq(v.pendingLosers, 0, "every loser slashed");
        vm.assertEq(v.winnersPaid, v.winners, "every winner paid once");
        vm.assertEq(lens.subjectOf(jobId, 0, 0).poolBalance, 0, "pool emptied into payouts and escrow");
        assertBooksBalance();
    }

    function testFuzz_settleSubmission_tooEarlyUntilTheUnsealWindowCloses(uint256 wait) public {
        submitAndReveal(0, minerA, HONEST);
        IWorkLedger.Timeline memory t = timeline(jobId, 0, 0);
        wait = bound(wait, block.number, t.unsealEnd + 50);
        vm.roll(wait);
        if (wait <= t.unsealEnd) {
            vm.expectRevert(
                abi.encodeWithSelector(IWorkLedger.LedgerTooEarly.selector, subject(jobId, 0, 0), t.unsealEnd + 1, wait)
            );
        }
        ledger.settleSubmission(jobId, 0, 0);
    }
}
