// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {CrucibleTest} from "../utils/CrucibleTest.sol";
import {ProtocolHandler} from "./ProtocolHandler.sol";
import {IJobTypes} from "../../src/interfaces/IJobTypes.sol";
import {ILedgerTypes} from "../../src/interfaces/ILedgerTypes.sol";
import {IStakeManager} from "../../src/interfaces/IStakeManager.sol";

/// @notice The money and safety invariants of the protocol against a rich, fast, well-informed attacker
/// (ProtocolHandler's cast): whatever sequence of honest duties and attacker moves the fuzzer plays, the books
/// balance to the wei, every actor's balance is explained by its own events, collateral is isolated per slot, an
/// honest party loses stake only where attackers captured the deciding panel, a rejected cheat always loses its
/// collateral and its slice, nothing is paid twice, a panel drawn after a public seed is the panel of the snapshot,
/// and, after the run, every job reaches a terminal state with diligent keepers.
contract Protocol_Invariants is CrucibleTest {
    ProtocolHandler internal handler;

    /// @dev ds-test's log events: forge prints them with -vv (the attack report of a run).
    event log_string(string);
    event log_named_uint(string key, uint256 val);

    /// @dev The end-of-run drive: at most this many steps of this many blocks (a job's longest life, two rounds with
    /// re-aggregations, is well inside).
    uint256 internal constant FINISH_STEPS = 200;
    uint256 internal constant FINISH_BLOCKS = 12;

    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    function setUp() public override {
        super.setUp();
        handler = new ProtocolHandler(token, stakes, vault, ledger, registry, lens);
        handler.bootstrap();
        activate(); // the validators' weights count two epochs after they registered
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory out) {
        bytes4[] memory s = new bytes4[](19);
        s[0] = handler.createJob.selector;
        s[1] = handler.claimAndSubmit.selector;
        s[2] = handler.claimAndVanish.selector;
        s[3] = handler.aggregate.selector;
        s[4] = handler.roll.selector;
        s[5] = handler.skipRandomness.selector;
        s[6] = handler.setPolicy.selector;
        s[7] = handler.sybilMove.selector;
        s[8] = handler.stakeMore.selector;
        s[9] = handler.unbond.selector;
        s[10] = handler.withdraw.selector;
        s[11] = handler.claim.selector;
        s[12] = handler.refundEscrow.selector;
        s[13] = handler.settleSubmission.selector;
        s[14] = handler.settleSeat.selector;
        s[15] = handler.vacateSlot.selector;
        s[16] = handler.lateDraw.selector;
        s[17] = handler.selfSeal.selector;
        s[18] = handler.spawnSybil.selector;
        out = new FuzzSelector[](1);
        out[0] = FuzzSelector(address(handler), s);
    }

    // ================================================================ invariants

    /// @notice Every property below, after every handler call. One campaign checks them all (forge runs one campaign
    /// per invariant function, so ten functions would cost ten times the calls for the same depth).
    function invariant_protocolIsSound() public view {
        _assertAllInvariants();
    }

    /// @notice Tokens held == stakes + unbonding (stake manager) and escrows + pooled + unclaimed (vault), to the wei.
    function _tokenBalanceEqualsLiabilities() internal view {
        (uint256 staked, uint256 unbonding) = stakes.totals();
        (uint256 escrow, uint256 pooled) = vault.totals();
        vm.assertEq(token.balanceOf(address(stakes)), staked + unbonding, "stake manager: tokens == stakes + unbonding");
        vm.assertEq(token.balanceOf(address(vault)), escrow + pooled + _sumClaimable(), "vault: tokens == liabilities");
        vm.assertEq(token.balanceOf(address(ledger)), 0, "the ledger holds no tokens");
        vm.assertEq(token.balanceOf(address(registry)), 0, "the registry holds no tokens");
    }

    /// @notice Every running total equals the sum of the records it totals.
    function _totalsMatchRecords() internal view {
        uint256 stakedSum;
        uint256 unbondingSum;
        for (uint256 i; i < handler.accountCount(); ++i) {
            IStakeManager.StakeInfo memory info = stakes.stakeOf(handler.accounts(i));
            stakedSum += info.staked;
            unbondingSum += info.unbonding;
        }
        (uint256 staked, uint256 unbonding) = stakes.totals();
        vm.assertEq(staked, stakedSum, "total staked == sum of stakes");
        vm.assertEq(unbonding, unbondingSum, "total unbonding == sum of unbonding");
        uint256 escrowSum;
        for (uint256 j; j < handler.jobCount(); ++j) {
            escrowSum += vault.escrowOf(handler.jobIdAt(j));
        }
        uint256 poolSum;
        for (uint256 i; i < handler.subjectCount(); ++i) {
            (uint256 jobId, uint16 round, uint16 slot,) = handler.subjectAt(i);
            poolSum += lens.subjectOf(jobId, round, slot).poolBalance;
        }
        (uint256 escrow, uint256 pooled) = vault.totals();
        vm.assertEq(escrow, escrowSum, "total escrow == sum of job escrows");
        vm.assertEq(pooled, poolSum, "pooled == sum of the subjects' pools");
    }

    /// @notice Per actor: deposited + earned - slashed - withdrawn - claimed == held (staked + unbonding + claimable),
    /// every term read from the protocol's events; its wallet holds exactly what it minted and took back out; the
    /// supply is what was minted less what was burned.
    function _perActorConservation() internal view {
        for (uint256 i; i < handler.accountCount(); ++i) {
            address a = handler.accounts(i);
            uint256 inflow = handler.ghostDeposited(a) + handler.ghostEarned(a);
            uint256 outflow = handler.ghostSlashed(a) + handler.ghostWithdrawn(a) + handler.ghostClaimed(a);
            vm.assertGe(inflow, outflow, "an actor got out more than it put in and earned");
            IStakeManager.StakeInfo memory info = stakes.stakeOf(a);
            vm.assertEq(
                inflow - outflow, uint256(info.staked) + info.unbonding + vault.claimableOf(a), "per-actor conservation"
            );
            vm.assertEq(
                token.balanceOf(a) + handler.ghostDeposited(a) + handler.ghostEscrowFunded(a),
                handler.ghostMinted(a) + handler.ghostWithdrawn(a) + handler.ghostClaimed(a),
                "wallet == minted - deposited - escrowed + withdrawn + claimed"
            );
        }
        vm.assertEq(
            token.totalSupply() + handler.ghostBurned(), handler.ghostTotalMinted(), "supply == minted - burned"
        );
    }

    /// @notice Every account's locked stake is exactly the collateral of its open slots, and never more than its stake.
    function _collateralIsolatedPerSlot() internal view {
        for (uint256 i; i < handler.accountCount(); ++i) {
            address a = handler.accounts(i);
            uint256 open;
            for (uint256 s; s < handler.subjectCount(); ++s) {
                (uint256 jobId, uint16 round, uint16 slot, address miner) = handler.subjectAt(s);
                if (miner != a) continue;
                ILedgerTypes.SlotStatus status = lens.subjectOf(jobId, round, slot).status;
                if (
                    status == ILedgerTypes.SlotStatus.Claimed || status == ILedgerTypes.SlotStatus.Submitted
                        || status == ILedgerTypes.SlotStatus.CheckpointsRevealed
                ) open += ledger.jobParams(jobId).minerCollateral;
            }
            IStakeManager.StakeInfo memory info = stakes.stakeOf(a);
            vm.assertEq(info.locked, open, "locked == the collateral of the account's open slots");
            vm.assertLe(info.locked, info.staked, "locked <= staked");
        }
    }

    /// @notice An honest miner's and an honest validator's stake never decreases, except on a subject that ended
    /// against the truth with attackers holding at least half of the deciding panel; and an audited subject ends
    /// against the truth in no other way.
    function _honestStakeNeverDecreases() internal view {
        vm.assertEq(handler.ghostHonestLossOutsideCapture(), 0, "an honest account lost stake outside a capture");
        vm.assertEq(
            handler.ghostWrongWithoutCapture(), 0, "an audited subject ended against the truth, honest majority"
        );
    }

    /// @notice A slashing outcome (RejectedCheat, RejectedWithheld, PlantRefuted) takes exactly the slot's collateral
    /// plus minerSlashBps of free + unbonding stake as it was when settled; any other outcome takes nothing and
    /// releases exactly the slot's collateral.
    function _rejectedCheatLosesCollateralAndSlice() internal view {
        vm.assertEq(handler.ghostSliceMismatches(), 0, "a settled miner lost other than collateral + slice");
    }

    /// @notice A submission settles once, a seat settles once, and no subject pays more winners than it has.
    function _nothingPaidTwice() internal view {
        vm.assertEq(handler.ghostDoubleSettlements(), 0, "settled twice");
        for (uint256 i; i < handler.subjectCount(); ++i) {
            (uint256 jobId, uint16 round, uint16 slot,) = handler.subjectAt(i);
            ILedgerTypes.SubjectView memory v = lens.subjectOf(jobId, round, slot);
            vm.assertLe(v.winnersPaid, v.winners, "more winners paid than there are");
        }
    }

    /// @notice Moves made once a panel's randomness is public never change the panel, except by seating or unseating
    /// the mover itself through its own eligibility (see the report on the live at-risk filter).
    function _drawsAreFrozenAtTheSeed() internal view {
        vm.assertEq(handler.ghostSteeredDraws(), 0, "a post-seed move steered a draw");
    }

    /// @notice A panel is never drawn after its draw deadline (half the commit window before its end), and no
    /// submission is ever unsealed as a plant except by the sentinel the sponsor sealed for that very slot.
    function _lateDrawsAndForeignSealsRefused() internal view {
        vm.assertEq(handler.ghostLateDrawsAccepted(), 0, "a panel was drawn after its draw deadline");
        vm.assertEq(handler.ghostForeignUnseals(), 0, "a submission that is no plant was unsealed as one");
    }

    /// @notice Budgets never run short: no settlement asks a job's escrow for more than it holds, and no slot settles
    /// with less collateral locked than it claimed.
    function _budgetsNeverRunShort() internal view {
        vm.assertEq(handler.ghostEscrowShortfalls(), 0, "an escrow ran short");
        vm.assertEq(handler.ghostCollateralShortfalls(), 0, "a slot's collateral was missing");
    }

    /// @notice After every run: diligent keepers drive time forward for a bounded number of steps, and every job
    /// reaches Completed or Abandoned, every subject is settled or vacated, every seat settled, and the books still
    /// balance; once the sponsor takes back every escrow and everyone claims, nothing is left in escrow or pooled.
    function afterInvariant() public {
        vm.assertTrue(handler.finish(FINISH_STEPS, FINISH_BLOCKS), "every job ends within the bounded drive");
        _assertEverythingEnded();
        _assertAllInvariants();
        handler.closeBooks();
        (uint256 escrow, uint256 pooled) = vault.totals();
        vm.assertEq(escrow, 0, "every escrow returned");
        vm.assertEq(pooled, 0, "nothing left pooled");
        _assertAllInvariants();
    }

    // ================================================================ the handler reaches deep states

    /// @notice A cheat is audited, disputed, rejected and slashed, and its seats settled, through the handler's own
    /// entry points. (Every attacker validator accuses here, so no draw can let the cheat through: the scenario does
    /// not depend on who is drawn.)
    function test_handlerDrivesAFullDispute() public {
        _everyAttacker(POLICY_ALWAYS_FAIL);
        handler.createJob(1 << 16); // one round, two slots, always audited, no plants
        handler.claimAndSubmit(0, 0, 2, false); // the cheater, revealing its (wrong) checkpoints
        for (uint256 i; i < 8; ++i) {
            handler.roll(11);
        }
        handler.settleSubmission(0);
        vm.assertEq(handler.ghostOutcomes(ILedgerTypes.Outcome.RejectedCheat), 1, "the cheat was rejected");
        vm.assertGe(handler.ghostCommittees(), 1, "by a committee");
        vm.assertGt(handler.ghostSlashed(handler.cheater()), 0, "and slashed");
        _assertAllInvariants();
        vm.assertTrue(handler.finish(FINISH_STEPS, FINISH_BLOCKS), "the job ends");
        _assertEverythingEnded();
        _assertAllInvariants();
    }

    /// @notice An attacking sponsor's sentinel plants correct work; the honest validators pass it; the plant is
    /// refuted, the sentinel slashed, and no honest validator loses. (Attackers pass everything here.)
    function test_handlerReachesARefutedPlant() public {
        _everyAttacker(POLICY_LAZY_PASS);
        handler.createJob((1 << 16) | (2 << 24)); // a rogue plant at round 0, slot 0
        handler.claimAndSubmit(0, 0, 6, false);
        for (uint256 i; i < 8; ++i) {
            handler.roll(11);
        }
        handler.settleSubmission(0);
        vm.assertEq(handler.ghostOutcomes(ILedgerTypes.Outcome.PlantRefuted), 1, "refuted");
        vm.assertGt(handler.ghostSlashed(handler.rogueSentinel()), 0, "the sentinel is slashed");
        vm.assertTrue(handler.finish(FINISH_STEPS, FINISH_BLOCKS), "the job ends");
        for (uint256 i; i < 4; ++i) {
            vm.assertEq(handler.ghostSlashed(handler.honestValidators(i)), 0, "no honest validator lost anything");
        }
        _assertAllInvariants();
    }

    /// @notice The sponsor's own sentinel plants wrong work; it is confirmed and the sentinel keeps its stake.
    /// (Attackers fail everything here; a lazy seat caught by a plant is WorkLedger_Plants' story.)
    function test_handlerReachesAConfirmedPlant() public {
        _everyAttacker(POLICY_ALWAYS_FAIL);
        handler.createJob((1 << 16) | (1 << 24)); // the sponsor's plant at round 0, slot 0
        handler.claimAndSubmit(0, 0, 5, false);
        for (uint256 i; i < 8; ++i) {
            handler.roll(11);
        }
        handler.settleSubmission(0);
        vm.assertEq(handler.ghostOutcomes(ILedgerTypes.Outcome.RejectedPlanted), 1, "confirmed");
        vm.assertEq(handler.ghostSlashed(handler.honestSentinel()), 0, "the sentinel keeps its stake");
        vm.assertTrue(handler.finish(FINISH_STEPS, FINISH_BLOCKS), "the job ends");
        _assertAllInvariants();
    }

    /// @notice With the keeper offline, seed tries are retried (each forcing an audit); with only silent validators
    /// left, a silent panel is re-drawn from its own seed block and the work ends Unverified, never paid.
    function test_handlerReachesRetriesAndRedraws() public {
        for (uint256 i; i < 4; ++i) {
            vm.prank(handler.honestValidators(i));
            stakes.deregisterValidator();
        }
        _everyAttacker(POLICY_SILENT);
        activate();
        handler.createJob(1 << 16);
        handler.claimAndSubmit(0, 0, 0, false); // an honest miner
        handler.skipRandomness(3); // the first seed try passes unrecorded
        for (uint256 i; i < 12; ++i) {
            handler.roll(11);
        }
        handler.settleSubmission(0);
        vm.assertGe(handler.ghostSeedRetries(), 1, "a seed retry");
        vm.assertGe(handler.ghostRedraws(), 1, "a re-drawn panel");
        vm.assertEq(handler.ghostOutcomes(ILedgerTypes.Outcome.Unverified), 1, "unverified");
        _assertAllInvariants();
    }

    /// @notice A stalled keeper leaves a re-drawn panel undrawn past its draw deadline and the attacker draws it
    /// then: the ledger refuses (LedgerDeadlinePassed with the deadline), the attempt ends without a verdict, and the
    /// honest miner ends Unverified, never slashed. (Only silent validators are left, so the first panel is empty of
    /// verdicts and attempt 1 is pending with its seed block ahead.)
    function test_handlerRefusesALateDraw() public {
        for (uint256 i; i < 4; ++i) {
            vm.prank(handler.honestValidators(i));
            stakes.deregisterValidator();
        }
        _everyAttacker(POLICY_SILENT);
        activate();
        handler.createJob(1 << 16);
        handler.claimAndSubmit(0, 0, 0, false); // an honest miner, at block S
        handler.roll(19); // S + 20: the first panel's reveals end, nobody revealed
        handler.roll(0); // S + 21: attempt 1 is pending, its seed block (S + 22) ahead
        handler.lateDraw(0, 0);
        vm.assertEq(handler.ghostLateDrawsRefused(), 1, "the late draw was refused");
        vm.assertEq(view0().auditDrawn, 1, "attempt 1 was never drawn");
        vm.assertTrue(handler.finish(FINISH_STEPS, FINISH_BLOCKS), "the job ends");
        vm.assertEq(uint256(view0().outcome), uint256(ILedgerTypes.Outcome.Unverified), "unverified");
        vm.assertEq(handler.ghostSlashed(handler.honestMiners(0)), 0, "the honest miner lost nothing");
        _assertAllInvariants();
    }

    /// @notice A cheating miner whose wrong work is being audited tries to unseal it as a plant in the unseal
    /// window (F-01), with its own salt and with the sponsor's real plant salts: every try is refused
    /// (LedgerPlantMismatch), the cheat is rejected and slashed.
    function test_handlerRefusesASelfSeal() public {
        _everyAttacker(POLICY_ALWAYS_FAIL); // every seat fails the cheat, whoever is drawn
        // One round of three slots, always audited, the sponsor's plant at slot 1 and a rogue plant at slot 2.
        // (createJob reads hSlot from seed >> 40 and rSlot from seed >> 56, each modulo the slots.)
        handler.createJob((1 << 8) | (1 << 16) | (3 << 24) | (2 << 40) | (2 << 56));
        handler.claimAndSubmit(0, 0, 2, false); // the cheater, at slot 0
        handler.roll(3); // the seed is recorded
        handler.selfSeal(0, 7);
        vm.assertEq(handler.ghostSelfSealsRefused(), 3, "three unseals tried in the window, all refused");
        vm.assertTrue(handler.finish(FINISH_STEPS, FINISH_BLOCKS), "the job ends");
        vm.assertEq(uint256(view0().outcome), uint256(ILedgerTypes.Outcome.RejectedCheat), "the cheat is rejected");
        vm.assertGt(handler.ghostSlashed(handler.cheater()), 0, "and slashed");
        _assertAllInvariants();
    }

    function view0() internal view returns (ILedgerTypes.SubjectView memory) {
        (uint256 jobId, uint16 round, uint16 slot,) = handler.subjectAt(0);
        return lens.subjectOf(jobId, round, slot);
    }

    /// @notice A wrong aggregate is rejected and the round gets a fresh slot; a job nobody works on is abandoned.
    function test_handlerReachesReaggregationAndAbandonment() public {
        handler.createJob(1 << 16); // job 0
        handler.createJob(1 << 16); // job 1: nobody will work on it
        handler.claimAndSubmit(0, 0, 0, false);
        handler.claimAndSubmit(0, 1, 1, false);
        for (uint256 i; i < 6; ++i) {
            handler.roll(11);
        }
        handler.settleSubmission(0);
        handler.settleSubmission(1);
        handler.aggregate(0, true); // the re-aggregator
        for (uint256 i; i < 8; ++i) {
            handler.roll(11);
        }
        handler.settleSubmission(2);
        vm.assertEq(ledger.roundOf(handler.jobIdAt(0), 0).failedAggregates, 1, "the wrong aggregate was rejected");
        handler.aggregate(0, false);
        for (uint256 i; i < 8; ++i) {
            handler.roll(11);
        }
        handler.settleSubmission(3);
        (, IJobTypes.JobStatus status,) = ledger.jobState(handler.jobIdAt(0));
        vm.assertEq(uint256(status), uint256(IJobTypes.JobStatus.Completed), "completed with the correct aggregate");
        handler.vacateSlot(1, 0);
        handler.vacateSlot(1, 1);
        handler.roll(23);
        handler.vacateSlot(1, 2);
        (, status,) = ledger.jobState(handler.jobIdAt(1));
        vm.assertEq(uint256(status), uint256(IJobTypes.JobStatus.Abandoned), "abandoned");
        vm.assertEq(handler.ghostAbandonedJobs(), 1, "counted");
        _assertAllInvariants();
    }

    /// @notice A long pseudo-random sequence of handler calls (fixed seed, so deterministic) reaches acceptance,
    /// rejection, plants, missed randomness, committees and post-seed attacker moves, and every job still ends.
    function test_randomCallsReachEveryDeepState() public {
        uint256 rng = uint256(keccak256("deep states"));
        for (uint256 i; i < 4; ++i) {
            handler.createJob(uint256(keccak256(abi.encode(rng, "job", i))));
        }
        for (uint256 i; i < 400; ++i) {
            rng = uint256(keccak256(abi.encode(rng)));
            _randomCall(rng);
        }
        vm.assertTrue(handler.finish(FINISH_STEPS, FINISH_BLOCKS), "every job ends");
        _assertEverythingEnded();
        _assertAllInvariants();
        string memory reached = string.concat(
            "reached: accepted ",
            vm.toString(handler.ghostOutcomes(ILedgerTypes.Outcome.Accepted)),
            ", cheat ",
            vm.toString(handler.ghostOutcomes(ILedgerTypes.Outcome.RejectedCheat)),
            ", withheld ",
            vm.toString(handler.ghostOutcomes(ILedgerTypes.Outcome.RejectedWithheld)),
            ", planted ",
            vm.toString(handler.ghostOutcomes(ILedgerTypes.Outcome.RejectedPlanted)),
            ", refuted ",
            vm.toString(handler.ghostOutcomes(ILedgerTypes.Outcome.PlantRefuted)),
            ", unverified ",
            vm.toString(handler.ghostOutcomes(ILedgerTypes.Outcome.Unverified)),
            ", committees ",
            vm.toString(handler.ghostCommittees()),
            ", redraws ",
            vm.toString(handler.ghostRedraws()),
            ", retries ",
            vm.toString(handler.ghostSeedRetries()),
            ", post-seed moves ",
            vm.toString(handler.ghostPostSeedMoves())
        );
        // Which families a sequence reaches depends on the attacker's choices (a keeper that skips every retry turns
        // forced audits into Unverified); every family must show up.
        uint256 plants = handler.ghostOutcomes(ILedgerTypes.Outcome.RejectedPlanted)
            + handler.ghostOutcomes(ILedgerTypes.Outcome.PlantRefuted);
        uint256 missedRandomness = handler.ghostOutcomes(ILedgerTypes.Outcome.Unverified) + handler.ghostSeedRetries();
        vm.assertTrue(
            handler.ghostOutcomes(ILedgerTypes.Outcome.Accepted) != 0
                && handler.ghostOutcomes(ILedgerTypes.Outcome.RejectedCheat) != 0 && plants != 0
                && missedRandomness != 0 && handler.ghostCommittees() != 0 && handler.ghostPostSeedMoves() != 0,
            reached
        );
        emit log_string(reached);
        vm.assertGt(handler.sybilCount(), 3, "the rich attacker split its stake over more accounts");
        vm.assertGt(handler.jobCount(), 4, "new jobs were posted as old ones ended");
        // How often a late draw or a self-seal finds its moment depends on the sequence: the scripted tests above
        // play each one for sure; here they are reported with what every attack cost.
        _reportAttackCosts();
    }

    /// @notice What each attack cost its player in this run, from the ghost books (every figure read from the
    /// protocol's events): stake slashed, rewards earned, and how often the moves the ledger refuses were refused.
    function _reportAttackCosts() internal {
        _reportActor("cheating miner (wrong work, withholds sometimes)", handler.cheater());
        _reportActor("unbonding miner (unbonds all free stake right after claiming)", handler.unbonder());
        _reportActor("miner-validator (wrong work, lazy seats)", handler.minerValidator());
        _reportActor("rogue sentinel (plants correct work)", handler.rogueSentinel());
        _reportActor("re-aggregator (wrong aggregates)", handler.reaggregator());
        _reportActor("lazy validator", handler.attackers(1));
        _reportActor("false accuser", handler.attackers(2));
        _reportActor("silent validator", handler.attackers(3));
        uint256 slashed;
        uint256 earned;
        for (uint256 i; i < handler.sybilCount(); ++i) {
            slashed += handler.ghostSlashed(handler.sybils(i));
            earned += handler.ghostEarned(handler.sybils(i));
        }
        emit log_named_uint("sybil accounts of the rich attacker", handler.sybilCount());
        emit log_named_uint("  sybils: slashed (wei)", slashed);
        emit log_named_uint("  sybils: earned (wei)", earned);
        emit log_named_uint("post-seed register/deregister/top-up/unbond/withdraw moves", handler.ghostPostSeedMoves());
        emit log_named_uint("  of which changed the mover's own eligibility", handler.ghostEligibilityFlips());
        emit log_named_uint("  steered a draw beyond the mover's own seat", handler.ghostSteeredDraws());
        emit log_named_uint("late draws refused (LedgerDeadlinePassed)", handler.ghostLateDrawsRefused());
        emit log_named_uint(
            "self-seal / foreign unseal attempts refused (LedgerPlantMismatch)", handler.ghostSelfSealsRefused()
        );
        emit log_named_uint("subjects ended against the truth by a captured panel", handler.ghostCaptured());
        emit log_named_uint("honest losses on captured subjects", handler.ghostHonestCapturedLosses());
        uint256 honestSlashed;
        for (uint256 i; i < handler.accountCount(); ++i) {
            address a = handler.accounts(i);
            if (handler.isHonest(a)) honestSlashed += handler.ghostSlashed(a);
        }
        emit log_named_uint("honest parties: slashed in all (wei)", honestSlashed);
    }

    function _reportActor(string memory role, address a) internal {
        emit log_named_uint(string.concat(role, ": slashed (wei)"), handler.ghostSlashed(a));
        emit log_named_uint(string.concat(role, ": earned (wei)"), handler.ghostEarned(a));
    }

    function _randomCall(uint256 r) internal {
        uint256 a = r >> 8;
        uint256 b = r >> 72;
        uint256 c = r >> 136;
        uint256 pick = r % 24;
        if (pick < 5) handler.claimAndSubmit(a, b, c, (r >> 200) % 3 == 0);
        else if (pick < 9) handler.roll(a);
        else if (pick == 9) handler.skipRandomness(a);
        else if (pick == 10) handler.aggregate(a, (r >> 200) % 2 == 0);
        else if (pick == 11) handler.sybilMove(a, b, c, r >> 200);
        else if (pick == 12) handler.setPolicy(a, b);
        else if (pick == 13) handler.claimAndVanish(a, b, c);
        else if (pick == 14) handler.settleSubmission(a);
        else if (pick == 15) handler.settleSeat(a, (r >> 200) % 2 == 0, b);
        else if (pick == 16) handler.vacateSlot(a, b);
        else if (pick == 17) handler.unbond(a, b);
        else if (pick == 18) handler.stakeMore(a, b);
        else if (pick == 19) handler.claim(a);
        else if (pick == 20) handler.lateDraw(a, b);
        else if (pick == 21) handler.selfSeal(a, b);
        else if (pick == 22) handler.spawnSybil(a, (r >> 200) % 2 == 0);
        else handler.createJob(a);
    }

    // ================================================================ helpers

    // setPolicy(who, p) sets Policy(1 + p % 5): LazyPass, AlwaysFail, Invert, Silent, CommitOnly.
    uint256 internal constant POLICY_LAZY_PASS = 0;
    uint256 internal constant POLICY_ALWAYS_FAIL = 1;
    uint256 internal constant POLICY_SILENT = 3;

    function _everyAttacker(uint256 policy) internal {
        for (uint256 i; i < 7; ++i) {
            handler.setPolicy(i, policy);
        }
    }

    function _sumClaimable() internal view returns (uint256 sum) {
        for (uint256 i; i < handler.accountCount(); ++i) {
            sum += vault.claimableOf(handler.accounts(i));
        }
    }

    function _assertEverythingEnded() internal view {
        for (uint256 j; j < handler.jobCount(); ++j) {
            (, IJobTypes.JobStatus status,) = ledger.jobState(handler.jobIdAt(j));
            vm.assertTrue(
                status == IJobTypes.JobStatus.Completed || status == IJobTypes.JobStatus.Abandoned, "a job did not end"
            );
        }
        for (uint256 i; i < handler.subjectCount(); ++i) {
            vm.assertTrue(handler.subjectDone(i), "a subject or one of its seats was never settled");
        }
    }

    function _assertAllInvariants() internal view {
        _tokenBalanceEqualsLiabilities();
        _totalsMatchRecords();
        _perActorConservation();
        _collateralIsolatedPerSlot();
        _honestStakeNeverDecreases();
        _rejectedCheatLosesCollateralAndSlice();
        _nothingPaidTwice();
        _drawsAreFrozenAtTheSeed();
        _budgetsNeverRunShort();
        _lateDrawsAndForeignSealsRefused();
    }
}
