// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Vm} from "./Vm.sol";
import {CrucibleToken} from "../../src/CrucibleToken.sol";
import {StakeManager} from "../../src/StakeManager.sol";
import {RewardVault} from "../../src/RewardVault.sol";
import {WorkLedger} from "../../src/WorkLedger.sol";
import {JobRegistry} from "../../src/JobRegistry.sol";
import {LedgerLens} from "../../src/LedgerLens.sol";
import {IJobTypes} from "../../src/interfaces/IJobTypes.sol";
import {IWorkLedger} from "../../src/interfaces/IWorkLedger.sol";
import {WorkFixtures} from "./WorkFixtures.sol";

/// @notice Deploys the whole protocol and gives tests the vocabulary of the protocol's story: fund, stake, post a
/// job, do work, audit it, dispute it, settle it, and check that the books balance.
abstract contract CrucibleTest {
    bool public IS_TEST = true;
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    uint256 internal constant MIN_MINER_STAKE = 100 ether;
    uint256 internal constant MIN_VALIDATOR_STAKE = 100 ether;
    uint64 internal constant UNBONDING_BLOCKS = 2_000;
    uint256 internal constant N_VALIDATORS = 5;

    CrucibleToken internal token;
    StakeManager internal stakes;
    RewardVault internal vault;
    WorkLedger internal ledger;
    JobRegistry internal registry;
    LedgerLens internal lens;

    address internal sponsor;
    address internal minerA;
    address internal minerB;
    address internal aggregator;
    address[] internal validators;

    function setUp() public virtual {
        vm.roll(1_000);
        token = new CrucibleToken();
        stakes = new StakeManager(token, MIN_MINER_STAKE, MIN_VALIDATOR_STAKE, UNBONDING_BLOCKS);
        vault = new RewardVault(token);
        ledger = new WorkLedger(vault, stakes);
        registry = new JobRegistry(token, stakes, ledger, address(vault));
        lens = new LedgerLens(ledger, stakes);
        stakes.setProtocol(address(ledger));
        vault.bindProtocol(address(ledger));
        ledger.bindRegistry(address(registry));

        sponsor = makeAddr("sponsor");
        minerA = makeAddr("minerA");
        minerB = makeAddr("minerB");
        aggregator = makeAddr("aggregator");
        for (uint256 i; i < N_VALIDATORS; ++i) {
            address v = makeAddr(string(abi.encodePacked("validator", bytes1(uint8(48 + i)))));
            validators.push(v);
        }
    }

    // ------------------------------------------------------------ vocabulary

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

    function stakeEveryone() internal {
        stakeAs(minerA, 500 ether);
        stakeAs(minerB, 500 ether);
        stakeAs(aggregator, 500 ether);
        for (uint256 i; i < validators.length; ++i) {
            stakeAs(validators[i], 300 ether);
            vm.prank(validators[i]);
            stakes.registerValidator();
        }
    }

    function defaultParams() internal pure returns (IJobTypes.JobParams memory p) {
        p.kind = IJobTypes.JobKind.Pretrain;
        p.numRounds = 2;
        p.slotsPerRound = 2;
        p.intervalsPerSlot = 3; // boundaries 0..3: four Merkle leaves
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

    function postJob(IJobTypes.JobParams memory p) internal returns (uint256 jobId) {
        uint256 escrow = registry.requiredEscrow(p);
        fund(sponsor, escrow);
        vm.prank(sponsor);
        token.approve(address(registry), escrow);
        IJobTypes.JobContent memory content =
            IJobTypes.JobContent(keccak256("spec"), keccak256("tolerance"), keccak256("initial checkpoint"));
        vm.prank(sponsor);
        jobId = registry.createJob(p, content, "bafy-spec");
    }

    // ------------------------------------------------------------ work and its Merkle commitment

    /// @dev The four boundary leaves of a slot's work; `variant` changes the digests (a different run). Checked
    /// against the contract's own leaf function so the fixture cannot drift from the ledger.
    function leaves(uint256 jobId, uint16 round, uint16 slot, address miner, bytes32 variant)
        internal
        view
        returns (bytes32[4] memory out)
    {
        out = WorkFixtures.leaves(jobId, round, slot, miner, variant);
        vm.assertEq(
            out[1], lens.checkpointLeaf(jobId, round, slot, miner, 1, ckptDigest(variant, 1), traceDigest(variant, 1)), "leaf"
        );
    }

    function ckptDigest(bytes32 variant, uint256 i) internal pure returns (bytes32) {
        return WorkFixtures.ckptDigest(variant, i);
    }

    function traceDigest(bytes32 variant, uint256 i) internal pure returns (bytes32) {
        return WorkFixtures.traceDigest(variant, i);
    }

    function merkleRoot(bytes32[4] memory l) internal pure returns (bytes32) {
        return WorkFixtures.root(l);
    }

    function proofFor(bytes32[4] memory l, uint256 i) internal pure returns (bytes32[] memory) {
        return WorkFixtures.proof(l, i);
    }

    function commitmentOf(bytes32 root, bytes32 result, bytes32 seal)
        internal
        pure
        returns (IWorkLedger.Commitment memory)
    {
        return IWorkLedger.Commitment(keccak256(bytes("bafy-bundle")), result, root, seal);
    }

    /// @dev Claims and submits a work slot; returns the commitment preimage.
    function claimAndSubmit(uint256 jobId, uint16 round, uint16 slot, address miner, bytes32 variant, bytes32 seal)
        internal
        returns (IWorkLedger.Commitment memory c)
    {
        vm.prank(miner);
        ledger.claimSlot(jobId, round, slot);
        bytes32 root = merkleRoot(leaves(jobId, round, slot, miner, variant));
        c = commitmentOf(root, ckptDigest(variant, 3), seal);
        vm.prank(miner);
        ledger.submit(jobId, round, slot, "bafy-bundle", c.resultDigest, root, seal);
    }

    /// @dev The miner reveals both ends of every sampled interval.
    function revealSampled(
        uint256 jobId,
        uint16 round,
        uint16 slot,
        address miner,
        bytes32 variant,
        IWorkLedger.Commitment memory c
    ) internal {
        uint32[] memory sampled = lens.sampledIntervals(jobId, round, slot);
        bytes32[4] memory l = leaves(jobId, round, slot, miner, variant);
        IWorkLedger.Boundary[] memory b = new IWorkLedger.Boundary[](2 * sampled.length);
        string[] memory cids = new string[](2 * sampled.length);
        for (uint256 j; j < sampled.length; ++j) {
            for (uint256 e; e < 2; ++e) {
                uint256 i = sampled[j] + e;
                b[2 * j + e] = IWorkLedger.Boundary(uint32(i), ckptDigest(variant, i), traceDigest(variant, i), proofFor(l, i));
                cids[2 * j + e] = "bafy-ckpt";
            }
        }
        vm.prank(miner);
        ledger.revealCheckpoints(jobId, round, slot, c, b, cids);
    }

    function timeline(uint256 jobId, uint16 round, uint16 slot) internal view returns (IWorkLedger.Timeline memory) {
        return lens.timelineOf(jobId, round, slot);
    }

    function subject(uint256 jobId, uint16 round, uint16 slot) internal view returns (bytes32) {
        return lens.subjectOf(jobId, round, slot).key;
    }

    function salt(IWorkLedger.Panel panel, uint8 seat) internal pure returns (bytes32) {
        return keccak256(abi.encode("salt", panel, seat));
    }

    /// @dev Seat `seat`'s drawn validator commits `verdict`.
    function commitSeat(uint256 jobId, uint16 round, uint16 slot, IWorkLedger.Panel panel, uint8 seat, IWorkLedger.Verdict verdict)
        internal
        returns (address holder)
    {
        holder = lens.seatHolder(jobId, round, slot, panel, seat);
        bytes32 h = lens.verdictCommitment(
            subject(jobId, round, slot), panel, seat, verdict, keccak256("evidence"), salt(panel, seat), holder
        );
        vm.prank(holder);
        ledger.commitVerdict(jobId, round, slot, panel, seat, h);
    }

    function revealSeat(uint256 jobId, uint16 round, uint16 slot, IWorkLedger.Panel panel, uint8 seat, IWorkLedger.Verdict verdict)
        internal
    {
        IWorkLedger.VerdictReveal memory r =
            IWorkLedger.VerdictReveal(verdict, keccak256("evidence"), salt(panel, seat), "bafy-evidence");
        ledger.revealVerdict(jobId, round, slot, panel, seat, r);
    }

    /// @dev Runs one audited work slot through its audit panel with the given per-seat verdicts.
    function auditWith(uint256 jobId, uint16 round, uint16 slot, IWorkLedger.Verdict[3] memory verdicts) internal {
        IWorkLedger.Timeline memory t = timeline(jobId, round, slot);
        for (uint8 seat; seat < 3; ++seat) {
            if (verdicts[seat] != IWorkLedger.Verdict.None) commitSeat(jobId, round, slot, IWorkLedger.Panel.Audit, seat, verdicts[seat]);
        }
        vm.roll(t.commitEnd + 1);
        for (uint8 seat; seat < 3; ++seat) {
            if (verdicts[seat] != IWorkLedger.Verdict.None) revealSeat(jobId, round, slot, IWorkLedger.Panel.Audit, seat, verdicts[seat]);
        }
    }

    // ------------------------------------------------------------ books

    /// @dev The stake manager holds exactly the stakes and unbonding amounts it records.
    function assertStakeBooks() internal view {
        (uint256 staked, uint256 unbonding) = stakes.totals();
        vm.assertEq(token.balanceOf(address(stakes)), staked + unbonding, "stake manager books");
    }

    /// @dev Tokens held by the contracts == stakes + unbonding + escrows + pools + unclaimed rewards.
    function assertBooksBalance() internal view {
        (uint256 staked, uint256 unbonding) = stakes.totals();
        (uint256 escrow, uint256 pooled) = vault.totals();
        vm.assertEq(token.balanceOf(address(stakes)), staked + unbonding, "stake manager books");
        vm.assertEq(token.balanceOf(address(vault)), escrow + pooled + sumClaimable(), "vault books");
        vm.assertEq(token.balanceOf(address(ledger)), 0, "ledger holds no tokens");
        vm.assertEq(token.balanceOf(address(registry)), 0, "registry holds no tokens");
    }

    function pass3() internal pure returns (IWorkLedger.Verdict[3] memory v) {
        v = [IWorkLedger.Verdict.Pass, IWorkLedger.Verdict.Pass, IWorkLedger.Verdict.Pass];
    }

    function fail3() internal pure returns (IWorkLedger.Verdict[3] memory v) {
        v = [IWorkLedger.Verdict.Fail, IWorkLedger.Verdict.Fail, IWorkLedger.Verdict.Fail];
    }
}
