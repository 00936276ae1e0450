// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Vm} from "./Vm.sol";
import {CrucibleToken} from "../../src/CrucibleToken.sol";
import {StakeManager} from "../../src/StakeManager.sol";
import {RewardVault} from "../../src/RewardVault.sol";
import {WorkLedger} from "../../src/WorkLedger.sol";
import {LedgerSettlement} from "../../src/LedgerSettlement.sol";
import {JobRegistry} from "../../src/JobRegistry.sol";
import {LedgerLens} from "../../src/LedgerLens.sol";
import {IJobTypes} from "../../src/interfaces/IJobTypes.sol";
import {ILedgerTypes} from "../../src/interfaces/ILedgerTypes.sol";
import {IWorkLedger} from "../../src/interfaces/IWorkLedger.sol";
import {Commitments} from "../../src/libraries/Commitments.sol";
import {WorkFixtures} from "./WorkFixtures.sol";

/// @notice Deploys the whole protocol and gives tests the vocabulary of the protocol's story: fund, stake, register,
/// post a job (with planted errors), record randomness, do work, draw panels, audit, dispute, settle, and check that
/// the books balance.
abstract contract CrucibleTest {
    bool public IS_TEST = true;
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    uint256 internal constant MIN_MINER_STAKE = 100 ether;
    uint256 internal constant MIN_VALIDATOR_STAKE = 100 ether;
    uint64 internal constant UNBONDING_BLOCKS = 2_000;
    uint64 internal constant EPOCH_BLOCKS = 400;
    uint256 internal constant N_VALIDATORS = 5;

    ILedgerTypes.Panel internal constant AUDIT = ILedgerTypes.Panel.Audit;
    ILedgerTypes.Panel internal constant COMMITTEE = ILedgerTypes.Panel.Committee;
    ILedgerTypes.Verdict internal constant PASS = ILedgerTypes.Verdict.Pass;
    ILedgerTypes.Verdict internal constant FAIL = ILedgerTypes.Verdict.Fail;
    ILedgerTypes.Verdict internal constant NONE = ILedgerTypes.Verdict.None;

    CrucibleToken internal token;
    StakeManager internal stakes;
    RewardVault internal vault;
    IWorkLedger internal ledger;
    JobRegistry internal registry;
    LedgerLens internal lens;

    address internal sponsor;
    address internal sentinel;
    address internal minerA;
    address internal minerB;
    address internal aggregator;
    address[] internal validators;

    function setUp() public virtual {
        vm.roll(1_000);
        token = new CrucibleToken();
        stakes = new StakeManager(token, MIN_MINER_STAKE, MIN_VALIDATOR_STAKE, UNBONDING_BLOCKS, EPOCH_BLOCKS);
        vault = new RewardVault(token);
        LedgerSettlement module = new LedgerSettlement(vault, stakes);
        WorkLedger workLedger = new WorkLedger(vault, stakes, address(module));
        ledger = IWorkLedger(address(workLedger));
        registry = new JobRegistry(token, stakes, ledger, address(vault));
        lens = new LedgerLens(ledger);
        stakes.setProtocol(address(ledger));
        vault.bindProtocol(address(ledger));
        ledger.bindRegistry(address(registry));

        sponsor = makeAddr("sponsor");
        sentinel = makeAddr("sentinel");
        minerA = makeAddr("minerA");
        minerB = makeAddr("minerB");
        aggregator = makeAddr("aggregator");
        for (uint256 i; i < N_VALIDATORS; ++i) {
            validators.push(makeAddr(string(abi.encodePacked("validator", bytes1(uint8(48 + i))))));
        }
    }

    // ------------------------------------------------------------ accounts and stake

    /// @dev Every account a test creates, so the books check can sum their claimable balances.
    address[] internal known;

    function makeAddr(string memory name) internal returns (address account) {
        account = address(uint160(uint256(keccak256(bytes(name)))));
        vm.label(account, name);
        known.push(account);
    }

    function sumClaimable() internal view returns (uint256 sum) {
        for (uint256 i; i < known.length; ++i) sum += vault.claimableOf(known[i]);
    }

    /// @dev Clamps `x` into [min, max] the way forge-std does, so fuzz inputs stay meaningful.
    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        require(min <= max, "bound: min > max");
        if (x >= min && x <= max) return x;
        uint256 size = max - min + 1;
        if (size == 0) return x; // the whole uint256 range
        return min + (x % size);
    }

    function fund(address who, uint256 amount) internal {
        token.faucet(who, amount);
    }

    function stakeAs(address who, uint256 amount) internal {
        fund(who, amount);
        vm.prank(who);
        token.approve(address(stakes), amount);
        vm.prank(who);
        stakes.stake(amount);
    }

    function registerAs(address who) internal {
        vm.prank(who);
        stakes.registerValidator(new uint32[](0));
    }

    /// @dev Weight changes count two epochs after the epoch they were made in.
    function activate() internal {
        vm.roll(block.number + 2 * EPOCH_BLOCKS);
    }

    function stakeEveryone() internal {
        stakeAs(minerA, 500 ether);
        stakeAs(minerB, 500 ether);
        stakeAs(aggregator, 500 ether);
        stakeAs(sentinel, 500 ether);
        for (uint256 i; i < validators.length; ++i) {
            stakeAs(validators[i], 300 ether);
            registerAs(validators[i]);
        }
        activate();
    }

    // ------------------------------------------------------------ jobs

    function defaultParams() internal pure returns (IJobTypes.JobParams memory p) {
        p.kind = IJobTypes.JobKind.Pretrain;
        p.numRounds = 2;
        p.slotsPerRound = 2;
        p.intervalsPerSlot = 3; // boundaries 0..3: four Merkle leaves, depth 2
        p.sampledIntervals = 2;
        p.auditBps = 10_000;
        p.seatsPerAudit = 3;
        p.committeeSize = 3;
        p.minerSlashBps = 1_000;
        p.bountyBps = 5_000;
        p.minerReward = 10 ether;
        p.validatorReward = 1 ether;
        p.aggregatorReward = 2 ether;
        p.minerCollateral = 20 ether;
        p.validatorSlash = 10 ether;
        p.plantBond = 0;
        p.windows = IJobTypes.Windows({
            submitWindow: 50,
            seedDelay: 2,
            checkpointRevealWindow: 20,
            commitWindow: 20,
            revealWindow: 20,
            unsealWindow: 10,
            roundClaimWindow: 100
        });
    }

    function postJob(IJobTypes.JobParams memory p) internal returns (uint256) {
        return postJobWithPlants(p, bytes32(0));
    }

    function postJobWithPlants(IJobTypes.JobParams memory p, bytes32 plantRoot) internal returns (uint256 jobId) {
        uint256 escrow = registry.requiredEscrow(p);
        fund(sponsor, escrow);
        vm.prank(sponsor);
        token.approve(address(registry), escrow);
        IJobTypes.JobContent memory content = IJobTypes.JobContent(
            keccak256("spec"), keccak256("tolerance"), keccak256("initial checkpoint"), plantRoot
        );
        vm.prank(sponsor);
        jobId = registry.createJob(p, content, "bafy-spec");
    }

    /// @dev A plant set of one leaf: its root is the leaf itself (an empty proof opens it).
    function plantRootOf(uint16 round, uint16 slot, address who, bytes32 plantSalt) internal pure returns (bytes32) {
        return Commitments.plantLeaf(round, slot, who, plantSalt);
    }

    // ------------------------------------------------------------ randomness

    /// @dev Moves to block `b` and records its randomness (prevrandao chosen by the test, or derived from `b`).
    function recordAt(uint256 b, bytes32 randomness) internal {
        if (block.number < b) vm.roll(b);
        vm.assertEq(block.number, b, "recordAt: block already passed");
        vm.prevrandao(randomness == 0 ? keccak256(abi.encode("randao", b)) : randomness);
        ledger.recordRandomness();
    }

    function recordAt(uint256 b) internal {
        recordAt(b, bytes32(0));
    }

    // ------------------------------------------------------------ work and its Merkle commitment

    function leaves(uint256 jobId, uint16 round, uint16 slot, address miner, bytes32 variant)
        internal
        view
        returns (bytes32[4] memory out)
    {
        out = WorkFixtures.leaves(jobId, round, slot, miner, variant);
        vm.assertEq(
            out[1],
            lens.checkpointLeaf(jobId, round, slot, miner, 1, ckptDigest(variant, 1), traceDigest(variant, 1)),
            "leaf"
        );
    }

    function ckptDigest(bytes32 variant, uint256 i) internal pure returns (bytes32) {
        return WorkFixtures.ckptDigest(variant, i);
    }

    function traceDigest(bytes32 variant, uint256 i) internal pure returns (bytes32) {
        return WorkFixtures.traceDigest(variant, i);
    }

    function commitmentOf(bytes32 root, bytes32 result) internal pure returns (ILedgerTypes.Commitment memory) {
        return ILedgerTypes.Commitment(keccak256(bytes("bafy-bundle")), result, root);
    }

    /// @dev Claims and submits a work slot; returns the commitment preimage.
    function claimAndSubmit(uint256 jobId, uint16 round, uint16 slot, address miner, bytes32 variant)
        internal
        returns (ILedgerTypes.Commitment memory c)
    {
        vm.prank(miner);
        ledger.claimSlot(jobId, round, slot);
        bytes32 root = WorkFixtures.root(leaves(jobId, round, slot, miner, variant));
        c = commitmentOf(root, ckptDigest(variant, 3));
        vm.prank(miner);
        ledger.submit(jobId, round, slot, "bafy-bundle", c.resultDigest, root);
    }

    /// @dev Records the randomness of the subject's first seed block (and moves past it).
    function seed(uint256 jobId, uint16 round, uint16 slot) internal {
        recordAt(timeline(jobId, round, slot).seedBlock);
        vm.roll(block.number + 1);
    }

    /// @dev The miner reveals both ends of every sampled interval.
    function revealSampled(
        uint256 jobId,
        uint16 round,
        uint16 slot,
        address miner,
        bytes32 variant,
        ILedgerTypes.Commitment memory c
    ) internal {
        (ILedgerTypes.Boundary[] memory b, string[] memory cids) = boundariesFor(jobId, round, slot, miner, variant);
        vm.prank(miner);
        ledger.revealCheckpoints(jobId, round, slot, c, b, cids);
    }

    function boundariesFor(uint256 jobId, uint16 round, uint16 slot, address miner, bytes32 variant)
        internal
        view
        returns (ILedgerTypes.Boundary[] memory b, string[] memory cids)
    {
        uint32[] memory sampled = lens.sampledIntervals(jobId, round, slot);
        bytes32[4] memory l = leaves(jobId, round, slot, miner, variant);
        b = new ILedgerTypes.Boundary[](2 * sampled.length);
        cids = new string[](2 * sampled.length);
        for (uint256 j; j < sampled.length; ++j) {
            for (uint256 e; e < 2; ++e) {
                uint256 i = sampled[j] + e;
                b[2 * j + e] =
                    ILedgerTypes.Boundary(uint32(i), ckptDigest(variant, i), traceDigest(variant, i), WorkFixtures.proof(l, i));
                cids[2 * j + e] = "bafy-ckpt";
            }
        }
    }

    function timeline(uint256 jobId, uint16 round, uint16 slot) internal view returns (ILedgerTypes.Timeline memory) {
        return lens.timelineOf(jobId, round, slot);
    }

    function subject(uint256 jobId, uint16 round, uint16 slot) internal view returns (bytes32) {
        return ledger.subjectKey(jobId, round, slot);
    }

    function view_(uint256 jobId, uint16 round, uint16 slot) internal view returns (ILedgerTypes.SubjectView memory) {
        return lens.subjectOf(jobId, round, slot);
    }

    // ------------------------------------------------------------ panels

    function salt(ILedgerTypes.Panel panel, uint256 seat) internal pure returns (bytes32) {
        return keccak256(abi.encode("salt", panel, seat));
    }

    function holderOf(uint256 jobId, uint16 round, uint16 slot, ILedgerTypes.Panel panel, uint256 seat)
        internal
        view
        returns (address)
    {
        return ledger.seatOf(subject(jobId, round, slot), panel, uint8(seat)).validator;
    }

    /// @dev Seat `seat`'s drawn validator commits `verdict`.
    function commitSeat(
        uint256 jobId,
        uint16 round,
        uint16 slot,
        ILedgerTypes.Panel panel,
        uint256 seat,
        ILedgerTypes.Verdict verdict
    ) internal returns (address holder) {
        holder = holderOf(jobId, round, slot, panel, seat);
        bytes32 h = lens.verdictCommitment(
            subject(jobId, round, slot), panel, uint8(seat), verdict, keccak256("evidence"), salt(panel, seat), holder
        );
        vm.prank(holder);
        ledger.commitVerdict(jobId, round, slot, panel, uint8(seat), h);
    }

    function revealSeat(
        uint256 jobId,
        uint16 round,
        uint16 slot,
        ILedgerTypes.Panel panel,
        uint256 seat,
        ILedgerTypes.Verdict verdict
    ) internal {
        ILedgerTypes.VerdictReveal memory r =
            ILedgerTypes.VerdictReveal(verdict, keccak256("evidence"), salt(panel, seat), "bafy-evidence");
        ledger.revealVerdict(jobId, round, slot, panel, uint8(seat), r);
    }

    /// @dev Draws the audit panel and runs it with the given per-seat verdicts (None: the seat stays silent).
    function auditWith(uint256 jobId, uint16 round, uint16 slot, ILedgerTypes.Verdict[3] memory verdicts) internal {
        ledger.drawSeats(jobId, round, slot, AUDIT);
        ILedgerTypes.Timeline memory t = timeline(jobId, round, slot);
        for (uint256 seat; seat < 3; ++seat) {
            if (verdicts[seat] != NONE) commitSeat(jobId, round, slot, AUDIT, seat, verdicts[seat]);
        }
        vm.roll(t.commitEnd + 1);
        for (uint256 seat; seat < 3; ++seat) {
            if (verdicts[seat] != NONE) revealSeat(jobId, round, slot, AUDIT, seat, verdicts[seat]);
        }
    }

    /// @dev Records the committee's randomness, draws it and runs it with the given verdicts; ends after its reveals.
    function disputeWith(uint256 jobId, uint16 round, uint16 slot, ILedgerTypes.Verdict[3] memory verdicts) internal {
        ILedgerTypes.Timeline memory t = timeline(jobId, round, slot);
        recordAt(t.committeeSeedBlock);
        vm.roll(t.committeeSeedBlock + 1);
        ledger.drawSeats(jobId, round, slot, COMMITTEE);
        for (uint256 seat; seat < 3; ++seat) {
            if (verdicts[seat] != NONE) commitSeat(jobId, round, slot, COMMITTEE, seat, verdicts[seat]);
        }
        vm.roll(t.disputeCommitEnd + 1);
        for (uint256 seat; seat < 3; ++seat) {
            if (verdicts[seat] != NONE) revealSeat(jobId, round, slot, COMMITTEE, seat, verdicts[seat]);
        }
        vm.roll(t.disputeRevealEnd + 1);
    }

    /// @dev Settles every drawn seat of both panels: losers and silent seats first, then winners.
    function settleAllSeats(uint256 jobId, uint16 round, uint16 slot) internal {
        ILedgerTypes.SubjectView memory v = view_(jobId, round, slot);
        bool passWins = v.outcome == ILedgerTypes.Outcome.Accepted || v.outcome == ILedgerTypes.Outcome.PlantRefuted;
        for (uint256 pass; pass < 2; ++pass) {
            for (uint8 panel; panel < 2; ++panel) {
                (uint256[] memory numbers, ILedgerTypes.Seat[] memory seats) =
                    lens.seatsOf(jobId, round, slot, ILedgerTypes.Panel(panel));
                for (uint256 i; i < numbers.length; ++i) {
                    uint8 flags = seats[i].flags;
                    if (flags & 16 != 0) continue;
                    bool revealed = flags & (4 | 8) != 0;
                    bool winner = revealed && ((flags & 4 != 0) == passWins);
                    if ((pass == 0) == winner) continue;
                    ledger.settleSeat(jobId, round, slot, ILedgerTypes.Panel(panel), uint8(numbers[i]));
                }
            }
        }
    }

    // ------------------------------------------------------------ books

    /// @dev Tokens held by the contracts == stakes + unbonding + escrows + pools + unclaimed rewards.
    function assertBooksBalance() internal view {
        (uint256 staked, uint256 unbonding) = stakes.totals();
        (uint256 escrow, uint256 pooled) = vault.totals();
        vm.assertEq(token.balanceOf(address(stakes)), staked + unbonding, "stake manager books");
        vm.assertEq(token.balanceOf(address(vault)), escrow + pooled + sumClaimable(), "vault books");
        vm.assertEq(token.balanceOf(address(ledger)), 0, "ledger holds no tokens");
        vm.assertEq(token.balanceOf(address(registry)), 0, "registry holds no tokens");
    }

    function pass3() internal pure returns (ILedgerTypes.Verdict[3] memory v) {
        v = [PASS, PASS, PASS];
    }

    function fail3() internal pure returns (ILedgerTypes.Verdict[3] memory v) {
        v = [FAIL, FAIL, FAIL];
    }
}
