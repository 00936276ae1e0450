// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {LedgerStory} from "./WorkLedger.t.sol";
import {IJobTypes} from "../src/interfaces/IJobTypes.sol";
import {IJobRegistry} from "../src/interfaces/IJobRegistry.sol";
import {ILedgerTypes} from "../src/interfaces/ILedgerTypes.sol";
import {IStakeManager} from "../src/interfaces/IStakeManager.sol";
import {WorkFixtures} from "./utils/WorkFixtures.sol";

/// @notice One regression test per finding of the external review (shared/audits/contracts-2026-11-23.md), each
/// written as the attacker would play it and asserting the property that now holds.
contract AuditFindings is LedgerStory {
    bytes32 internal constant PLANT_SALT = keccak256("plant salt");

    // ------------------------------------------------------------ F-01: a miner seals its own work

    /// @dev The attacker cheats and, caught, tries to pass its work off as a planted error. There is no seal to forge:
    /// only the sponsor's root (committed at job creation) opens, for the sentinel it named. The cheat is slashed.
    function test_F01_aMinerCannotSealItsOwnWork_andTheCheatIsSlashed() public {
        submitAndReveal(jobId, 0, minerA, CHEAT);
        auditWith(jobId, 0, 0, fail3());
        vm.roll(timeline(jobId, 0, 0).revealEnd + 1);
        bytes32 ownLeaf = plantRootOf(0, 0, minerA, keccak256("miner's own salt"));
        bytes32[] memory proof = new bytes32[](1);
        proof[0] = ownLeaf;
        vm.prank(minerA);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerPlantMismatch.selector, subject(jobId, 0, 0), minerA));
        ledger.unsealPlant(jobId, 0, 0, keccak256("miner's own salt"), proof);
        disputeWith(jobId, 0, 0, fail3());
        ledger.settleSubmission(jobId, 0, 0);
        vm.assertEq(staked(minerA), 432 ether, "collateral + slice slashed: the seal escape is gone");
    }

    // ------------------------------------------------------------ F-02: a sponsor plants correct work

    /// @dev The sponsor's sentinel submits correct work as a "plant", honest validators pass it, the sponsor unseals.
    /// The plant goes to the committee, is refuted, and the sentinel (and the plant bond) pay the validators.
    function test_F02_plantingCorrectWork_costsTheSponsor_neverTheValidators() public {
        IJobTypes.JobParams memory p = defaultParams();
        p.plantBond = 50 ether;
        uint256 job = postJobWithPlants(p, plantRootOf(0, 0, sentinel, PLANT_SALT));
        uint256 sponsorSpent = registry.requiredEscrow(p);
        submitAndReveal(job, 0, sentinel, HONEST);
        auditWith(job, 0, 0, pass3());
        vm.roll(timeline(job, 0, 0).revealEnd + 1);
        ledger.unsealPlant(job, 0, 0, PLANT_SALT, new bytes32[](0));
        disputeWith(job, 0, 0, pass3());
        ledger.settleSubmission(job, 0, 0);
        settleAllSeats(job, 0, 0);
        for (uint256 i; i < validators.length; ++i) {
            vm.assertGe(staked(validators[i]), 300 ether, "no honest validator lost stake");
        }
        // Close the job: the sponsor gets back at most what it escrowed, minus the bond, minus the seats' rewards.
        vm.roll(block.number + 200);
        ledger.vacateSlot(job, 0, 1);
        vm.roll(block.number + 101);
        ledger.vacateSlot(job, 0, 2);
        vm.prank(sponsor);
        uint256 refunded = ledger.refundEscrow(job);
        vm.assertLe(refunded, sponsorSpent - 50 ether, "the plant bond is gone");
        vm.assertEq(staked(sentinel), 432 ether, "the sentinel is slashed as a cheater");
        assertBooksBalance();
    }

    function test_F02_validatorSlashIsCapped() public {
        IJobTypes.JobParams memory p = defaultParams();
        p.validatorSlash = 250 ether;
        vm.expectRevert(
            abi.encodeWithSelector(IJobRegistry.JobParamOutOfRange.selector, "validatorSlash", 250 ether, 1, 20 ether)
        );
        this.create(p);
    }

    function create(IJobTypes.JobParams memory p) external {
        postJob(p);
    }

    // ------------------------------------------------------------ F-03: one slash strands the other slots

    /// @dev A miner staking exactly what five slots need misses one reveal: the slash takes only that slot; the other
    /// four settle, the round aggregates, and the job completes.
    function test_F03_oneSlashNeverStrandsTheMinersOtherSlots() public {
        IJobTypes.JobParams memory p = defaultParams();
        p.numRounds = 1;
        p.slotsPerRound = 5;
        uint256 job = postJob(p);
        address miner = makeAddr("capital-efficient miner");
        stakeAs(miner, 100 ether);
        for (uint16 slot; slot < 5; ++slot) {
            ILedgerTypes.Commitment memory c = claimAndSubmit(job, 0, slot, miner, HONEST);
            seed(job, 0, slot);
            if (slot == 2) continue; // its IPFS node was down for slot 2
            revealSampled(job, 0, slot, miner, HONEST, c);
            auditWith(job, 0, slot, pass3()); // drawn at once: a panel is drawn in the first half of its commit window
        }
        vm.assertEq(stakes.stakeOf(miner).locked, 100 ether, "all stake locked");
        vm.roll(block.number + 200);
        ledger.settleSubmission(job, 0, 2); // settled first, while every other slot is still open
        vm.assertEq(uint256(outcome(job, 2)), uint256(ILedgerTypes.Outcome.RejectedWithheld), "the missed slot");
        vm.assertEq(staked(miner), 80 ether, "only that slot's collateral (nothing free to take a share of)");
        vm.assertEq(stakes.stakeOf(miner).locked, 80 ether, "the four other slots keep their collateral");
        for (uint16 slot; slot < 5; ++slot) if (slot != 2) ledger.settleSubmission(job, 0, slot);
        vm.assertEq(stakes.stakeOf(miner).locked, 0, "every other slot settled");
        vm.prank(aggregator);
        ledger.claimSlot(job, 0, 5);
        assertBooksBalance();
    }

    // ------------------------------------------------------------ F-04: steering seats after the seed

    /// @dev The attacker holds K pre-staked, unregistered accounts and registers (or deregisters) them once the seed
    /// block's randomness is public. Draws read the snapshot of the seed block's epoch: its moves change nothing.
    function test_F04_seatsAreFrozenAtTheSeed_registrationsAfterItChangeNothing() public {
        address[] memory sybils = new address[](12);
        for (uint256 i; i < sybils.length; ++i) {
            sybils[i] = makeAddr(string(abi.encodePacked("sybil", bytes1(uint8(65 + i)))));
            stakeAs(sybils[i], 100 ether);
        }
        submitAndReveal(jobId, 0, minerA, CHEAT);
        uint256 snapshot = vm.snapshotState();
        ledger.drawSeats(jobId, 0, 0, AUDIT);
        address[3] memory honestDraw;
        for (uint256 s; s < 3; ++s) honestDraw[s] = holderOf(jobId, 0, 0, AUDIT, s);
        vm.revertToState(snapshot);
        // The attacker now knows the seed: it registers all its sybils and deregisters a validator it controls.
        for (uint256 i; i < sybils.length; ++i) registerAs(sybils[i]);
        vm.prank(validators[0]);
        stakes.deregisterValidator();
        ledger.drawSeats(jobId, 0, 0, AUDIT);
        for (uint256 s; s < 3; ++s) {
            vm.assertEq(holderOf(jobId, 0, 0, AUDIT, s), honestDraw[s], "the same seats as without the attacker's moves");
        }
    }

    /// @dev A drawn seat cannot be taken over by anyone else, whatever the set does meanwhile.
    function test_F04_aSeatCommitsOnlyFromItsDrawnHolder() public {
        submitAndReveal(jobId, 0, minerA, CHEAT);
        ledger.drawSeats(jobId, 0, 0, AUDIT);
        address holder = holderOf(jobId, 0, 0, AUDIT, 0);
        address other = holder == validators[0] ? validators[1] : validators[0];
        bytes32 key = subject(jobId, 0, 0);
        vm.prank(other);
        vm.expectRevert(abi.encodeWithSelector(ILedgerTypes.LedgerNotSeatHolder.selector, key, AUDIT, 0, other, holder));
        ledger.commitVerdict(jobId, 0, 0, AUDIT, 0, keccak256("x"));
        vm.expectRevert(
            abi.encodeWithSelector(ILedgerTypes.LedgerPanelAlreadyDrawn.selector, subject(jobId, 0, 0), AUDIT, 0)
        );
        ledger.drawSeats(jobId, 0, 0, AUDIT);
    }

    // ------------------------------------------------------------ F-05: buying a committee vote with a top-up

    /// @dev A committee member stakes 10,000 CRU after the draw and votes to flip the dispute. One seat, one vote: the
    /// top-up buys nothing, the cheat is rejected, and the briber is slashed as a loser.
    function test_F05_aTopUpBuysNoCommitteeWeight() public {
        submitAndReveal(jobId, 0, minerA, CHEAT);
        auditWith(jobId, 0, 0, fail3());
        ILedgerTypes.Timeline memory t = timeline(jobId, 0, 0);
        recordAt(t.committeeSeedBlock);
        vm.roll(t.committeeSeedBlock + 1);
        ledger.drawSeats(jobId, 0, 0, COMMITTEE);
        address briber = commitSeat(jobId, 0, 0, COMMITTEE, 0, PASS);
        commitSeat(jobId, 0, 0, COMMITTEE, 1, FAIL);
        commitSeat(jobId, 0, 0, COMMITTEE, 2, FAIL);
        stakeAs(briber, 10_000 ether);
        vm.roll(t.disputeCommitEnd + 1);
        for (uint256 s; s < 3; ++s) revealSeat(jobId, 0, 0, COMMITTEE, s, s == 0 ? PASS : FAIL);
        vm.roll(t.disputeRevealEnd + 1);
        ledger.settleSubmission(jobId, 0, 0);
        vm.assertEq(uint256(outcome(jobId, 0)), uint256(ILedgerTypes.Outcome.RejectedCheat), "two seats beat one");
    }

    // ------------------------------------------------------------ F-06: unbonding right after claiming

    function test_F06_unbondingRightAfterClaiming_doesNotShieldTheSlice() public {
        ILedgerTypes.Commitment memory c = claimAndSubmit(jobId, 0, 0, minerA, CHEAT);
        vm.prank(minerA);
        stakes.requestUnbond(480 ether); // everything free
        seed(jobId, 0, 0);
        revealSampled(jobId, 0, 0, minerA, CHEAT, c);
        auditWith(jobId, 0, 0, fail3());
        disputeWith(jobId, 0, 0, fail3());
        vm.prank(minerA);
        vm.expectRevert(); // the unbonding period outlasts the dispute
        stakes.withdraw();
        ledger.settleSubmission(jobId, 0, 0);
        IStakeManager.StakeInfo memory info = stakes.stakeOf(minerA);
        vm.assertEq(uint256(info.staked) + info.unbonding, 500 ether - 20 ether - 48 ether, "slice taken from unbonding");
    }

    // ------------------------------------------------------------ F-07: re-audits drain the escrow

    /// @dev Every aggregate the attacker submits is wrong and rejected, with bountyBps at 100%. The auditors of each
    /// rejected aggregate are paid out of its aggregator's slash, so the correct aggregate still settles.
    function test_F07_rejectedAggregatesNeverFreezeTheEscrow() public {
        IJobTypes.JobParams memory p = defaultParams();
        p.numRounds = 1;
        p.slotsPerRound = 1;
        p.bountyBps = 10_000;
        uint256 job = postJob(p);
        ILedgerTypes.Commitment memory c = claimAndSubmit(job, 0, 0, minerA, HONEST);
        seed(job, 0, 0);
        revealSampled(job, 0, 0, minerA, HONEST, c);
        auditWith(job, 0, 0, pass3());
        settleAfterUnseal(job, 0);
        for (uint16 slot = 1; slot < 4; ++slot) {
            _aggregate(job, slot, minerB, false); // the attacker's wrong aggregates
        }
        _aggregate(job, 4, aggregator, true);
        (, IJobTypes.JobStatus status,) = ledger.jobState(job);
        vm.assertEq(uint256(status), uint256(IJobTypes.JobStatus.Completed), "the job completes");
        assertBooksBalance();
    }

    function _aggregate(uint256 job, uint16 slot, address who, bool correct) internal {
        vm.prank(who);
        ledger.claimSlot(job, 0, slot);
        vm.prank(who);
        ledger.submit(job, 0, slot, "bafy-aggregate", keccak256(abi.encode(correct)), bytes32(0));
        recordAt(timeline(job, 0, slot).seedBlock);
        vm.roll(block.number + 1);
        auditWith(job, 0, slot, correct ? pass3() : fail3());
        if (correct) vm.roll(timeline(job, 0, slot).unsealEnd + 1);
        else disputeWith(job, 0, slot, fail3());
        ledger.settleSubmission(job, 0, slot);
        settleAllSeats(job, 0, slot);
    }

    // ------------------------------------------------------------ F-08: truncated commitments

    function test_F08_all256BitsOfACommitmentAreCompared() public {
        submitAndReveal(jobId, 0, minerA, HONEST);
        ledger.drawSeats(jobId, 0, 0, AUDIT);
        address holder = holderOf(jobId, 0, 0, AUDIT, 0);
        bytes32 real = lens.verdictCommitment(
            subject(jobId, 0, 0), AUDIT, 0, PASS, keccak256("evidence"), salt(AUDIT, 0), holder
        );
        bytes32 collision = real ^ bytes32(uint256(1) << 255); // same low 88 bits
        vm.prank(holder);
        ledger.commitVerdict(jobId, 0, 0, AUDIT, 0, collision);
        vm.roll(timeline(jobId, 0, 0).commitEnd + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                ILedgerTypes.LedgerVerdictMismatch.selector, subject(jobId, 0, 0), AUDIT, 0, collision, real
            )
        );
        revealSeat(jobId, 0, 0, AUDIT, 0, PASS);
    }

    // ------------------------------------------------------------ F-09: the miner on its own panel

    function test_F09_theMinerIsNeverDrawn_andSeatsAreDistinct() public {
        registerAs(minerA);
        activate();
        for (uint256 round; round < 6; ++round) {
            IJobTypes.JobParams memory p = defaultParams();
            p.numRounds = 1;
            p.slotsPerRound = 1;
            uint256 job = postJob(p);
            submitAndReveal(job, 0, minerA, HONEST);
            ledger.drawSeats(job, 0, 0, AUDIT);
            for (uint256 a; a < 3; ++a) {
                vm.assertNotEq(holderOf(job, 0, 0, AUDIT, a), minerA, "never the subject's miner");
                for (uint256 b = a + 1; b < 3; ++b) {
                    vm.assertNotEq(holderOf(job, 0, 0, AUDIT, a), holderOf(job, 0, 0, AUDIT, b), "distinct seats");
                }
            }
        }
    }

    // ------------------------------------------------------------ F-10: unselected work slashed for withholding

    function test_F10_unselectedWorkIsNeverSlashedForWithholding() public {
        IJobTypes.JobParams memory p = defaultParams();
        p.auditBps = 1;
        uint256 job = postJob(p);
        claimAndSubmit(job, 0, 0, minerA, HONEST);
        seed(job, 0, 0);
        vm.roll(block.number + 300); // nobody touches it for 300 blocks: randomness is stored, nothing expires
        ledger.settleSubmission(job, 0, 0);
        vm.assertEq(uint256(outcome(job, 0)), uint256(ILedgerTypes.Outcome.Accepted), "accepted, not withheld");
        p.auditBps = 0;
        vm.expectRevert(abi.encodeWithSelector(IJobRegistry.JobParamOutOfRange.selector, "auditBps", 0, 1, 10_000));
        this.create(p);
    }

    // ------------------------------------------------------------ F-11: several checkpoints for one boundary

    /// @dev The attacker builds a commutative tree holding two leaves for boundary 1 (the honest end of interval 0 and
    /// the backdoored start of interval 1). Proofs are bound to the leaf's index and the tree's depth: it cannot open.
    function test_F11_aRootCommitsExactlyOneCheckpointPerBoundary() public {
        vm.prank(minerA);
        ledger.claimSlot(jobId, 0, 0);
        bytes32[4] memory l = leaves(jobId, 0, 0, minerA, HONEST);
        bytes32 forged = WorkFixtures.leaf(jobId, 0, 0, minerA, 1, keccak256("backdoor"));
        // Five leaves, pairs hashed sorted: the old, commutative construction.
        bytes32 a = _sorted(l[0], l[1]);
        bytes32 b = _sorted(forged, l[2]);
        bytes32 root = _sorted(_sorted(a, b), l[3]);
        vm.prank(minerA);
        ledger.submit(jobId, 0, 0, "bafy-bundle", ckptDigest(HONEST, 3), root);
        recordAt(timeline(jobId, 0, 0).seedBlock, keccak256("any"));
        vm.roll(block.number + 1);
        (ILedgerTypes.Boundary[] memory bs, string[] memory cids) = boundariesFor(jobId, 0, 0, minerA, HONEST);
        vm.prank(minerA);
        vm.expectRevert();
        ledger.revealCheckpoints(jobId, 0, 0, commitmentOf(root, ckptDigest(HONEST, 3)), bs, cids);
    }

    function _sorted(bytes32 x, bytes32 y) internal pure returns (bytes32) {
        return x < y ? keccak256(abi.encode(x, y)) : keccak256(abi.encode(y, x));
    }

    // ------------------------------------------------------------ F-12: audited work with no verdict paid

    function test_F12_auditedWorkNobodyCheckedIsNeverPaid() public {
        // A network whose only validator is the miner itself: no panel can ever be drawn.
        IJobTypes.JobParams memory p = defaultParams();
        p.numRounds = 1;
        p.slotsPerRound = 1;
        uint256 job = postJob(p);
        submitAndReveal(job, 0, minerA, CHEAT);
        for (uint256 i; i < validators.length; ++i) {
            vm.prank(validators[i]);
            stakes.deregisterValidator(); // too late to matter for this epoch; the panel stays silent anyway
        }
        vm.roll(timeline(job, 0, 0).revealEnd + 3 * 42 + 1);
        ledger.settleSubmission(job, 0, 0);
        vm.assertEq(uint256(outcome(job, 0)), uint256(ILedgerTypes.Outcome.Unverified), "unverified");
        vm.assertEq(vault.claimableOf(minerA), 0, "a cheat nobody checked is not paid");
    }

    // ------------------------------------------------------------ F-13: planted aggregate and lost seeds

    function test_F13_aPlantedAggregateUnsealsLongAfterItsSeed() public {
        IJobTypes.JobParams memory p = defaultParams();
        p.numRounds = 1;
        p.slotsPerRound = 1;
        p.windows = IJobTypes.Windows({
            submitWindow: 10,
            seedDelay: 1,
            checkpointRevealWindow: 200,
            commitWindow: 10,
            revealWindow: 10,
            unsealWindow: 60,
            roundClaimWindow: 100
        });
        uint256 job = postJobWithPlants(p, plantRootOf(0, 1, sentinel, PLANT_SALT));
        ILedgerTypes.Commitment memory c = claimAndSubmit(job, 0, 0, minerA, HONEST);
        seed(job, 0, 0);
        revealSampled(job, 0, 0, minerA, HONEST, c);
        auditWith(job, 0, 0, pass3());
        settleAfterUnseal(job, 0);
        vm.prank(sentinel);
        ledger.claimSlot(job, 0, 1);
        vm.prank(sentinel);
        ledger.submit(job, 0, 1, "bafy-aggregate", keccak256("planted aggregate"), bytes32(0));
        recordAt(timeline(job, 0, 1).seedBlock);
        vm.roll(block.number + 1);
        auditWith(job, 0, 1, fail3());
        ILedgerTypes.Timeline memory t = timeline(job, 0, 1);
        vm.roll(t.unsealEnd);
        vm.assertGt(block.number - t.seedBlock, 256, "the seed block's hash is long gone");
        ledger.unsealPlant(job, 0, 1, PLANT_SALT, new bytes32[](0));
        vm.roll(t.unsealEnd + 1);
        ledger.settleSubmission(job, 0, 1);
        vm.assertEq(uint256(outcome(job, 1)), uint256(ILedgerTypes.Outcome.RejectedPlanted), "planted, not slashed");
        vm.assertEq(staked(sentinel), 500 ether, "the sentinel keeps its stake");
    }

    // ------------------------------------------------------------ F-14: the seed block's producer

    /// @dev The seed is the prevrandao recorded in the seed block, not its hash: a producer that grinds the block hash
    /// (simulated with setBlockhash) changes nothing; the only lever left, not recording the block, forces an audit.
    function test_F14_theSeedIsThePrevrandaoOfItsBlock_notItsHash() public {
        claimAndSubmit(jobId, 0, 0, minerA, HONEST);
        ILedgerTypes.Timeline memory t = timeline(jobId, 0, 0);
        uint256 snapshot = vm.snapshotState();
        recordAt(t.seedBlock, keccak256("beacon"));
        vm.roll(block.number + 1);
        ledger.recordSeed(jobId, 0, 0);
        bytes32 seedA = view_(jobId, 0, 0).auditSeed;
        vm.revertToState(snapshot);
        recordAt(t.seedBlock, keccak256("beacon"));
        vm.setBlockhash(t.seedBlock, keccak256("ground hash"));
        vm.roll(block.number + 1);
        ledger.recordSeed(jobId, 0, 0);
        vm.assertEq(view_(jobId, 0, 0).auditSeed, seedA, "grinding the block hash moves nothing");
    }

    // ------------------------------------------------------------ F-15: recognisable sentinels, silent seats

    function test_F15_drawnSeatsThatStaySilentArePenalised() public {
        submitAndReveal(jobId, 0, minerA, HONEST);
        ledger.drawSeats(jobId, 0, 0, AUDIT);
        address silent = holderOf(jobId, 0, 0, AUDIT, 2);
        commitSeat(jobId, 0, 0, AUDIT, 0, PASS);
        commitSeat(jobId, 0, 0, AUDIT, 1, PASS);
        vm.roll(timeline(jobId, 0, 0).commitEnd + 1);
        revealSeat(jobId, 0, 0, AUDIT, 0, PASS);
        revealSeat(jobId, 0, 0, AUDIT, 1, PASS);
        settleAfterUnseal(jobId, 0);
        ledger.settleSeat(jobId, 0, 0, AUDIT, 2);
        vm.assertEq(staked(silent), 290 ether, "a drawn seat that never commits is slashed");
    }

    // ------------------------------------------------------------ found in CI: a draw timed at the last block

    /// @dev The attacker (or just a slow keeper) draws the panel in the last block of the commit window: the honest
    /// holders cannot commit in time and silence is slashed. Refused: a panel is drawn no later than half the commit
    /// window before its end; the undrawn attempt fails without a verdict and the next attempt re-draws with time.
    function test_aDrawTimedAtTheEndOfTheCommitWindow_isRefused_andTheReDrawLeavesTimeToCommit() public {
        submitAndReveal(jobId, 0, minerA, HONEST);
        ILedgerTypes.Timeline memory t = timeline(jobId, 0, 0);
        uint256 drawEnd = t.commitEnd - defaultParams().windows.commitWindow / 2;
        vm.roll(drawEnd + 1);
        vm.expectRevert(
            abi.encodeWithSelector(ILedgerTypes.LedgerDeadlinePassed.selector, subject(jobId, 0, 0), drawEnd, drawEnd + 1)
        );
        ledger.drawSeats(jobId, 0, 0, AUDIT);
        // Attempt 1 opens after the first panel's reveal window; its seed block is fixed in advance.
        vm.roll(t.revealEnd + 1);
        ILedgerTypes.Timeline memory retry = timeline(jobId, 0, 0);
        vm.assertGt(retry.panelSeedBlock, t.revealEnd, "the re-draw's seed lies after the failed attempt");
        recordAt(retry.panelSeedBlock);
        vm.roll(retry.panelSeedBlock + 1);
        ledger.drawSeats(jobId, 0, 0, AUDIT);
        ILedgerTypes.Seat memory seat = ledger.seatOf(subject(jobId, 0, 0), AUDIT, 3); // attempt 1's first seat
        vm.assertEq(uint256(seat.attempt), 1, "a second attempt");
        vm.assertGe(seat.commitEnd - block.number, defaultParams().windows.commitWindow / 2, "time left to commit");
        auditAndSettleAttempt1(seat.commitEnd);
        vm.assertEq(uint256(outcome(jobId, 0)), uint256(ILedgerTypes.Outcome.Accepted), "honest work judged and paid");
    }

    /// @dev Whenever a draw lands, every drawn seat has at least half the commit window left.
    function testFuzz_everyDrawnSeatHasHalfTheCommitWindow(uint256 lateness) public {
        submitAndReveal(jobId, 0, minerA, HONEST);
        ILedgerTypes.Timeline memory t = timeline(jobId, 0, 0);
        uint256 window = defaultParams().windows.commitWindow;
        vm.roll(bound(lateness, block.number, t.commitEnd));
        if (block.number > t.commitEnd - window / 2) {
            vm.expectRevert();
            ledger.drawSeats(jobId, 0, 0, AUDIT);
            return;
        }
        ledger.drawSeats(jobId, 0, 0, AUDIT);
        for (uint8 i; i < 3; ++i) {
            vm.assertGe(ledger.seatOf(subject(jobId, 0, 0), AUDIT, i).commitEnd - block.number, window / 2, "time to commit");
        }
    }

    function auditAndSettleAttempt1(uint256 commitEnd) internal {
        for (uint256 seat = 3; seat < 6; ++seat) {
            commitSeat(jobId, 0, 0, AUDIT, seat, PASS);
        }
        vm.roll(commitEnd + 1);
        for (uint256 seat = 3; seat < 6; ++seat) {
            revealSeat(jobId, 0, 0, AUDIT, seat, PASS);
        }
        settleAfterUnseal(jobId, 0);
    }

    // ------------------------------------------------------------ F-16: parameter gaps, silent clamps

    function test_F16_parameterGapsAreClosed() public {
        IJobTypes.JobParams memory p = defaultParams();
        p.windows.unsealWindow = 0;
        vm.expectRevert(abi.encodeWithSelector(IJobRegistry.JobParamOutOfRange.selector, "unsealWindow", 0, 1, type(uint32).max));
        this.create(p);
        p = defaultParams();
        p.windows.roundClaimWindow = 10;
        vm.expectRevert(
            abi.encodeWithSelector(IJobRegistry.JobParamOutOfRange.selector, "roundClaimWindow", 10, 50, type(uint32).max)
        );
        this.create(p);
        p = defaultParams();
        p.minerCollateral = 3 ether; // cannot pay a three-seat panel
        vm.expectRevert(
            abi.encodeWithSelector(IJobRegistry.JobParamOutOfRange.selector, "minerCollateral", 3 ether, 3 ether + 1, type(uint96).max)
        );
        this.create(p);
        p = defaultParams();
        p.slotsPerRound = 2_000;
        vm.expectRevert(abi.encodeWithSelector(IJobRegistry.JobParamOutOfRange.selector, "slotsPerRound", 2_000, 1, 1_024));
        this.create(p);
        p = defaultParams();
        p.windows.commitWindow = 200; // the resolution would outlast an epoch
        vm.expectRevert();
        this.create(p);
    }
}
