// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {HandlerGhosts} from "./HandlerGhosts.sol";
import {WorkFixtures} from "../utils/WorkFixtures.sol";
import {CrucibleToken} from "../../src/CrucibleToken.sol";
import {StakeManager} from "../../src/StakeManager.sol";
import {RewardVault} from "../../src/RewardVault.sol";
import {JobRegistry} from "../../src/JobRegistry.sol";
import {LedgerLens} from "../../src/LedgerLens.sol";
import {IJobTypes} from "../../src/interfaces/IJobTypes.sol";
import {ILedgerTypes} from "../../src/interfaces/ILedgerTypes.sol";
import {IStakeManager} from "../../src/interfaces/IStakeManager.sol";
import {IWorkLedger} from "../../src/interfaces/IWorkLedger.sol";
import {Commitments} from "../../src/libraries/Commitments.sol";
import {Sampling} from "../../src/libraries/Sampling.sol";
import {SeatFlags} from "../../src/libraries/SeatFlags.sol";
import {Timelines} from "../../src/libraries/Timelines.sol";

/// @notice Drives the whole protocol with a cast of honest parties and attackers, keeping ghost state of who is
/// honest and what every subject's truth is.
///
/// Honest parties are diligent: whenever the handler advances time it stops at every block where something is due
/// and, before moving on, performs every honest duty: the keeper records randomness, honest miners reveal their
/// sampled checkpoints, anyone draws panels that can be drawn, honest validators commit and reveal the truth, the
/// sponsor's sentinels unseal their plants. Attackers play the moves of the external review: sybil validators that
/// register, deregister, top up, unbond or withdraw right after a seed is public; lying validators (lazy Pass, false
/// Fail, inverted truth), silent seats and seats that commit and never reveal; a miner that is also a validator; a
/// miner that unbonds everything right after claiming; a sentinel that plants wrong work and one that plants correct
/// work (jobs with a plant root); a re-aggregator that submits wrong aggregates; a keeper that skips recording
/// randomness (forcing retries); claims never submitted; a keeper that draws a panel after its draw deadline
/// (lateDraw); anyone unsealing a submission that is no plant as one (selfSeal); one rich attacker splitting its
/// stake over many sybil validator accounts (spawnSybil).
contract ProtocolHandler is HandlerGhosts {
    // ------------------------------------------------------------ job shape (every job uses these)
    uint8 internal constant SEATS = 3;
    uint8 internal constant INTERVALS = 3; // WorkFixtures' four-boundary slots
    uint8 internal constant SAMPLED = 2;
    uint96 internal constant COLLATERAL = 10 ether;
    uint16 internal constant MINER_SLASH_BPS = 2_000;
    uint96 internal constant SEAT_SLASH = 5 ether;
    uint96 internal constant PLANT_BOND = 20 ether;
    uint32 internal constant SEED_DELAY = 2;
    uint32 internal constant COMMIT_WINDOW = 6;
    uint256 internal constant MAX_SYBILS = 12; // the rich attacker's accounts, the three pre-staked ones included
    // At most this many jobs run at once, and this many in a whole run: a deep run keeps posting jobs as old ones
    // end, so its later calls still find work, seeds and panels to attack (the invariants' loops stay bounded).
    uint256 internal constant MAX_ACTIVE_JOBS = 4;
    uint256 internal constant MAX_JOBS = 10;
    uint256 internal constant MAX_STRIDE = 6; // no window is shorter than this, so stops never skip a duty
    uint8 internal constant FLAG_PLANTED = 1;
    uint8 internal constant FLAG_SEED_KNOWN = 2;
    uint8 internal constant FLAG_AUDITED = 4;
    uint8 internal constant FLAG_SEED_FAILED = 8;
    bytes32 internal constant EVIDENCE = keccak256("evidence");

    enum Policy {
        Honest,
        LazyPass, // passes everything without replaying
        AlwaysFail, // accuses everything
        Invert, // votes against the truth (colludes with cheats, frames honest work)
        Silent, // drawn, never commits
        CommitOnly // commits, never reveals
    }

    struct JobInfo {
        uint256 id;
        uint16 rounds;
        uint16 slots;
        bool honestPlant; // the sponsor's sentinel plants wrong work at (hRound, hSlot)
        uint16 hRound;
        uint16 hSlot;
        bool roguePlant; // an attacking sponsor's sentinel plants correct work at (rRound, rSlot)
        uint16 rRound;
        uint16 rSlot;
        bytes32 hLeaf;
        bytes32 rLeaf;
    }

    struct Sub {
        uint256 job; // index into jobs
        uint16 round;
        uint16 slot;
        address miner;
        bytes32 variant; // what the miner actually committed to
        bool wrong; // the truth: the work (or aggregate) is wrong
        bool reveals; // the miner reveals its sampled checkpoints when audited
        bytes32 plantSalt; // nonzero: this slot is the miner's planted slot
        bytes32 plantSibling; // the other leaf of a two-plant root (zero: a one-leaf root)
        bool decided;
        bool wrongOutcome; // settled against the truth
        bool captured; // ... with attackers holding at least half of the deciding panel
    }

    IWorkLedger public immutable ledger;
    JobRegistry public immutable registry;
    LedgerLens public immutable lens;

    // ------------------------------------------------------------ the cast
    address public sponsor;
    address[] public honestValidators;
    address[] public honestMiners; // [0], [1] plain honest miners
    address public honestSentinel;
    address public honestAggregator;
    address public cheater;
    address public unbonder;
    address public minerValidator;
    address public rogueSentinel;
    address public reaggregator;
    address[] public attackers; // attacker validators: lazy, false accuser, silent, the miner-validator, sybils
    address[] public sybils;
    mapping(address validator => Policy) public policyOf;
    mapping(address account => bool) public isValidatorActor;

    // ------------------------------------------------------------ jobs and subjects
    JobInfo[] public jobs;
    mapping(bytes32 key => Sub) public subs;
    bytes32[] public keys; // every subject ever claimed
    bytes32[] internal _live; // subjects whose submission is not yet settled or vacated
    mapping(bytes32 seatKey => ILedgerTypes.Verdict) internal _committed;
    mapping(bytes32 seatKey => bool) internal _willReveal;
    mapping(bytes32 seatKey => uint256) public seatSettlements;
    bytes32 internal _entropy;
    bytes32 internal _drawStalledFor; // the one subject whose panel honest keepers leave undrawn (lateDraw)
    bool internal _drawsStalled; // ... or every subject's, while lateDraw lets time pass

    // ------------------------------------------------------------ what the run reached (for coverage tests)
    mapping(ILedgerTypes.Outcome outcome => uint256) public ghostOutcomes;
    uint256 public ghostRedraws; // panels drawn at attempt > 0
    uint256 public ghostCommittees; // committees drawn
    uint256 public ghostSeedRetries; // seeds fixed from a later try
    uint256 public ghostCaptured; // settled against the truth with attackers holding half the deciding panel
    uint256 public ghostPostSeedMoves; // sybil moves made once a panel's randomness was public, checked against it
    uint256 public ghostEligibilityFlips; // ... of which changed the mover's eligibility (the only lever, see report)
    uint256 public ghostPanelsChangedByAMover; // ... and changed the panel, by seating or unseating the mover only
    uint256 public ghostAbandonedJobs;
    uint256 public ghostLateDrawsRefused; // late draws the ledger refused with LedgerDeadlinePassed(drawEnd)
    uint256 public ghostSelfSealsRefused; // unseal attempts on a submission that is no plant, inside the unseal window
    uint256 public ghostCompletedJobs;
    mapping(bytes32 action => uint256) public calls;

    constructor(
        CrucibleToken token_,
        StakeManager stakes_,
        RewardVault vault_,
        IWorkLedger ledger_,
        JobRegistry registry_,
        LedgerLens lens_
    ) HandlerGhosts(token_, stakes_, vault_) {
        ledger = ledger_;
        registry = registry_;
        lens = lens_;
    }

    // ================================================================ setup

    /// @notice Funds and stakes the cast and registers the validators. Called once by the test's setUp; weights count
    /// two epochs later, so the test rolls two epochs afterwards.
    function bootstrap() external tracked {
        sponsor = _actor("sponsor", false);
        for (uint256 i; i < 4; ++i) {
            address v = _actor(string(abi.encodePacked("honest validator ", bytes1(uint8(48 + i)))), true);
            honestValidators.push(v);
            _stakeFor(v, 600 ether);
            _register(v, Policy.Honest);
        }
        for (uint256 i; i < 2; ++i) {
            address m = _actor(string(abi.encodePacked("honest miner ", bytes1(uint8(48 + i)))), true);
            honestMiners.push(m);
            _stakeFor(m, 400 ether);
        }
        honestSentinel = _actor("honest sentinel", true);
        _stakeFor(honestSentinel, 200 ether);
        honestAggregator = _actor("honest aggregator", true);
        _stakeFor(honestAggregator, 200 ether);
        cheater = _actor("cheating miner", false);
        _stakeFor(cheater, 300 ether);
        unbonder = _actor("unbonding miner", false);
        _stakeFor(unbonder, 200 ether);
        rogueSentinel = _actor("rogue sentinel", false);
        _stakeFor(rogueSentinel, 200 ether);
        reaggregator = _actor("re-aggregator", false);
        _stakeFor(reaggregator, 300 ether);
        minerValidator = _actor("miner-validator", false);
        _stakeFor(minerValidator, 200 ether);
        _register(minerValidator, Policy.LazyPass);
        attackers.push(minerValidator);
        address lazy = _actor("lazy validator", false);
        _stakeFor(lazy, 200 ether);
        _register(lazy, Policy.LazyPass);
        attackers.push(lazy);
        address accuser = _actor("false accuser", false);
        _stakeFor(accuser, 200 ether);
        _register(accuser, Policy.AlwaysFail);
        attackers.push(accuser);
        address silent = _actor("silent validator", false);
        _stakeFor(silent, 150 ether);
        _register(silent, Policy.Silent);
        attackers.push(silent);
        for (uint256 i; i < 3; ++i) {
            address s = _actor(string(abi.encodePacked("sybil ", bytes1(uint8(48 + i)))), false);
            _stakeFor(s, 120 ether);
            sybils.push(s);
            attackers.push(s);
            policyOf[s] = Policy.Invert;
            isValidatorActor[s] = true;
            if (i == 0) _register(s, Policy.Invert); // the others wait, pre-staked, for a seed to be public
        }
        _entropy = keccak256("entropy");
    }

    function _actor(string memory name, bool honest) internal returns (address a) {
        a = address(uint160(uint256(keccak256(bytes(name)))));
        vm.label(a, name);
        _account(a, honest);
    }

    function _stakeFor(address a, uint256 amount) internal {
        _mint(a, amount);
        vm.prank(a);
        token.approve(address(stakes), amount);
        vm.prank(a);
        stakes.stake(amount);
    }

    function _register(address a, Policy policy) internal {
        vm.prank(a);
        stakes.registerValidator(new uint32[](0));
        policyOf[a] = policy;
        isValidatorActor[a] = true;
    }

    // ================================================================ jobs

    /// @notice The sponsor posts a job: one or two rounds, two or three slots, always or half audited, with no
    /// plant, the sponsor's own (wrong-work) plant, an attacking sponsor's plant of correct work, or both.
    function createJob(uint256 seed) external tracked {
        ++calls["createJob"];
        if (jobs.length >= MAX_JOBS || _activeJobs() >= MAX_ACTIVE_JOBS) return;
        JobInfo memory j;
        j.rounds = uint16(1 + seed % 2);
        j.slots = uint16(2 + (seed >> 8) % 2);
        uint256 plants = (seed >> 24) % 4;
        j.honestPlant = plants & 1 != 0;
        j.roguePlant = plants & 2 != 0;
        j.hRound = uint16((seed >> 32) % j.rounds);
        j.hSlot = uint16((seed >> 40) % j.slots);
        j.rRound = uint16((seed >> 48) % j.rounds);
        j.rSlot = uint16((seed >> 56) % j.slots);
        if (j.honestPlant && j.roguePlant && j.hRound == j.rRound && j.hSlot == j.rSlot) {
            j.rSlot = (j.rSlot + 1) % j.slots;
        }
        IJobTypes.JobParams memory p = _params(j, (seed >> 16) % 3 == 0 ? 5_000 : 10_000);
        uint256 jobIndex = jobs.length;
        if (j.honestPlant) {
            j.hLeaf = Commitments.plantLeaf(j.hRound, j.hSlot, honestSentinel, _plantSalt(jobIndex, false));
        }
        if (j.roguePlant) {
            j.rLeaf = Commitments.plantLeaf(j.rRound, j.rSlot, rogueSentinel, _plantSalt(jobIndex, true));
        }
        bytes32 root = _plantRoot(j.hLeaf, j.rLeaf);
        uint256 escrow = registry.requiredEscrow(p);
        _mint(sponsor, escrow);
        vm.prank(sponsor);
        token.approve(address(registry), escrow);
        vm.prank(sponsor);
        j.id = registry.createJob(
            p, IJobTypes.JobContent(keccak256("spec"), keccak256("tol"), keccak256("base"), root), "spec"
        );
        ghostEscrowFunded[sponsor] += escrow;
        jobs.push(j);
    }

    function _activeJobs() internal view returns (uint256 active) {
        for (uint256 ji; ji < jobs.length; ++ji) {
            (, IJobTypes.JobStatus status,) = ledger.jobState(jobs[ji].id);
            if (status == IJobTypes.JobStatus.Active) ++active;
        }
    }

    function _params(JobInfo memory j, uint16 auditBps) internal pure returns (IJobTypes.JobParams memory p) {
        p.kind = IJobTypes.JobKind.Sft;
        p.numRounds = j.rounds;
        p.slotsPerRound = j.slots;
        p.intervalsPerSlot = INTERVALS;
        p.sampledIntervals = SAMPLED;
        p.auditBps = auditBps;
        p.seatsPerAudit = SEATS;
        p.committeeSize = SEATS;
        p.minerSlashBps = MINER_SLASH_BPS;
        p.bountyBps = 5_000;
        p.minerReward = 5 ether;
        p.validatorReward = 1 ether;
        p.aggregatorReward = 3 ether;
        p.minerCollateral = COLLATERAL;
        p.validatorSlash = SEAT_SLASH;
        p.plantBond = (j.honestPlant || j.roguePlant) ? PLANT_BOND : 0;
        p.windows = _windows();
    }

    function _windows() internal pure returns (IJobTypes.Windows memory) {
        return IJobTypes.Windows({
            submitWindow: 10,
            seedDelay: SEED_DELAY,
            checkpointRevealWindow: 6,
            commitWindow: COMMIT_WINDOW,
            revealWindow: 6,
            unsealWindow: 6,
            roundClaimWindow: 20
        });
    }

    function _plantSalt(uint256 jobIndex, bool rogue) internal pure returns (bytes32) {
        return keccak256(abi.encode("plant salt", jobIndex, rogue));
    }

    /// @dev OpenZeppelin's Merkle tree of one or two (already double-hashed) leaves.
    function _plantRoot(bytes32 a, bytes32 b) internal pure returns (bytes32) {
        if (a == 0) return b;
        if (b == 0) return a;
        return a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
    }

    function jobCount() external view returns (uint256) {
        return jobs.length;
    }

    function jobIdAt(uint256 i) external view returns (uint256) {
        return jobs[i].id;
    }

    function subjectCount() external view returns (uint256) {
        return keys.length;
    }

    function subjectAt(uint256 i) external view returns (uint256 jobId, uint16 round, uint16 slot, address miner) {
        Sub storage x = subs[keys[i]];
        return (jobs[x.job].id, x.round, x.slot, x.miner);
    }

    // ================================================================ miners

    /// @notice A miner claims a work slot of a job's open round and submits: honest miners (and the honest sentinel,
    /// on its planted slot: wrong work it will unseal) commit correct work and always reveal; the cheater, the
    /// miner-validator and the unbonder (which unbonds all its free stake right after claiming) commit wrong work
    /// and reveal unless `withhold`; the rogue sentinel commits correct work on its planted slot and reveals.
    /// Sometimes (bits of `minerSeed`) the keeper then misses the submission's first seed try (a forced audit), or
    /// all three (nothing can be checked: Unverified).
    function claimAndSubmit(uint256 jobSeed, uint256 slotSeed, uint256 minerSeed, bool withhold) external tracked {
        ++calls["claimAndSubmit"];
        if (jobs.length == 0) return;
        uint256 ji = jobSeed % jobs.length;
        (, IJobTypes.JobStatus status, uint16 round) = ledger.jobState(jobs[ji].id);
        if (status != IJobTypes.JobStatus.Active) return;
        Work memory w = _chooseWork(ji, round, slotSeed, minerSeed);
        if (w.miner == address(0) || !_claim(jobs[ji].id, round, w.slot, w.miner)) return;
        if (w.miner == unbonder) {
            uint256 free = stakes.freeStakeOf(unbonder);
            if (free != 0) {
                vm.prank(unbonder);
                stakes.requestUnbond(free);
            }
        }
        w.reveals = isHonest[w.miner] || w.miner == rogueSentinel || !withhold;
        _submitWork(ji, round, w);
        uint256 hide = (minerSeed >> 8) % 8;
        if (hide == 7) _advance(3 * SEED_DELAY + 1, false);
        else if (hide >= 5) _advance(SEED_DELAY + 1, false);
    }

    /// @dev Who works on which slot, and what they know about it.
    struct Work {
        address miner;
        uint16 slot;
        bool wrong;
        bool reveals;
        bytes32 plantSalt;
        bytes32 plantSibling;
    }

    function _chooseWork(uint256 ji, uint16 round, uint256 slotSeed, uint256 minerSeed)
        internal
        view
        returns (Work memory w)
    {
        JobInfo storage j = jobs[ji];
        uint256 who = minerSeed % 7;
        w.slot = uint16(slotSeed % j.slots);
        // A sponsor's sentinel claims its planted slot as soon as it can: whoever picks a planted slot finds the
        // sentinel there first.
        if (j.honestPlant && j.hRound == round && j.hSlot == w.slot) who = 5;
        else if (j.roguePlant && j.rRound == round && j.rSlot == w.slot) who = 6;
        if (who < 2) {
            w.miner = honestMiners[who];
        } else if (who == 2) {
            w.miner = cheater;
        } else if (who == 3) {
            w.miner = unbonder;
        } else if (who == 4) {
            w.miner = minerValidator;
        } else if (who == 5) {
            if (!j.honestPlant || j.hRound != round) return w;
            (w.miner, w.slot, w.plantSalt, w.plantSibling) = (honestSentinel, j.hSlot, _plantSalt(ji, false), j.rLeaf);
        } else {
            if (!j.roguePlant || j.rRound != round) return w;
            (w.miner, w.slot, w.plantSalt, w.plantSibling) = (rogueSentinel, j.rSlot, _plantSalt(ji, true), j.hLeaf);
        }
        // The honest sentinel's plant is wrong work by design; the rogue sentinel's "plant" is correct work.
        w.wrong = w.miner == cheater || w.miner == unbonder || w.miner == minerValidator || w.miner == honestSentinel;
    }

    /// @dev Records the subject's truth and submits the miner's commitment to it.
    function _submitWork(uint256 ji, uint16 round, Work memory w) internal {
        uint256 jobId = jobs[ji].id;
        bytes32 k = ledger.subjectKey(jobId, round, w.slot);
        Sub storage x = subs[k];
        x.job = ji;
        x.round = round;
        x.slot = w.slot;
        x.miner = w.miner;
        x.wrong = w.wrong;
        x.variant = keccak256(abi.encode(w.wrong ? "wrong" : "right", k));
        x.reveals = w.reveals;
        x.plantSalt = w.plantSalt;
        x.plantSibling = w.plantSibling;
        bytes32 root = WorkFixtures.root(WorkFixtures.leaves(jobId, round, w.slot, w.miner, x.variant));
        vm.prank(w.miner);
        ledger.submit(jobId, round, w.slot, "bafy-bundle", WorkFixtures.ckptDigest(x.variant, INTERVALS), root);
    }

    /// @notice An attacker claims a work slot and never submits (its collateral answers for the slot).
    function claimAndVanish(uint256 jobSeed, uint256 slotSeed, uint256 minerSeed) external tracked {
        ++calls["claimAndVanish"];
        if (jobs.length == 0) return;
        uint256 ji = jobSeed % jobs.length;
        JobInfo storage j = jobs[ji];
        (, IJobTypes.JobStatus status, uint16 round) = ledger.jobState(j.id);
        if (status != IJobTypes.JobStatus.Active) return;
        address miner = minerSeed % 2 == 0 ? cheater : minerValidator;
        uint16 slot = uint16(slotSeed % j.slots);
        if (!_claim(j.id, round, slot, miner)) return;
        Sub storage x = subs[ledger.subjectKey(j.id, round, slot)];
        x.job = ji;
        x.round = round;
        x.slot = slot;
        x.miner = miner;
        x.wrong = true;
    }

    /// @notice Once every work slot of the open round settled, an aggregator claims the round's current aggregation
    /// slot: the honest aggregator submits the correct aggregate, the re-aggregator a wrong one.
    function aggregate(uint256 jobSeed, bool wrong) external tracked {
        ++calls["aggregate"];
        if (jobs.length == 0) return;
        _aggregate(jobSeed % jobs.length, wrong ? reaggregator : honestAggregator);
    }

    function _aggregate(uint256 ji, address who) internal returns (bool) {
        JobInfo storage j = jobs[ji];
        (, IJobTypes.JobStatus status, uint16 round) = ledger.jobState(j.id);
        if (status != IJobTypes.JobStatus.Active) return false;
        ILedgerTypes.Round memory r = ledger.roundOf(j.id, round);
        if (r.settledSlots < j.slots) return false;
        uint16 slot = j.slots + r.failedAggregates;
        if (!_claim(j.id, round, slot, who)) return false;
        bytes32 k = ledger.subjectKey(j.id, round, slot);
        Sub storage x = subs[k];
        x.job = ji;
        x.round = round;
        x.slot = slot;
        x.miner = who;
        x.wrong = who != honestAggregator;
        x.reveals = true;
        bytes32 digest =
            x.wrong ? keccak256(abi.encode("wrong aggregate", k)) : keccak256(abi.encode("aggregate", j.id, round));
        vm.prank(who);
        ledger.submit(j.id, round, slot, "bafy-aggregate", digest, bytes32(0));
        return true;
    }

    /// @dev Claims with enough free stake (tops the miner up first: a deposit like any other); records the subject.
    function _claim(uint256 jobId, uint16 round, uint16 slot, address miner) internal returns (bool) {
        IStakeManager.StakeInfo memory info = stakes.stakeOf(miner);
        if (info.staked < stakes.minMinerStake() + COLLATERAL || info.staked - info.locked < COLLATERAL) {
            _stakeFor(miner, 100 ether);
        }
        vm.prank(miner);
        try ledger.claimSlot(jobId, round, slot) {}
        catch {
            return false;
        }
        bytes32 k = ledger.subjectKey(jobId, round, slot);
        keys.push(k);
        _live.push(k);
        return true;
    }

    // ================================================================ time, and the honest duties

    /// @notice Time passes with every honest party diligent.
    function roll(uint256 blocks) external tracked {
        ++calls["roll"];
        _entropy = keccak256(abi.encode(_entropy, blocks));
        _advance(1 + blocks % 24, true);
    }

    /// @notice Time passes while the keeper is offline, at least past the next block whose randomness a subject
    /// needs (a seed try, a re-draw's or a committee's seed block): nothing is recorded, so seeds and panels are
    /// retried. Every other honest party stays diligent.
    function skipRandomness(uint256 blocks) external tracked {
        ++calls["skipRandomness"];
        uint256 span = 1 + blocks % 8;
        uint256 due = _nextRandomnessDue();
        if (due < block.number + 16 && due + 1 > block.number + span) span = due + 1 - block.number;
        _advance(span, false);
    }

    function _nextRandomnessDue() internal view returns (uint256 due) {
        due = type(uint256).max;
        for (uint256 i; i < _live.length; ++i) {
            Sub storage x = subs[_live[i]];
            ILedgerTypes.SubjectView memory v = _view(x);
            if (
                v.status != ILedgerTypes.SlotStatus.Submitted && v.status != ILedgerTypes.SlotStatus.CheckpointsRevealed
            ) {
                continue;
            }
            if (v.flags & FLAG_SEED_FAILED != 0) continue;
            uint256 b;
            if (v.flags & FLAG_SEED_KNOWN == 0) {
                b = _nextSeedTry(v.deadlineOrSubmittedAt);
            } else {
                bool panelsRun = v.flags & FLAG_AUDITED != 0
                    && (x.slot >= jobs[x.job].slots || v.status == ILedgerTypes.SlotStatus.CheckpointsRevealed);
                if (!panelsRun) continue;
                (ILedgerTypes.Timeline memory t,,) = _effective(v, true);
                b = _contested(v) ? t.committeeSeedBlock : uint256(t.revealEnd) + SEED_DELAY;
            }
            if (b >= block.number && b < due) due = b;
        }
    }

    function _advance(uint256 blocks, bool keeperOnline) internal {
        uint256 target = block.number + blocks;
        uint256 next = _duties();
        while (block.number < target) {
            uint256 stop = next < target ? next : target;
            if (stop > block.number + MAX_STRIDE) stop = block.number + MAX_STRIDE;
            if (stop <= block.number) stop = block.number + 1;
            vm.roll(stop);
            if (keeperOnline) _recordRandomness();
            next = _duties();
        }
    }

    function _recordRandomness() internal {
        vm.prevrandao(keccak256(abi.encode(_entropy, block.number)));
        ledger.recordRandomness();
    }

    /// @dev Every honest duty due now, for every live subject; returns the next block at which one may be due.
    function _duties() internal returns (uint256 next) {
        next = type(uint256).max;
        for (uint256 i; i < _live.length;) {
            (uint256 due, bool done) = _dutiesFor(_live[i]);
            if (done) {
                _live[i] = _live[_live.length - 1];
                _live.pop();
                continue;
            }
            if (due < next) next = due;
            ++i;
        }
    }

    function _view(Sub storage x) internal view returns (ILedgerTypes.SubjectView memory) {
        return lens.subjectOf(jobs[x.job].id, x.round, x.slot);
    }

    function _dutiesFor(bytes32 k) internal returns (uint256 next, bool done) {
        Sub storage x = subs[k];
        ILedgerTypes.SubjectView memory v = _view(x);
        if (v.status == ILedgerTypes.SlotStatus.Claimed) return (v.deadlineOrSubmittedAt + 1, false);
        if (v.status != ILedgerTypes.SlotStatus.Submitted && v.status != ILedgerTypes.SlotStatus.CheckpointsRevealed) {
            return (type(uint256).max, true);
        }
        uint256 submittedAt = v.deadlineOrSubmittedAt;
        if (v.flags & (FLAG_SEED_KNOWN | FLAG_SEED_FAILED) == 0 && block.number > submittedAt + SEED_DELAY) {
            try ledger.recordSeed(jobs[x.job].id, x.round, x.slot) {} catch {}
            v = _view(x);
            if (v.flags & FLAG_SEED_KNOWN != 0 && v.seedAttempt != 0) ++ghostSeedRetries;
        }
        if (v.flags & FLAG_SEED_FAILED != 0) return (type(uint256).max, false);
        if (v.flags & FLAG_SEED_KNOWN == 0) return (_nextSeedTry(submittedAt), false);
        bool isAggregate = x.slot >= jobs[x.job].slots;
        bool audited = v.flags & FLAG_AUDITED != 0;
        if (audited && !isAggregate && v.status == ILedgerTypes.SlotStatus.Submitted && x.reveals) {
            if (block.number <= Timelines.compute(submittedAt, v.seedAttempt, 0, 0, _windows()).revealDeadline) {
                _revealCheckpoints(x);
                v = _view(x);
            }
        }
        bool panelsRun = audited && (isAggregate || v.status == ILedgerTypes.SlotStatus.CheckpointsRevealed);
        (ILedgerTypes.Timeline memory t, uint8 a, uint8 c) = _effective(v, panelsRun);
        if (panelsRun) {
            _panel(k, x, v, ILedgerTypes.Panel.Audit, a, t.panelSeedBlock, t.commitEnd, t.revealEnd);
            v = _view(x);
            if (block.number > t.unsealEnd && _contested(v)) {
                _panel(
                    k,
                    x,
                    v,
                    ILedgerTypes.Panel.Committee,
                    c,
                    t.committeeSeedBlock,
                    t.disputeCommitEnd,
                    t.disputeRevealEnd
                );
            }
        }
        _unseal(x, v, t);
        return (_nextFrom(t), false);
    }

    function _effective(ILedgerTypes.SubjectView memory v, bool panelsRun)
        internal
        view
        returns (ILedgerTypes.Timeline memory, uint8, uint8)
    {
        Timelines.Progress memory progress = Timelines.Progress({
            submittedAt: v.deadlineOrSubmittedAt,
            seedAttempt: v.seedAttempt,
            panelsRun: panelsRun,
            auditAttempt: v.auditAttempt,
            auditTallied: uint256(v.auditPass) + v.auditFail != 0,
            committeeAttempt: v.committeeAttempt,
            committeeTallied: uint256(v.committeePass) + v.committeeFail != 0
        });
        return Timelines.effective(progress, block.number, _windows());
    }

    function _contested(ILedgerTypes.SubjectView memory v) internal pure returns (bool) {
        return v.flags & FLAG_PLANTED != 0 ? v.auditPass != 0 : v.auditFail != 0;
    }

    function _nextSeedTry(uint256 submittedAt) internal view returns (uint256 next) {
        next = type(uint256).max;
        for (uint256 k; k < Timelines.MAX_SEED_ATTEMPTS; ++k) {
            next = _earliest(next, submittedAt + SEED_DELAY * (k + 1));
        }
    }

    /// @dev The next block after now at which something of this timeline starts (its randomness blocks, the first
    /// block of each window, the next attempts' seed blocks).
    function _nextFrom(ILedgerTypes.Timeline memory t) internal view returns (uint256 next) {
        next = type(uint256).max;
        next = _earliest(next, t.revealDeadline);
        next = _earliest(next, t.panelSeedBlock);
        next = _earliest(next, t.commitEnd);
        next = _earliest(next, t.revealEnd);
        next = _earliest(next, uint256(t.revealEnd) + SEED_DELAY);
        next = _earliest(next, t.unsealEnd);
        next = _earliest(next, t.committeeSeedBlock);
        next = _earliest(next, t.disputeCommitEnd);
        next = _earliest(next, t.disputeRevealEnd);
        next = _earliest(next, uint256(t.disputeRevealEnd) + SEED_DELAY);
    }

    /// @dev min(next, b or b + 1, whichever is the first after now): randomness is recorded at b, the duties it
    /// enables run at b + 1.
    function _earliest(uint256 next, uint256 b) internal view returns (uint256) {
        uint256 candidate = b > block.number ? b : b + 1 > block.number ? b + 1 : type(uint256).max;
        return candidate < next ? candidate : next;
    }

    /// @dev A reveal that fails leaves the miner to be settled RejectedWithheld: for an honest miner, the
    /// honest-stake invariant reports it.
    function _revealCheckpoints(Sub storage x) internal {
        JobInfo storage j = jobs[x.job];
        uint32[] memory sampled = lens.sampledIntervals(j.id, x.round, x.slot);
        bytes32[4] memory l = WorkFixtures.leaves(j.id, x.round, x.slot, x.miner, x.variant);
        ILedgerTypes.Boundary[] memory b = new ILedgerTypes.Boundary[](2 * sampled.length);
        string[] memory cids = new string[](2 * sampled.length);
        for (uint256 s; s < sampled.length; ++s) {
            for (uint256 e; e < 2; ++e) {
                uint256 i = sampled[s] + e;
                b[2 * s + e] = ILedgerTypes.Boundary(
                    uint32(i),
                    WorkFixtures.ckptDigest(x.variant, i),
                    WorkFixtures.traceDigest(x.variant, i),
                    WorkFixtures.proof(l, i)
                );
                cids[2 * s + e] = "bafy-ckpt";
            }
        }
        ILedgerTypes.Commitment memory c = ILedgerTypes.Commitment(
            keccak256(bytes("bafy-bundle")), WorkFixtures.ckptDigest(x.variant, INTERVALS), WorkFixtures.root(l)
        );
        vm.prank(x.miner);
        try ledger.revealCheckpoints(j.id, x.round, x.slot, c, b, cids) {} catch {}
    }

    /// @dev Draws the panel's current attempt when it can be drawn, then every seat holder acts on its policy.
    function _panel(
        bytes32 k,
        Sub storage x,
        ILedgerTypes.SubjectView memory v,
        ILedgerTypes.Panel panel,
        uint8 attempt,
        uint256 seedBlock,
        uint256 commitEnd,
        uint256 revealEnd
    ) internal {
        uint256 nowB = block.number;
        if (nowB > revealEnd) return;
        uint8 drawn = panel == ILedgerTypes.Panel.Audit ? v.auditDrawn : v.committeeDrawn;
        if (drawn <= attempt) {
            // Keepers the attacker stalled (lateDraw) leave this panel undrawn until the attacker moves.
            if (_drawsStalled || k == _drawStalledFor) return;
            bool seeded = (panel == ILedgerTypes.Panel.Audit && attempt == 0) || ledger.randomnessAt(seedBlock) != 0;
            if (nowB <= seedBlock || nowB > Timelines.drawDeadline(commitEnd, COMMIT_WINDOW) || !seeded) return;
            try ledger.drawSeats(jobs[x.job].id, x.round, x.slot, panel) {
                _checkDrawTime(k, panel);
                if (attempt != 0) ++ghostRedraws;
                if (panel == ILedgerTypes.Panel.Committee) ++ghostCommittees;
            } catch {
                return;
            }
        }
        for (uint256 i; i < SEATS; ++i) {
            uint8 n = uint8(uint256(attempt) * SEATS + i);
            ILedgerTypes.Seat memory seat = ledger.seatOf(k, panel, n);
            if (seat.flags == SeatFlags.DRAWN && nowB <= commitEnd) _commit(k, x, panel, n, seat.validator);
            else if (seat.flags == SeatFlags.DRAWN | SeatFlags.COMMITTED && nowB > commitEnd) _reveal(k, x, panel, n);
        }
    }

    function _commit(bytes32 k, Sub storage x, ILedgerTypes.Panel panel, uint8 n, address who) internal {
        Policy policy = isHonest[who] ? Policy.Honest : policyOf[who];
        if (policy == Policy.Silent) return;
        ILedgerTypes.Verdict verdict;
        if (policy == Policy.Honest) verdict = x.wrong ? ILedgerTypes.Verdict.Fail : ILedgerTypes.Verdict.Pass;
        else if (policy == Policy.LazyPass || policy == Policy.CommitOnly) verdict = ILedgerTypes.Verdict.Pass;
        else if (policy == Policy.AlwaysFail) verdict = ILedgerTypes.Verdict.Fail;
        else verdict = x.wrong ? ILedgerTypes.Verdict.Pass : ILedgerTypes.Verdict.Fail;
        bytes32 seatKey = keccak256(abi.encode(k, panel, n));
        bytes32 h = lens.verdictCommitment(k, panel, n, verdict, EVIDENCE, seatKey, who);
        _committed[seatKey] = verdict;
        _willReveal[seatKey] = policy != Policy.CommitOnly;
        // A commit that fails leaves the seat silent: for an honest validator, the honest-stake invariant reports it.
        vm.prank(who);
        try ledger.commitVerdict(jobs[x.job].id, x.round, x.slot, panel, n, h) {} catch {}
    }

    function _reveal(bytes32 k, Sub storage x, ILedgerTypes.Panel panel, uint8 n) internal {
        bytes32 seatKey = keccak256(abi.encode(k, panel, n));
        if (!_willReveal[seatKey]) return;
        ILedgerTypes.VerdictReveal memory r =
            ILedgerTypes.VerdictReveal(_committed[seatKey], EVIDENCE, seatKey, "bafy-evidence");
        try ledger.revealVerdict(jobs[x.job].id, x.round, x.slot, panel, n, r) {} catch {}
    }

    /// @dev The sentinel unseals its planted slot once the audit reveals are over, within the unseal window.
    function _unseal(Sub storage x, ILedgerTypes.SubjectView memory v, ILedgerTypes.Timeline memory t) internal {
        if (x.plantSalt == 0 || v.flags & FLAG_PLANTED != 0) return;
        if (block.number <= t.revealEnd || block.number > t.unsealEnd) return;
        bytes32[] memory proof = new bytes32[](x.plantSibling == 0 ? 0 : 1);
        if (x.plantSibling != 0) proof[0] = x.plantSibling;
        vm.prank(x.miner);
        try ledger.unsealPlant(jobs[x.job].id, x.round, x.slot, x.plantSalt, proof) {} catch {}
    }

    // ================================================================ attacker validators

    /// @notice An attacker validator switches strategy.
    function setPolicy(uint256 who, uint256 policy) external tracked {
        ++calls["setPolicy"];
        policyOf[attackers[who % attackers.length]] = Policy(1 + policy % 5);
    }

    /// @dev A panel whose current attempt is not drawn yet, and the block its randomness comes from (the first audit
    /// panel draws from the audit seed itself, already public once the seed block passed).
    struct PendingDraw {
        bytes32 key;
        ILedgerTypes.Panel panel;
        uint8 attempt;
        uint256 seedBlock;
        bytes32 auditSeed;
        uint256 commitEnd;
    }

    /// @notice An attacker waits for a panel's randomness to be public (the seed block's randomness is recorded),
    /// then registers, deregisters, tops up, unbonds or withdraws one of its validator accounts before anyone draws.
    /// The panel is then drawn, and compared with the draw predicted from the snapshot before the move: a move that
    /// leaves the mover's eligibility unchanged must change nothing; one that flips it may seat or unseat the mover
    /// itself and nobody else.
    function sybilMove(uint256 who, uint256 move, uint256 amount, uint256 subjectSeed) external tracked {
        ++calls["sybilMove"];
        address mover = attackers[who % attackers.length];
        (bool found, PendingDraw memory d) = _pendingDraw(subjectSeed);
        // Diligent keepers draw the moment they can, so a panel is pending only while its seed block is ahead (a
        // committee, a re-draw): the attacker waits for one, block by block, for a while.
        for (uint256 i; !found && i < 24 && _live.length != 0; ++i) {
            _advance(1, true);
            (found, d) = _pendingDraw(subjectSeed);
        }
        if (found && block.number < d.seedBlock) _advance(d.seedBlock - block.number, true);
        address[] memory predicted;
        if (found) (found, predicted) = _predict(d);
        bool eligibleBefore = stakes.atRiskOf(mover) >= SEAT_SLASH;
        _sybilAct(mover, move % 5, amount);
        if (!found) return;
        ++ghostPostSeedMoves;
        bool eligibleAfter = stakes.atRiskOf(mover) >= SEAT_SLASH;
        if (block.number == d.seedBlock) {
            vm.roll(block.number + 1);
            _recordRandomness();
        }
        _duties(); // the honest keepers draw (and reveal checkpoints first where needed)
        _compareDraw(d, predicted, mover, eligibleBefore, eligibleAfter);
    }

    /// @notice The rich attacker splits its capital over one more validator account (up to MAX_SYBILS in all):
    /// staked at the validator minimum or a little more, registered at once or kept pre-staked for a post-seed move.
    /// Draws are stake-weighted, so the split buys no more seats than the same stake in one account.
    function spawnSybil(uint256 amount, bool registerNow) external tracked {
        ++calls["spawnSybil"];
        if (sybils.length >= MAX_SYBILS) return;
        address s = _actor(string.concat("sybil ", vm.toString(sybils.length)), false);
        _stakeFor(s, stakes.minValidatorStake() + amount % 100 ether);
        sybils.push(s);
        attackers.push(s);
        policyOf[s] = Policy.Invert;
        isValidatorActor[s] = true;
        if (registerNow) _register(s, Policy.Invert);
    }

    function sybilCount() external view returns (uint256) {
        return sybils.length;
    }

    function attackerCount() external view returns (uint256) {
        return attackers.length;
    }

    /// @notice A keeper the attacker controls (or one it stalls) draws panels late, after their draw deadline, to
    /// leave the drawn seats no time to commit (silence is slashed). Honest keepers leave one pending panel undrawn
    /// until a block between its deadline and the end of its commits (or, with none pending now, leave every panel
    /// undrawn for a while), then the attacker draws every panel it can. The ledger must refuse each late draw with
    /// LedgerDeadlinePassed(subject, drawEnd, block); the attempt then ends without a verdict and the next one is
    /// drawn from its own seed, so nobody honest is slashed for a silence it could not avoid.
    function lateDraw(uint256 subjectSeed, uint256 lateBy) external tracked {
        ++calls["lateDraw"];
        (bool found, PendingDraw memory d) = _pendingDraw(subjectSeed);
        if (found) {
            uint256 drawEnd = Timelines.drawDeadline(d.commitEnd, COMMIT_WINDOW);
            _drawStalledFor = d.key;
            _advance(drawEnd + 1 + lateBy % (d.commitEnd - drawEnd) - block.number, true);
            _drawStalledFor = bytes32(0);
        } else {
            // Block by block, until some panel is undrawn past its deadline (or the attacker gives up).
            _drawsStalled = true;
            for (uint256 i; i < 1 + lateBy % 24 && !_anyLateDrawable(); ++i) {
                _advance(1, true);
            }
            _drawsStalled = false;
        }
        for (uint256 i; i < _live.length; ++i) {
            _tryLateDraw(_live[i], ILedgerTypes.Panel.Audit);
            _tryLateDraw(_live[i], ILedgerTypes.Panel.Committee);
        }
        _duties();
    }

    function _anyLateDrawable() internal view returns (bool) {
        for (uint256 i; i < _live.length; ++i) {
            (bool audit,) = _lateDrawable(_live[i], ILedgerTypes.Panel.Audit);
            (bool committee,) = _lateDrawable(_live[i], ILedgerTypes.Panel.Committee);
            if (audit || committee) return true;
        }
        return false;
    }

    /// @dev Whether the subject's current attempt of `panel` is due, undrawn, and past its draw deadline (but not
    /// past its commits), and that deadline.
    function _lateDrawable(bytes32 k, ILedgerTypes.Panel panel) internal view returns (bool, uint256 drawEnd) {
        Sub storage x = subs[k];
        ILedgerTypes.SubjectView memory v = _view(x);
        if (v.status != ILedgerTypes.SlotStatus.Submitted && v.status != ILedgerTypes.SlotStatus.CheckpointsRevealed) {
            return (false, 0);
        }
        bool panelsRun = v.flags & FLAG_AUDITED != 0
            && (x.slot >= jobs[x.job].slots || v.status == ILedgerTypes.SlotStatus.CheckpointsRevealed);
        if (!panelsRun) return (false, 0);
        (ILedgerTypes.Timeline memory t, uint8 a, uint8 c) = _effective(v, true);
        bool audit = panel == ILedgerTypes.Panel.Audit;
        if (!audit && (!_contested(v) || block.number <= t.unsealEnd)) return (false, 0);
        if ((audit ? v.auditDrawn : v.committeeDrawn) > (audit ? a : c)) return (false, 0);
        uint256 commitEnd = audit ? t.commitEnd : t.disputeCommitEnd;
        drawEnd = Timelines.drawDeadline(commitEnd, COMMIT_WINDOW);
        return (block.number > drawEnd && block.number <= commitEnd, drawEnd);
    }

    /// @dev The attacker draws the subject's current attempt of `panel` if it is undrawn and past its draw deadline.
    function _tryLateDraw(bytes32 k, ILedgerTypes.Panel panel) internal {
        (bool late, uint256 drawEnd) = _lateDrawable(k, panel);
        if (!late) return;
        Sub storage x = subs[k];
        try ledger.drawSeats(jobs[x.job].id, x.round, x.slot, panel) {
            _checkDrawTime(k, panel);
        } catch (bytes memory reason) {
            bytes memory expected =
                abi.encodeWithSelector(ILedgerTypes.LedgerDeadlinePassed.selector, k, drawEnd, block.number);
            if (keccak256(reason) == keccak256(expected)) ++ghostLateDrawsRefused;
        }
    }

    /// @dev Every seat of a panel drawn now must keep at least half its commit window (checked on every draw, the
    /// honest keepers' included): a later draw is the late-draw attack getting through. Reads the attempt the
    /// ledger says it just drew, whichever the handler expected.
    function _checkDrawTime(bytes32 k, ILedgerTypes.Panel panel) internal {
        ILedgerTypes.SubjectView memory v = _view(subs[k]);
        uint8 drawn = panel == ILedgerTypes.Panel.Audit ? v.auditDrawn : v.committeeDrawn;
        ILedgerTypes.Seat memory seat = ledger.seatOf(k, panel, uint8((uint256(drawn) - 1) * SEATS));
        if (seat.flags == 0) return; // nobody eligible: no seat to keep a window for
        if (block.number > Timelines.drawDeadline(seat.commitEnd, COMMIT_WINDOW)) ++ghostLateDrawsAccepted;
    }

    /// @notice Anyone (a cheating miner on its own work, a griefer on honest work, a miner that took the sponsor's
    /// planted slot) tries to have a submission that is no plant unsealed as one, inside the unseal window (F-01):
    /// with a salt of its choosing and no proof, and with each of the job's real plant salts and proofs (bound to
    /// another slot or another sentinel). Every attempt must fail; a plant opens only for its sealed sentinel.
    function selfSeal(uint256 subjectSeed, uint256 saltSeed) external tracked {
        ++calls["selfSeal"];
        if (_live.length == 0) return;
        bytes32 k = _live[subjectSeed % _live.length];
        Sub storage x = subs[k];
        if (x.plantSalt != 0) return; // the sentinels' own plants open in _unseal
        ILedgerTypes.SubjectView memory v = _view(x);
        if (v.flags & FLAG_SEED_KNOWN == 0) return;
        if (v.status != ILedgerTypes.SlotStatus.Submitted && v.status != ILedgerTypes.SlotStatus.CheckpointsRevealed) {
            return;
        }
        bool panelsRun = v.flags & FLAG_AUDITED != 0
            && (x.slot >= jobs[x.job].slots || v.status == ILedgerTypes.SlotStatus.CheckpointsRevealed);
        (ILedgerTypes.Timeline memory t,,) = _effective(v, panelsRun);
        if (block.number <= t.revealEnd) _advance(t.revealEnd + 1 - block.number, true);
        v = _view(x);
        if (v.status != ILedgerTypes.SlotStatus.Submitted && v.status != ILedgerTypes.SlotStatus.CheckpointsRevealed) {
            return;
        }
        (t,,) = _effective(v, panelsRun);
        if (block.number <= t.revealEnd || block.number > t.unsealEnd) return;
        JobInfo storage j = jobs[x.job];
        bytes32[] memory none = new bytes32[](0);
        bytes32[] memory withRogue = new bytes32[](1);
        withRogue[0] = j.rLeaf;
        bytes32[] memory withHonest = new bytes32[](1);
        withHonest[0] = j.hLeaf;
        _tryForeignUnseal(x, keccak256(abi.encode(saltSeed)), none);
        _tryForeignUnseal(x, _plantSalt(x.job, false), j.rLeaf == 0 ? none : withRogue);
        _tryForeignUnseal(x, _plantSalt(x.job, true), j.hLeaf == 0 ? none : withHonest);
    }

    function _tryForeignUnseal(Sub storage x, bytes32 salt, bytes32[] memory proof) internal {
        vm.prank(x.miner);
        try ledger.unsealPlant(jobs[x.job].id, x.round, x.slot, salt, proof) {
            ++ghostForeignUnseals;
        } catch (bytes memory reason) {
            bytes32 key = ledger.subjectKey(jobs[x.job].id, x.round, x.slot);
            bytes memory expected = abi.encodeWithSelector(ILedgerTypes.LedgerPlantMismatch.selector, key, x.miner);
            if (keccak256(reason) == keccak256(expected)) ++ghostSelfSealsRefused;
        }
    }

    function _sybilAct(address mover, uint256 move, uint256 amount) internal {
        IStakeManager.StakeInfo memory info = stakes.stakeOf(mover);
        if (move == 0 && !info.registered && info.staked >= stakes.minValidatorStake()) {
            vm.prank(mover);
            stakes.registerValidator(new uint32[](0));
        } else if (move == 1 && info.registered) {
            vm.prank(mover);
            stakes.deregisterValidator();
        } else if (move == 2) {
            _stakeFor(mover, 1 + amount % 200 ether);
        } else if (move == 3 && info.staked > info.locked) {
            vm.prank(mover);
            stakes.requestUnbond(1 + amount % (info.staked - info.locked));
        } else if (move == 4) {
            vm.prank(mover);
            try stakes.withdraw() {} catch {}
        }
    }

    function _pendingDraw(uint256 seed) internal view returns (bool, PendingDraw memory d) {
        uint256 n = _live.length;
        for (uint256 i; i < n; ++i) {
            bytes32 k = _live[(seed % n + i) % n];
            Sub storage x = subs[k];
            ILedgerTypes.SubjectView memory v = _view(x);
            if (v.flags & FLAG_SEED_KNOWN == 0 || v.flags & FLAG_AUDITED == 0) continue;
            bool isAggregate = x.slot >= jobs[x.job].slots;
            // Work whose miner is about to reveal its checkpoints: the audit seed is public, the panel not drawn.
            bool aboutToReveal = v.status == ILedgerTypes.SlotStatus.Submitted && x.reveals;
            if (!isAggregate && v.status != ILedgerTypes.SlotStatus.CheckpointsRevealed && !aboutToReveal) continue;
            (ILedgerTypes.Timeline memory t, uint8 a, uint8 c) = _effective(v, !aboutToReveal || isAggregate);
            if (v.auditDrawn <= a && block.number <= Timelines.drawDeadline(t.commitEnd, COMMIT_WINDOW)) {
                if (aboutToReveal && !isAggregate && block.number > t.revealDeadline) continue;
                return (
                    true,
                    PendingDraw(
                        k, ILedgerTypes.Panel.Audit, a, t.panelSeedBlock, a == 0 ? v.auditSeed : bytes32(0), t.commitEnd
                    )
                );
            }
            if (
                _contested(v) && v.committeeDrawn <= c
                    && block.number <= Timelines.drawDeadline(t.disputeCommitEnd, COMMIT_WINDOW)
            ) {
                return (
                    true,
                    PendingDraw(
                        k, ILedgerTypes.Panel.Committee, c, t.committeeSeedBlock, bytes32(0), t.disputeCommitEnd
                    )
                );
            }
        }
        return (false, d);
    }

    /// @dev The draw the ledger will make, read from the same snapshot before the attacker moves.
    function _predict(PendingDraw memory d) internal view returns (bool, address[] memory drawn) {
        bytes32 randomness = d.auditSeed != 0 ? d.auditSeed : ledger.randomnessAt(d.seedBlock);
        if (randomness == 0) return (false, drawn);
        Sub storage x = subs[d.key];
        bytes32 panelSeed = Sampling.panelSeed(randomness, d.key, uint8(d.panel), d.attempt);
        drawn = stakes.drawValidators(stakes.epochOf(d.seedBlock), panelSeed, SEATS, x.miner, SEAT_SLASH);
        return (true, drawn);
    }

    function _compareDraw(
        PendingDraw memory d,
        address[] memory predicted,
        address mover,
        bool eligibleBefore,
        bool eligibleAfter
    ) internal {
        (bool drawn, address[] memory actual) = _drawnSeats(d);
        if (!drawn) return; // not drawn (its window passed, or nothing to draw)
        uint256 count = actual.length;
        bool same = count == predicted.length;
        for (uint256 i; same && i < count; ++i) {
            same = actual[i] == predicted[i];
        }
        if (same) return;
        if (eligibleBefore == eligibleAfter) {
            ++ghostSteeredDraws; // nothing the draw reads changed, yet the panel did
            return;
        }
        ++ghostEligibilityFlips;
        ++ghostPanelsChangedByAMover;
        // Seated: the new panel is the old one with the mover in and the last seat out. Unseated: the old panel
        // without the mover, refilled from later tries. Either way, nobody else was moved in or out arbitrarily.
        if (eligibleAfter) {
            for (uint256 i; i < count; ++i) {
                if (actual[i] != mover && !_contains(predicted, predicted.length, actual[i])) ++ghostSteeredDraws;
            }
        } else {
            for (uint256 i; i < predicted.length; ++i) {
                if (predicted[i] != mover && !_contains(actual, count, predicted[i])) ++ghostSteeredDraws;
            }
        }
    }

    function _drawnSeats(PendingDraw memory d) internal view returns (bool drawn, address[] memory actual) {
        ILedgerTypes.SubjectView memory v = _view(subs[d.key]);
        uint8 drawnAttempts = d.panel == ILedgerTypes.Panel.Audit ? v.auditDrawn : v.committeeDrawn;
        if (drawnAttempts <= d.attempt) return (false, actual);
        actual = new address[](SEATS);
        uint256 count;
        for (uint256 i; i < SEATS; ++i) {
            ILedgerTypes.Seat memory seat = ledger.seatOf(d.key, d.panel, uint8(uint256(d.attempt) * SEATS + i));
            if (seat.flags != 0) actual[count++] = seat.validator;
        }
        assembly ("memory-safe") {
            mstore(actual, count)
        }
        return (true, actual);
    }

    function _contains(address[] memory list, uint256 length, address a) internal pure returns (bool) {
        for (uint256 i; i < length; ++i) {
            if (list[i] == a) return true;
        }
        return false;
    }

    // ================================================================ money moves of attackers and anyone

    function stakeMore(uint256 who, uint256 amount) external tracked {
        ++calls["stakeMore"];
        _stakeFor(_attackerAccount(who), 1 + amount % 300 ether);
    }

    function unbond(uint256 who, uint256 amount) external tracked {
        ++calls["unbond"];
        address a = _attackerAccount(who);
        uint256 free = stakes.freeStakeOf(a);
        if (free == 0) return;
        vm.prank(a);
        stakes.requestUnbond(1 + amount % free);
    }

    function withdraw(uint256 who) external tracked {
        ++calls["withdraw"];
        address a = accounts[who % accounts.length];
        vm.prank(a);
        try stakes.withdraw() {} catch {}
    }

    function claim(uint256 who) external tracked {
        ++calls["claim"];
        address a = accounts[who % accounts.length];
        vm.prank(a);
        try vault.claim() {} catch {}
    }

    function refundEscrow(uint256 jobSeed) external tracked {
        ++calls["refundEscrow"];
        if (jobs.length == 0) return;
        vm.prank(sponsor);
        try ledger.refundEscrow(jobs[jobSeed % jobs.length].id) {} catch {}
    }

    /// @dev Accounts whose stake the attacker controls (never an honest one: honest parties neither unbond nor move).
    function _attackerAccount(uint256 who) internal view returns (address) {
        uint256 i = who % (attackers.length + 4);
        if (i < attackers.length) return attackers[i];
        if (i == attackers.length) return cheater;
        if (i == attackers.length + 1) return unbonder;
        if (i == attackers.length + 2) return rogueSentinel;
        return reaggregator;
    }

    // ================================================================ settlement (anyone)

    function settleSubmission(uint256 subjectSeed) external tracked {
        ++calls["settleSubmission"];
        if (keys.length == 0) return;
        _settleSubmission(keys[subjectSeed % keys.length]);
    }

    function settleSeat(uint256 subjectSeed, bool committee, uint256 seat) external tracked {
        ++calls["settleSeat"];
        if (keys.length == 0) return;
        ILedgerTypes.Panel panel = committee ? ILedgerTypes.Panel.Committee : ILedgerTypes.Panel.Audit;
        _settleSeat(keys[subjectSeed % keys.length], panel, uint8(seat % (3 * SEATS)));
    }

    function vacateSlot(uint256 jobSeed, uint256 slotSeed) external tracked {
        ++calls["vacateSlot"];
        if (jobs.length == 0) return;
        JobInfo storage j = jobs[jobSeed % jobs.length];
        (,, uint16 round) = ledger.jobState(j.id);
        _vacate(j.id, round, uint16(slotSeed % (j.slots + 2)));
    }

    /// @dev What a settled miner must lose, computed before settling: with a slashing outcome, exactly this slot's
    /// collateral plus minerSlashBps of its free and unbonding stake; otherwise nothing (the collateral unlocks).
    struct MinerBefore {
        uint256 bonded;
        uint256 locked;
        uint256 slice;
    }

    function _settleSubmission(bytes32 k) internal {
        Sub storage x = subs[k];
        JobInfo storage j = jobs[x.job];
        IStakeManager.StakeInfo memory info = stakes.stakeOf(x.miner);
        MinerBefore memory b = MinerBefore(
            uint256(info.staked) + info.unbonding,
            info.locked,
            (uint256(info.staked - info.locked) + info.unbonding) * MINER_SLASH_BPS / 10_000
        );
        (, IJobTypes.JobStatus statusBefore,) = ledger.jobState(j.id);
        try ledger.settleSubmission(j.id, x.round, x.slot) {}
        catch {
            return;
        }
        if (x.decided) ++ghostDoubleSettlements;
        x.decided = true;
        ILedgerTypes.SubjectView memory v = _view(x);
        ++ghostOutcomes[v.outcome];
        _checkMinerSlash(x.miner, v.outcome, b);
        _judge(k, x, v);
        if (x.captured && isHonest[x.miner]) _lossAllowedFor = x.miner;
        _checkHonestStakes();
        (, IJobTypes.JobStatus statusAfter,) = ledger.jobState(j.id);
        if (statusBefore == IJobTypes.JobStatus.Active && statusAfter == IJobTypes.JobStatus.Completed) {
            ++ghostCompletedJobs;
        }
        if (statusBefore == IJobTypes.JobStatus.Active && statusAfter == IJobTypes.JobStatus.Abandoned) {
            ++ghostAbandonedJobs;
        }
    }

    function _checkMinerSlash(address miner, ILedgerTypes.Outcome outcome, MinerBefore memory b) internal {
        IStakeManager.StakeInfo memory info = stakes.stakeOf(miner);
        uint256 taken = b.locked < COLLATERAL ? b.locked : COLLATERAL;
        bool slashes = outcome == ILedgerTypes.Outcome.RejectedCheat || outcome == ILedgerTypes.Outcome.RejectedWithheld
            || outcome == ILedgerTypes.Outcome.PlantRefuted;
        uint256 expectedLoss = slashes ? taken + b.slice : 0;
        if (uint256(info.staked) + info.unbonding + expectedLoss != b.bonded) ++ghostSliceMismatches;
        if (uint256(info.locked) + taken != b.locked) ++ghostSliceMismatches; // exactly this slot's collateral
    }

    /// @dev Whether the subject ended against its truth, and if so whether attackers (revealing the wrong side, or
    /// silent) held at least half of the deciding panel's drawn seats. An audited subject may end against the truth
    /// only that way; unaudited ones are the sampling's accepted risk and harm no honest party.
    function _judge(bytes32 k, Sub storage x, ILedgerTypes.SubjectView memory v) internal {
        ILedgerTypes.Outcome o = v.outcome;
        bool planted = v.flags & FLAG_PLANTED != 0;
        bool wrongOutcome;
        if (o == ILedgerTypes.Outcome.Unverified) {
            wrongOutcome = false;
        } else if (planted) {
            wrongOutcome = x.wrong ? o == ILedgerTypes.Outcome.PlantRefuted : o == ILedgerTypes.Outcome.RejectedPlanted;
        } else if (x.wrong) {
            wrongOutcome = o == ILedgerTypes.Outcome.Accepted;
        } else {
            wrongOutcome = o != ILedgerTypes.Outcome.Accepted;
        }
        x.wrongOutcome = wrongOutcome;
        if (!wrongOutcome) return;
        (uint256 drawn, uint256 honest) = _decidingPanel(k, v);
        x.captured = drawn != 0 && 2 * (drawn - honest) >= drawn;
        if (x.captured) ++ghostCaptured;
        else if (v.flags & FLAG_AUDITED != 0) ++ghostWrongWithoutCapture;
    }

    function _decidingPanel(bytes32 k, ILedgerTypes.SubjectView memory v)
        internal
        view
        returns (uint256 drawn, uint256 honest)
    {
        if (uint256(v.auditPass) + v.auditFail == 0) return (0, 0);
        bool committeeDecides = _contested(v) && uint256(v.committeePass) + v.committeeFail != 0;
        ILedgerTypes.Panel panel = committeeDecides ? ILedgerTypes.Panel.Committee : ILedgerTypes.Panel.Audit;
        uint256 attempt = committeeDecides ? v.committeeAttempt : v.auditAttempt;
        for (uint256 i; i < SEATS; ++i) {
            ILedgerTypes.Seat memory seat = ledger.seatOf(k, panel, uint8(attempt * SEATS + i));
            if (seat.flags == 0) continue;
            ++drawn;
            if (isHonest[seat.validator]) ++honest;
        }
    }

    function _settleSeat(bytes32 k, ILedgerTypes.Panel panel, uint8 n) internal {
        Sub storage x = subs[k];
        address holder = ledger.seatOf(k, panel, n).validator;
        try ledger.settleSeat(jobs[x.job].id, x.round, x.slot, panel, n) {}
        catch {
            return;
        }
        bytes32 seatKey = keccak256(abi.encode(k, panel, n));
        if (++seatSettlements[seatKey] > 1) ++ghostDoubleSettlements;
        if (x.captured && isHonest[holder]) _lossAllowedFor = holder;
        _checkHonestStakes();
    }

    function _vacate(uint256 jobId, uint16 round, uint16 slot) internal {
        (, IJobTypes.JobStatus statusBefore,) = ledger.jobState(jobId);
        try ledger.vacateSlot(jobId, round, slot) {}
        catch {
            return;
        }
        (, IJobTypes.JobStatus statusAfter,) = ledger.jobState(jobId);
        if (statusBefore == IJobTypes.JobStatus.Active && statusAfter == IJobTypes.JobStatus.Abandoned) {
            ++ghostAbandonedJobs;
        }
    }

    // ================================================================ the end of a run: every job must end

    /// @notice Drives time forward with diligent keepers for at most `steps` steps of `blocks` blocks: honest miners
    /// claim and do every open work slot, the honest aggregator aggregates correctly, anyone settles every
    /// submission and seat (losers first) and vacates what expired. Attackers keep their strategies. Returns
    /// whether everything ended: every job Completed or Abandoned, every subject settled or vacated, every seat
    /// settled.
    function finish(uint256 steps, uint256 blocks) external tracked returns (bool) {
        for (uint256 step; step < steps; ++step) {
            _driveJobs();
            _settleEverything();
            if (_allDone()) return true;
            _advance(blocks, true);
        }
        _settleEverything();
        return _allDone();
    }

    function _driveJobs() internal {
        for (uint256 ji; ji < jobs.length; ++ji) {
            JobInfo storage j = jobs[ji];
            (, IJobTypes.JobStatus status, uint16 round) = ledger.jobState(j.id);
            if (status != IJobTypes.JobStatus.Active) continue;
            for (uint16 slot; slot < j.slots; ++slot) {
                if (lens.subjectOf(j.id, round, slot).status != ILedgerTypes.SlotStatus.Open) continue;
                address miner = honestMiners[slot % 2];
                if (!_claim(j.id, round, slot, miner)) continue;
                _submitWork(ji, round, Work(miner, slot, false, true, bytes32(0), bytes32(0)));
            }
            _aggregate(ji, honestAggregator);
        }
    }

    function _settleEverything() internal {
        for (uint256 i; i < keys.length; ++i) {
            bytes32 k = keys[i];
            Sub storage x = subs[k];
            ILedgerTypes.SubjectView memory v = _view(x);
            if (v.status == ILedgerTypes.SlotStatus.Claimed) {
                _vacate(jobs[x.job].id, x.round, x.slot);
            } else if (
                v.status == ILedgerTypes.SlotStatus.Submitted || v.status == ILedgerTypes.SlotStatus.CheckpointsRevealed
            ) {
                _settleSubmission(k);
            }
            v = _view(x);
            if (v.outcome == ILedgerTypes.Outcome.None) continue;
            // Losers and silent seats first (winners wait for them), then winners.
            for (uint256 pass; pass < 2; ++pass) {
                for (uint8 panel; panel < 2; ++panel) {
                    for (uint8 n; n < 3 * SEATS; ++n) {
                        ILedgerTypes.Seat memory seat = ledger.seatOf(k, ILedgerTypes.Panel(panel), n);
                        if (seat.flags == 0 || seat.flags & SeatFlags.SETTLED != 0) continue;
                        bool winner = SeatFlags.revealed(seat.flags)
                            && (seat.flags & SeatFlags.PASS != 0) == _passWins(v.outcome);
                        if ((pass == 0) == winner) continue;
                        _settleSeat(k, ILedgerTypes.Panel(panel), n);
                    }
                }
            }
        }
        // Open slots whose claim window passed (a job the driver could not finish ends through them).
        for (uint256 ji; ji < jobs.length; ++ji) {
            JobInfo storage j = jobs[ji];
            (, IJobTypes.JobStatus status, uint16 round) = ledger.jobState(j.id);
            if (status != IJobTypes.JobStatus.Active) continue;
            ILedgerTypes.Round memory r = ledger.roundOf(j.id, round);
            if (r.settledSlots == j.slots) _vacate(j.id, round, j.slots + r.failedAggregates);
        }
    }

    function _passWins(ILedgerTypes.Outcome o) internal pure returns (bool) {
        return o == ILedgerTypes.Outcome.Accepted || o == ILedgerTypes.Outcome.PlantRefuted;
    }

    function _allDone() internal view returns (bool) {
        for (uint256 ji; ji < jobs.length; ++ji) {
            (, IJobTypes.JobStatus status,) = ledger.jobState(jobs[ji].id);
            if (status == IJobTypes.JobStatus.Active) return false;
        }
        for (uint256 i; i < keys.length; ++i) {
            if (!_subjectDone(keys[i])) return false;
        }
        return true;
    }

    /// @notice Whether a subject is settled (or vacated) and every seat drawn on it is settled.
    function subjectDone(uint256 i) external view returns (bool) {
        return _subjectDone(keys[i]);
    }

    function _subjectDone(bytes32 k) internal view returns (bool) {
        ILedgerTypes.SubjectView memory v = _view(subs[k]);
        if (v.status != ILedgerTypes.SlotStatus.Vacated && v.outcome == ILedgerTypes.Outcome.None) return false;
        for (uint8 panel; panel < 2; ++panel) {
            for (uint8 n; n < 3 * SEATS; ++n) {
                uint8 flags = ledger.seatOf(k, ILedgerTypes.Panel(panel), n).flags;
                if (flags != 0 && flags & SeatFlags.SETTLED == 0) return false;
            }
        }
        return true;
    }

    /// @notice After every job ended: the sponsor takes back every escrow and everyone claims what they are owed.
    function closeBooks() external tracked {
        for (uint256 ji; ji < jobs.length; ++ji) {
            vm.prank(sponsor);
            try ledger.refundEscrow(jobs[ji].id) {} catch {}
        }
        for (uint256 i; i < accounts.length; ++i) {
            if (vault.claimableOf(accounts[i]) == 0) continue;
            vm.prank(accounts[i]);
            vault.claim();
        }
    }
}
