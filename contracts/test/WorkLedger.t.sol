// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {CrucibleTest} from "./utils/CrucibleTest.sol";
import {IJobTypes} from "../src/interfaces/IJobTypes.sol";
import {ILedgerTypes} from "../src/interfaces/ILedgerTypes.sol";
import {IStakeManager} from "../src/interfaces/IStakeManager.sol";

/// @notice Shared steps of the protocol's story, used by the ledger tests below.
abstract contract LedgerStory is CrucibleTest {
    bytes32 internal constant HONEST = keccak256("honest run");
    bytes32 internal constant CHEAT = keccak256("cheating run");

    uint256 internal jobId;

    function setUp() public virtual override {
        super.setUp();
        stakeEveryone();
        jobId = postJob(defaultParams());
    }

    /// @dev Miner claims, submits, the seed block's randomness is recorded, and the miner reveals.
    function submitAndReveal(uint256 job, uint16 slot, address miner, bytes32 variant)
        internal
        returns (ILedgerTypes.Commitment memory c)
    {
        c = claimAndSubmit(job, 0, slot, miner, variant);
        seed(job, 0, slot);
        revealSampled(job, 0, slot, miner, variant, c);
    }

    function settleAfterUnseal(uint256 job, uint16 slot) internal {
        vm.roll(timeline(job, 0, slot).unsealEnd + 1);
        ledger.settleSubmission(job, 0, slot);
    }

    function outcome(uint256 job, uint16 slot) internal view returns (ILedgerTypes.Outcome) {
        return view_(job, 0, slot).outcome;
    }

    function staked(address who) internal view returns (uint256) {
        return stakes.stakeOf(who).staked;
    }
}

/// @notice The protocol's story: honest work paid, cheats slashed, accusers and lazy validators caught.
contract WorkLedger_Story is LedgerStory {
    function test_honestWork_isAuditedAcceptedAndPaid() public {
        submitAndReveal(jobId, 0, minerA, HONEST);
        auditWith(jobId, 0, 0, pass3());
        settleAfterUnseal(jobId, 0);

        vm.assertEq(uint256(outcome(jobId, 0)), uint256(ILedgerTypes.Outcome.Accepted), "accepted");
        vm.assertEq(vault.claimableOf(minerA), 10 ether, "miner paid its reward");
        vm.assertEq(stakes.stakeOf(minerA).locked, 0, "collateral released");
        vm.assertEq(staked(minerA), 500 ether, "honest miner's stake untouched");
        settleAllSeats(jobId, 0, 0);
        for (uint256 seat; seat < 3; ++seat) {
            address v = holderOf(jobId, 0, 0, AUDIT, seat);
            vm.assertEq(vault.claimableOf(v), 1 ether, "each audit seat paid its reward");
            vm.assertEq(staked(v), 300 ether, "honest validator's stake untouched");
        }
        assertBooksBalance();
    }

    function test_cheat_isDisputedSlashedAndChallengersPaid() public {
        submitAndReveal(jobId, 0, minerA, CHEAT);
        auditWith(jobId, 0, 0, fail3());
        disputeWith(jobId, 0, 0, fail3());
        ledger.settleSubmission(jobId, 0, 0);

        vm.assertEq(uint256(outcome(jobId, 0)), uint256(ILedgerTypes.Outcome.RejectedCheat), "rejected");
        // Collateral 20 + 10% of the free and unbonding stake left (480): 68 CRU.
        vm.assertEq(staked(minerA), 500 ether - 68 ether, "collateral plus a slice slashed");
        vm.assertEq(vault.claimableOf(minerA), 0, "cheat earns nothing");
        uint256 escrowBefore = vault.escrowOf(jobId);
        settleAllSeats(jobId, 0, 0);
        // Audit winners' rewards come out of the slash (3 CRU); half of the remaining 65 CRU goes to the six winners
        // (a validator may sit on both panels and is then paid for each seat).
        uint256 bounty = uint256(65 ether) * 5_000 / 10_000 / 6;
        uint256 paid;
        for (uint256 i; i < validators.length; ++i) paid += vault.claimableOf(validators[i]);
        vm.assertEq(paid, 3 ether + 6 * bounty, "three rewards and six bounty shares");
        vm.assertEq(vault.escrowOf(jobId), escrowBefore + 65 ether - 6 * bounty, "the rest refills the escrow");
        assertBooksBalance();
    }

    function test_falseAccuser_isOutvotedAndSlashed() public {
        submitAndReveal(jobId, 0, minerA, HONEST);
        auditWith(jobId, 0, 0, [FAIL, PASS, PASS]);
        disputeWith(jobId, 0, 0, pass3());
        ledger.settleSubmission(jobId, 0, 0);
        vm.assertEq(uint256(outcome(jobId, 0)), uint256(ILedgerTypes.Outcome.Accepted), "committee backs the miner");
        address accuser = holderOf(jobId, 0, 0, AUDIT, 0);
        uint256 before = staked(accuser);
        settleAllSeats(jobId, 0, 0);
        vm.assertEq(staked(accuser), before - 10 ether, "false accuser slashed validatorSlash");
        vm.assertEq(vault.claimableOf(minerA), 10 ether, "miner paid");
        assertBooksBalance();
    }

    function test_copiedWork_doesNotOpenUnderTheCopiersAddress() public {
        ILedgerTypes.Commitment memory c = claimAndSubmit(jobId, 0, 0, minerA, HONEST);
        // minerB copies minerA's commitment: the leaves bind minerA, so minerB can never reveal them.
        vm.prank(minerB);
        ledger.claimSlot(jobId, 0, 1);
        vm.prank(minerB);
        ledger.submit(jobId, 0, 1, "bafy-bundle", c.resultDigest, c.merkleRoot);
        seed(jobId, 0, 1);
        (ILedgerTypes.Boundary[] memory b, string[] memory cids) = boundariesFor(jobId, 0, 0, minerA, HONEST);
        uint32[] memory sampled = lens.sampledIntervals(jobId, 0, 1);
        for (uint256 j; j < b.length; ++j) b[j].index = uint32(sampled[j / 2] + j % 2);
        vm.prank(minerB);
        vm.expectRevert();
        ledger.revealCheckpoints(jobId, 0, 1, c, b, cids);
    }

    function test_withheldCheckpoints_slashTheMiner() public {
        claimAndSubmit(jobId, 0, 0, minerA, HONEST);
        seed(jobId, 0, 0);
        vm.roll(timeline(jobId, 0, 0).revealDeadline + 1);
        ledger.settleSubmission(jobId, 0, 0);
        vm.assertEq(uint256(outcome(jobId, 0)), uint256(ILedgerTypes.Outcome.RejectedWithheld), "withheld");
        vm.assertEq(staked(minerA), 432 ether, "collateral + slice slashed");
        assertBooksBalance();
    }

    function test_silentDrawnSeat_andUnrevealedSeat_areSlashedIntoTheEscrow() public {
        submitAndReveal(jobId, 0, minerA, HONEST);
        // Seat 0 never commits; seat 1 commits and never reveals; seat 2 does its job.
        ledger.drawSeats(jobId, 0, 0, AUDIT);
        commitSeat(jobId, 0, 0, AUDIT, 1, PASS);
        commitSeat(jobId, 0, 0, AUDIT, 2, PASS);
        vm.roll(timeline(jobId, 0, 0).commitEnd + 1);
        revealSeat(jobId, 0, 0, AUDIT, 2, PASS);
        settleAfterUnseal(jobId, 0);
        uint256 escrowBefore = vault.escrowOf(jobId);
        address silent = holderOf(jobId, 0, 0, AUDIT, 0);
        address unrevealed = holderOf(jobId, 0, 0, AUDIT, 1);
        settleAllSeats(jobId, 0, 0);
        vm.assertEq(staked(silent), 290 ether, "drawn and silent: slashed");
        vm.assertEq(staked(unrevealed), 290 ether, "committed, never revealed: slashed");
        vm.assertEq(vault.escrowOf(jobId), escrowBefore + 20 ether, "their slashes refill the escrow");
        assertBooksBalance();
    }

    function test_unauditedWork_isAcceptedOnlyAfterTheUnsealWindow() public {
        IJobTypes.JobParams memory p = defaultParams();
        p.auditBps = 1; // almost never audited
        uint256 job = postJob(p);
        claimAndSubmit(job, 0, 0, minerA, HONEST);
        seed(job, 0, 0);
        (bool known, bool audited) = lens.auditStatus(job, 0, 0);
        vm.assertTrue(known && !audited, "not audited");
        vm.roll(timeline(job, 0, 0).revealDeadline + 1);
        vm.expectRevert();
        ledger.settleSubmission(job, 0, 0);
        settleAfterUnseal(job, 0);
        vm.assertEq(uint256(outcome(job, 0)), uint256(ILedgerTypes.Outcome.Accepted), "accepted");
        vm.assertEq(vault.claimableOf(minerA), 10 ether, "paid");
    }
}

/// @notice Randomness that nobody recorded, panels that never answer: every path still ends, and nobody is paid for
/// work nobody checked.
contract WorkLedger_Retries is LedgerStory {
    function test_missedSeedBlock_isRetriedAndForcesAnAudit() public {
        IJobTypes.JobParams memory p = defaultParams();
        p.auditBps = 1;
        uint256 job = postJob(p);
        claimAndSubmit(job, 0, 0, minerA, HONEST);
        ILedgerTypes.Timeline memory first = timeline(job, 0, 0);
        // Nobody records the first seed block; the second try's randomness is recorded.
        vm.roll(first.seedBlock + 1);
        recordAt(first.seedBlock + p.windows.seedDelay);
        vm.roll(block.number + 1);
        (bool known, bool audited) = lens.auditStatus(job, 0, 0);
        vm.assertTrue(known && audited, "a retried seed always audits");
        vm.assertEq(timeline(job, 0, 0).seedBlock, first.seedBlock + p.windows.seedDelay, "timeline follows the retry");
        revealSampled(job, 0, 0, minerA, HONEST, commitmentOf(_root(job, minerA), ckptDigest(HONEST, 3)));
        auditWith(job, 0, 0, pass3());
        settleAfterUnseal(job, 0);
        vm.assertEq(uint256(outcome(job, 0)), uint256(ILedgerTypes.Outcome.Accepted), "accepted, not slashed");
    }

    function test_everySeedTryMissed_settlesUnverified_collateralBack_notPaid() public {
        claimAndSubmit(jobId, 0, 0, minerA, HONEST);
        ILedgerTypes.Timeline memory t = timeline(jobId, 0, 0);
        vm.roll(t.seedBlock + 3 * 2 + 1);
        ledger.settleSubmission(jobId, 0, 0);
        vm.assertEq(uint256(outcome(jobId, 0)), uint256(ILedgerTypes.Outcome.Unverified), "unverified");
        vm.assertEq(staked(minerA), 500 ether, "nothing slashed");
        vm.assertEq(stakes.stakeOf(minerA).locked, 0, "collateral released");
        vm.assertEq(vault.claimableOf(minerA), 0, "nothing paid");
    }

    function test_silentAuditPanel_isRedrawnFromItsOwnSeedBlock() public {
        submitAndReveal(jobId, 0, minerA, HONEST);
        ledger.drawSeats(jobId, 0, 0, AUDIT);
        ILedgerTypes.Timeline memory first = timeline(jobId, 0, 0);
        vm.roll(first.revealEnd + 1);
        // Attempt 1 draws from the randomness of (revealEnd + seedDelay), seats 3..5.
        ILedgerTypes.Timeline memory second = timeline(jobId, 0, 0);
        vm.assertEq(second.panelSeedBlock, first.revealEnd + 2, "re-draw seed block");
        recordAt(second.panelSeedBlock);
        vm.roll(second.panelSeedBlock + 1);
        ledger.drawSeats(jobId, 0, 0, AUDIT);
        for (uint256 seat = 3; seat < 6; ++seat) commitSeat(jobId, 0, 0, AUDIT, seat, PASS);
        vm.roll(second.commitEnd + 1);
        for (uint256 seat = 3; seat < 6; ++seat) revealSeat(jobId, 0, 0, AUDIT, seat, PASS);
        settleAfterUnseal(jobId, 0);
        vm.assertEq(uint256(outcome(jobId, 0)), uint256(ILedgerTypes.Outcome.Accepted), "accepted by the re-drawn panel");
        settleAllSeats(jobId, 0, 0);
        vm.assertEq(staked(holderOf(jobId, 0, 0, AUDIT, 0)), 290 ether, "the first panel's silent seat is slashed");
        assertBooksBalance();
    }

    function test_noVerdictAfterEveryAttempt_isUnverified_neverPaid() public {
        submitAndReveal(jobId, 0, minerA, HONEST);
        vm.roll(timeline(jobId, 0, 0).revealEnd + 3 * 42 + 1);
        ledger.settleSubmission(jobId, 0, 0);
        vm.assertEq(uint256(outcome(jobId, 0)), uint256(ILedgerTypes.Outcome.Unverified), "unverified");
        vm.assertEq(vault.claimableOf(minerA), 0, "audited work nobody checked is not paid");
        vm.assertEq(staked(minerA), 500 ether, "nor slashed");
    }

    function test_silentCommittee_fallsBackToTheAuditMajority() public {
        submitAndReveal(jobId, 0, minerA, CHEAT);
        auditWith(jobId, 0, 0, [FAIL, FAIL, PASS]);
        ILedgerTypes.Timeline memory t = timeline(jobId, 0, 0);
        vm.roll(t.disputeRevealEnd + 3 * 42 + 1);
        ledger.settleSubmission(jobId, 0, 0);
        vm.assertEq(uint256(outcome(jobId, 0)), uint256(ILedgerTypes.Outcome.RejectedCheat), "audit majority decides");
    }

    function _root(uint256 job, address miner) internal view returns (bytes32) {
        bytes32[4] memory l = leaves(job, 0, 0, miner, HONEST);
        return keccak256(abi.encode(keccak256(abi.encode(l[0], l[1])), keccak256(abi.encode(l[2], l[3]))));
    }
}

/// @notice Planted errors: only the sponsor's sealed set opens, and a validator that passed correct work never loses.
contract WorkLedger_Plants is LedgerStory {
    bytes32 internal constant PLANT_SALT = keccak256("plant salt");

    function _plantedJob() internal returns (uint256 job) {
        IJobTypes.JobParams memory p = defaultParams();
        p.plantBond = 50 ether;
        job = postJobWithPlants(p, plantRootOf(0, 0, sentinel, PLANT_SALT));
    }

    function _unseal(uint256 job) internal {
        vm.roll(timeline(job, 0, 0).revealEnd + 1);
        ledger.unsealPlant(job, 0, 0, PLANT_SALT, new bytes32[](0));
    }

    function test_lazyValidator_isCaughtByAPlant_andTheSentinelKeepsItsStake() public {
        uint256 job = _plantedJob();
        submitAndReveal(job, 0, sentinel, CHEAT);
        auditWith(job, 0, 0, [PASS, FAIL, FAIL]); // seat 0 passed without replaying
        _unseal(job);
        disputeWith(job, 0, 0, fail3());
        ledger.settleSubmission(job, 0, 0);
        vm.assertEq(uint256(outcome(job, 0)), uint256(ILedgerTypes.Outcome.RejectedPlanted), "plant confirmed");
        vm.assertEq(staked(sentinel), 500 ether, "the sentinel is not slashed");
        address lazy = holderOf(job, 0, 0, AUDIT, 0);
        uint256 supplyBefore = token.totalSupply();
        settleAllSeats(job, 0, 0);
        vm.assertEq(staked(lazy), 290 ether, "the lazy seat is slashed");
        vm.assertLt(token.totalSupply(), supplyBefore, "what the winners do not get is burned, not refunded");
        assertBooksBalance();
    }

    function test_plantOfCorrectWork_slashesTheSentinel_neverTheValidators() public {
        uint256 job = _plantedJob();
        submitAndReveal(job, 0, sentinel, HONEST);
        auditWith(job, 0, 0, pass3()); // honest validators pass correct work
        _unseal(job);
        disputeWith(job, 0, 0, pass3());
        ledger.settleSubmission(job, 0, 0);
        vm.assertEq(uint256(outcome(job, 0)), uint256(ILedgerTypes.Outcome.PlantRefuted), "plant refuted");
        vm.assertEq(staked(sentinel), 432 ether, "the sentinel loses collateral and slice");
        settleAllSeats(job, 0, 0);
        for (uint256 seat; seat < 3; ++seat) {
            address v = holderOf(job, 0, 0, AUDIT, seat);
            vm.assertEq(staked(v), 300 ether, "a validator that passed correct work never loses");
            vm.assertGt(vault.claimableOf(v), 1 ether, "and is paid reward plus bounty");
        }
        assertBooksBalance();
    }

    function test_aMinerCannotClaimThePlantOfItsOwnSlot() public {
        uint256 job = _plantedJob();
        submitAndReveal(job, 0, minerA, CHEAT); // minerA holds the slot the sponsor planted for its sentinel
        auditWith(job, 0, 0, fail3());
        vm.roll(timeline(job, 0, 0).revealEnd + 1);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerPlantMismatch.selector, subject(job, 0, 0), minerA));
        ledger.unsealPlant(job, 0, 0, PLANT_SALT, new bytes32[](0));
    }

    function test_anUnauditedPlant_isUnsealedOnlyAfterTheAuditsBesideItClose() public {
        IJobTypes.JobParams memory p = defaultParams();
        p.auditBps = 1;
        uint256 job = postJobWithPlants(p, plantRootOf(0, 0, sentinel, PLANT_SALT));
        claimAndSubmit(job, 0, 0, sentinel, CHEAT);
        seed(job, 0, 0);
        ILedgerTypes.Timeline memory t = timeline(job, 0, 0);
        vm.expectRevert(
            abi.encodeWithSelector(ILedgerTypes.LedgerTooEarly.selector, subject(job, 0, 0), t.revealEnd + 1, block.number)
        );
        ledger.unsealPlant(job, 0, 0, PLANT_SALT, new bytes32[](0));
        vm.roll(t.revealEnd + 1);
        ledger.unsealPlant(job, 0, 0, PLANT_SALT, new bytes32[](0));
        vm.roll(t.unsealEnd + 1);
        ledger.settleSubmission(job, 0, 0);
        vm.assertEq(uint256(outcome(job, 0)), uint256(ILedgerTypes.Outcome.RejectedPlanted), "never aggregated");
    }
}

/// @notice Rounds: aggregation opens the next round, a wrong aggregate gets a fresh slot, and every job ends.
contract WorkLedger_Rounds is LedgerStory {
    function _settleRoundWork(uint256 job, uint16 round) internal {
        for (uint16 slot; slot < 2; ++slot) {
            address miner = slot == 0 ? minerA : minerB;
            ILedgerTypes.Commitment memory c = claimAndSubmit(job, round, slot, miner, HONEST);
            recordAt(timeline(job, round, slot).seedBlock);
            vm.roll(block.number + 1);
            revealSampled(job, round, slot, miner, HONEST, c);
            auditWith(job, round, slot, pass3());
            vm.roll(timeline(job, round, slot).unsealEnd + 1);
            ledger.settleSubmission(job, round, slot);
        }
    }

    function _aggregate(uint256 job, uint16 round, uint16 slot, address who, bytes32 digest, bool correct) internal {
        vm.prank(who);
        ledger.claimSlot(job, round, slot);
        vm.prank(who);
        ledger.submit(job, round, slot, "bafy-aggregate", digest, bytes32(0));
        recordAt(timeline(job, round, slot).seedBlock);
        vm.roll(block.number + 1);
        auditWith(job, round, slot, correct ? pass3() : fail3());
        if (!correct) disputeWith(job, round, slot, fail3());
        else vm.roll(timeline(job, round, slot).unsealEnd + 1);
        ledger.settleSubmission(job, round, slot);
    }

    function test_aggregationOpensTheNextRound_andTheJobCompletes() public {
        _settleRoundWork(jobId, 0);
        _aggregate(jobId, 0, 2, aggregator, keccak256("aggregate 0"), true);
        (, IJobTypes.JobStatus status, uint16 current) = ledger.jobState(jobId);
        vm.assertEq(current, 1, "round 1 open");
        vm.assertEq(ledger.roundOf(jobId, 1).baseDigest, keccak256("aggregate 0"), "next base is the aggregate");
        _settleRoundWork(jobId, 1);
        _aggregate(jobId, 1, 2, aggregator, keccak256("aggregate 1"), true);
        (, status,) = ledger.jobState(jobId);
        vm.assertEq(uint256(status), uint256(IJobTypes.JobStatus.Completed), "completed");
        vm.prank(sponsor);
        ledger.refundEscrow(jobId);
        assertBooksBalance();
    }

    function test_wrongAggregate_isRejected_andTheRoundGetsAFreshSlot() public {
        _settleRoundWork(jobId, 0);
        _aggregate(jobId, 0, 2, aggregator, keccak256("wrong"), false);
        vm.assertEq(ledger.roundOf(jobId, 0).failedAggregates, 1, "one aggregate rejected");
        _aggregate(jobId, 0, 3, minerA, keccak256("right"), true);
        (,, uint16 current) = ledger.jobState(jobId);
        vm.assertEq(current, 1, "the correct aggregate opened round 1");
        assertBooksBalance();
    }

    function test_unclaimedAggregationSlot_abandonsTheJob_andTheSponsorIsRefunded() public {
        _settleRoundWork(jobId, 0);
        vm.roll(block.number + 101);
        ledger.vacateSlot(jobId, 0, 2);
        (, IJobTypes.JobStatus status,) = ledger.jobState(jobId);
        vm.assertEq(uint256(status), uint256(IJobTypes.JobStatus.Abandoned), "abandoned");
        settleAllSeats(jobId, 0, 0);
        settleAllSeats(jobId, 0, 1);
        vm.prank(sponsor);
        uint256 refunded = ledger.refundEscrow(jobId);
        vm.assertGt(refunded, 0, "the unspent escrow goes back");
        assertBooksBalance();
    }

    function test_claimedNeverSubmitted_losesOnlyThatSlotsCollateral() public {
        vm.prank(minerA);
        ledger.claimSlot(jobId, 0, 0);
        vm.prank(minerA);
        ledger.claimSlot(jobId, 0, 1);
        vm.roll(block.number + 51);
        uint256 escrowBefore = vault.escrowOf(jobId);
        ledger.vacateSlot(jobId, 0, 0);
        vm.assertEq(staked(minerA), 480 ether, "one collateral slashed");
        vm.assertEq(stakes.stakeOf(minerA).locked, 20 ether, "the other slot keeps its collateral");
        vm.assertEq(vault.escrowOf(jobId), escrowBefore + 20 ether, "into the escrow");
        ledger.vacateSlot(jobId, 0, 1);
        vm.assertEq(stakes.stakeOf(minerA).locked, 0, "and it can still be settled");
        assertBooksBalance();
    }
}
