// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Vm} from "../utils/Vm.sol";
import {WorkFixtures} from "../utils/WorkFixtures.sol";
import {CrucibleToken} from "../../src/CrucibleToken.sol";
import {StakeManager} from "../../src/StakeManager.sol";
import {RewardVault} from "../../src/RewardVault.sol";
import {WorkLedger} from "../../src/WorkLedger.sol";
import {JobRegistry} from "../../src/JobRegistry.sol";
import {LedgerLens} from "../../src/LedgerLens.sol";
import {IJobTypes} from "../../src/interfaces/IJobTypes.sol";
import {IStakeManager} from "../../src/interfaces/IStakeManager.sol";
import {IWorkLedger} from "../../src/interfaces/IWorkLedger.sol";

/// @notice Drives the protocol with random but meaningful actions from a fixed cast of actors, and keeps ghost
/// totals of every token that entered or left each actor's protocol balance.
contract ProtocolHandler {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    uint16 internal constant SLOTS = 3;

    CrucibleToken public token;
    StakeManager public stakes;
    RewardVault public vault;
    WorkLedger public ledger;
    JobRegistry public registry;
    LedgerLens public lens;

    address public sponsor;
    address[] public actors; // miners and validators; index < 4 are validators
    uint256[] public jobs;
    mapping(bytes32 subject => bytes32) public variantOf; // what the miner actually ran
    mapping(bytes32 subject => bool) public isCheat;

    // ghost totals, per actor
    mapping(address => uint256) public ghostDeposited; // staked in
    mapping(address => uint256) public ghostWithdrawn; // unbonded out + claimed out
    mapping(address => uint256) public ghostEarned; // credited to claimable
    mapping(address => uint256) public ghostSlashed; // taken by slashes
    // ghost counters of double settlement (must stay zero)
    mapping(bytes32 subject => uint256) public settlements;
    mapping(bytes32 seatKey => uint256) public seatSettlements;
    uint256 public ghostDoubleSettlements;
    uint256 public ghostSubmissionsSettled;
    uint256 public ghostSeatsSettled;
    bytes32[] public subjects;
    mapping(uint256 => uint256) public calls;

    constructor(
        CrucibleToken token_,
        StakeManager stakes_,
        RewardVault vault_,
        WorkLedger ledger_,
        JobRegistry registry_,
        LedgerLens lens_,
        address sponsor_,
        address[] memory actors_
    ) {
        token = token_;
        stakes = stakes_;
        vault = vault_;
        ledger = ledger_;
        registry = registry_;
        lens = lens_;
        sponsor = sponsor_;
        actors = actors_;
    }

    function totalSlashed() external view returns (uint256 sum) {
        for (uint256 i; i < actors.length; ++i) sum += ghostSlashed[actors[i]];
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function subjectCount() external view returns (uint256) {
        return subjects.length;
    }

    // ------------------------------------------------------------ staking

    function stake(uint256 who, uint256 amount) external tracked(0) {
        address a = actors[who % actors.length];
        amount = 1 + amount % 300 ether;
        token.faucet(a, amount);
        vm.prank(a);
        token.approve(address(stakes), amount);
        vm.prank(a);
        stakes.stake(amount);
        ghostDeposited[a] += amount;
    }

    function requestUnbond(uint256 who, uint256 amount) external tracked(1) {
        address a = actors[who % actors.length];
        uint256 free = stakes.freeStakeOf(a);
        if (free == 0) return;
        vm.prank(a);
        stakes.requestUnbond(1 + amount % free);
    }

    function withdraw(uint256 who) external tracked(2) {
        address a = actors[who % actors.length];
        vm.prank(a);
        try stakes.withdraw() returns (uint256 out) {
            ghostWithdrawn[a] += out;
        } catch {}
    }

    function claim(uint256 who) external tracked(3) {
        address a = actors[who % actors.length];
        vm.prank(a);
        try vault.claim() returns (uint256 out) {
            ghostWithdrawn[a] += out;
        } catch {}
    }

    function roll(uint256 blocks) external tracked(4) {
        vm.roll(block.number + 1 + blocks % 40);
    }

    // ------------------------------------------------------------ jobs and work

    function createJob(uint256 auditSeed) external tracked(5) {
        if (jobs.length >= 6) return;
        IJobTypes.JobParams memory p;
        p.kind = IJobTypes.JobKind.Sft;
        p.numRounds = 1;
        p.slotsPerRound = SLOTS;
        p.intervalsPerSlot = 3;
        p.sampledIntervals = 1;
        p.auditBps = uint16(auditSeed % 2 == 0 ? 10_000 : 5_000);
        p.seatsPerAudit = 2;
        p.committeeSize = 2;
        p.minerSlashBps = 2_000;
        p.bountyBps = 5_000;
        p.minerReward = 5 ether;
        p.validatorReward = 1 ether;
        p.aggregatorReward = 1 ether;
        p.minerCollateral = 10 ether;
        p.validatorSlash = 3 ether;
        p.windows = IJobTypes.Windows(30, 2, 10, 10, 10, 5, 60);
        uint256 escrow = registry.requiredEscrow(p);
        token.faucet(sponsor, escrow);
        vm.prank(sponsor);
        token.approve(address(registry), escrow);
        vm.prank(sponsor);
        jobs.push(registry.createJob(p, IJobTypes.JobContent(bytes32(0), bytes32(0), bytes32(0)), "spec"));
    }

    function claimAndSubmit(uint256 jobSeed, uint256 slotSeed, uint256 who, bool cheat) external tracked(6) {
        if (jobs.length == 0) return;
        uint256 jobId = jobs[jobSeed % jobs.length];
        uint16 slot = uint16(slotSeed % SLOTS);
        address miner = actors[4 + who % (actors.length - 4)];
        vm.prank(miner);
        try ledger.claimSlot(jobId, 0, slot) {} catch { return; }
        bytes32 key = ledger.subjectKey(jobId, 0, slot);
        bytes32 variant = keccak256(abi.encode(key, cheat));
        bytes32 root = WorkFixtures.root(WorkFixtures.leaves(jobId, 0, slot, miner, variant));
        vm.prank(miner);
        ledger.submit(jobId, 0, slot, "bundle", WorkFixtures.ckptDigest(variant, 3), root, bytes32(0));
        variantOf[key] = variant;
        isCheat[key] = cheat;
        subjects.push(key);
    }

    function revealCheckpoints(uint256 jobSeed, uint256 slotSeed) external tracked(7) {
        (uint256 jobId, uint16 slot, bytes32 key) = _pick(jobSeed, slotSeed);
        if (variantOf[key] == 0) return;
        IWorkLedger.SubjectView memory v = lens.subjectOf(jobId, 0, slot);
        uint32[] memory sampled = lens.sampledIntervals(jobId, 0, slot);
        if (sampled.length == 0) return;
        bytes32 variant = variantOf[key];
        bytes32[4] memory l = WorkFixtures.leaves(jobId, 0, slot, v.miner, variant);
        IWorkLedger.Boundary[] memory b = new IWorkLedger.Boundary[](2);
        string[] memory cids = new string[](2);
        for (uint256 e; e < 2; ++e) {
            uint256 i = sampled[0] + e;
            b[e] = IWorkLedger.Boundary(
                uint32(i), WorkFixtures.ckptDigest(variant, i), WorkFixtures.traceDigest(variant, i), WorkFixtures.proof(l, i)
            );
        }
        IWorkLedger.Commitment memory c = IWorkLedger.Commitment(
            keccak256(bytes("bundle")), WorkFixtures.ckptDigest(variant, 3), WorkFixtures.root(l), bytes32(0)
        );
        vm.prank(v.miner);
        try ledger.revealCheckpoints(jobId, 0, slot, c, b, cids) {} catch {}
    }

    /// @dev Drawn validators vote the truth unless `lie` says otherwise (a lazy approver or a false accuser).
    function commitVerdict(uint256 jobSeed, uint256 slotSeed, bool committee, uint8 seat, bool lie)
        external
        tracked(8)
    {
        (uint256 jobId, uint16 slot, bytes32 key) = _pick(jobSeed, slotSeed);
        if (variantOf[key] == 0) return;
        _commit(jobId, slot, key, committee ? IWorkLedger.Panel.Committee : IWorkLedger.Panel.Audit, seat % 2, lie);
    }

    function _commit(uint256 jobId, uint16 slot, bytes32 key, IWorkLedger.Panel panel, uint8 seat, bool lie) internal {
        address holder = lens.seatHolder(jobId, 0, slot, panel, seat);
        if (holder == address(0)) return;
        bytes32 h = lens.verdictCommitment(key, panel, seat, _verdict(key, lie), bytes32(0), bytes32(uint256(seat)), holder);
        vm.prank(holder);
        try ledger.commitVerdict(jobId, 0, slot, panel, seat, h) {
            liedAt[keccak256(abi.encode(key, panel, seat))] = lie;
        } catch {}
    }

    mapping(bytes32 => bool) internal liedAt;

    function revealVerdict(uint256 jobSeed, uint256 slotSeed, bool committee, uint8 seat) external tracked(9) {
        (uint256 jobId, uint16 slot, bytes32 key) = _pick(jobSeed, slotSeed);
        if (variantOf[key] == 0) return;
        IWorkLedger.Panel panel = committee ? IWorkLedger.Panel.Committee : IWorkLedger.Panel.Audit;
        seat = seat % 2;
        IWorkLedger.Verdict verdict = _verdict(key, liedAt[keccak256(abi.encode(key, panel, seat))]);
        IWorkLedger.VerdictReveal memory r = IWorkLedger.VerdictReveal(verdict, bytes32(0), bytes32(uint256(seat)), "");
        try ledger.revealVerdict(jobId, 0, slot, panel, seat, r) {} catch {}
    }

    function settleSubmission(uint256 jobSeed, uint256 slotSeed) external tracked(10) {
        (uint256 jobId, uint16 slot, bytes32 key) = _pick(jobSeed, slotSeed);
        if (jobId == 0) return;
        try ledger.settleSubmission(jobId, 0, slot) {
            if (++settlements[key] > 1) ++ghostDoubleSettlements;
            ++ghostSubmissionsSettled;
        } catch {}
    }

    function settleSeat(uint256 jobSeed, uint256 slotSeed, bool committee, uint8 seat) external tracked(11) {
        (uint256 jobId, uint16 slot, bytes32 key) = _pick(jobSeed, slotSeed);
        if (jobId == 0) return;
        IWorkLedger.Panel panel = committee ? IWorkLedger.Panel.Committee : IWorkLedger.Panel.Audit;
        seat = seat % 2;
        try ledger.settleSeat(jobId, 0, slot, panel, seat) {
            if (++seatSettlements[keccak256(abi.encode(key, panel, seat))] > 1) ++ghostDoubleSettlements;
            ++ghostSeatsSettled;
        } catch {}
    }

    function vacateSlot(uint256 jobSeed, uint256 slotSeed) external tracked(12) {
        if (jobs.length == 0) return;
        try ledger.vacateSlot(jobs[jobSeed % jobs.length], 0, uint16(slotSeed % SLOTS)) {} catch {}
    }

    // ------------------------------------------------------------ ghost bookkeeping

    /// @dev Every action is bracketed: whatever changed an actor's protocol balance that the action did not
    /// explain as a deposit or a withdrawal is a credit (earned) or a slash.
    modifier tracked(uint256 action) {
        _snapshot();
        _;
        ++calls[action];
        _attribute();
    }

    uint256[] internal _bondedBefore;
    uint256[] internal _creditBefore;
    uint256[] internal _depositedBefore;
    uint256[] internal _withdrawnBefore;

    function _snapshot() internal {
        delete _bondedBefore;
        delete _creditBefore;
        delete _depositedBefore;
        delete _withdrawnBefore;
        for (uint256 i; i < actors.length; ++i) {
            address a = actors[i];
            _bondedBefore.push(_bonded(a));
            _creditBefore.push(vault.claimableOf(a));
            _depositedBefore.push(ghostDeposited[a]);
            _withdrawnBefore.push(ghostWithdrawn[a]);
        }
    }

    /// @dev Protocol balance change = deposits - withdrawals + earned - slashed; the unexplained part of the
    /// change is a credit (earned) or a slash.
    function _attribute() internal {
        for (uint256 i; i < actors.length; ++i) {
            address a = actors[i];
            int256 delta = int256(_bonded(a) + vault.claimableOf(a)) - int256(_bondedBefore[i] + _creditBefore[i]);
            int256 explained = int256(ghostDeposited[a] - _depositedBefore[i]) - int256(ghostWithdrawn[a] - _withdrawnBefore[i]);
            int256 rest = delta - explained;
            if (rest > 0) ghostEarned[a] += uint256(rest);
            if (rest < 0) ghostSlashed[a] += uint256(-rest);
        }
    }

    function _bonded(address a) internal view returns (uint256) {
        IStakeManager.StakeInfo memory info = stakes.stakeOf(a);
        return uint256(info.staked) + info.unbonding;
    }

    function _pick(uint256 jobSeed, uint256 slotSeed) internal view returns (uint256 jobId, uint16 slot, bytes32 key) {
        if (jobs.length == 0) return (0, 0, bytes32(0));
        jobId = jobs[jobSeed % jobs.length];
        slot = uint16(slotSeed % SLOTS);
        key = ledger.subjectKey(jobId, 0, slot);
    }

    function _verdict(bytes32 key, bool lie) internal view returns (IWorkLedger.Verdict) {
        bool sayFail = isCheat[key] != lie;
        return sayFail ? IWorkLedger.Verdict.Fail : IWorkLedger.Verdict.Pass;
    }
}
