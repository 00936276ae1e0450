// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ReentrancyGuardTransient as ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IJobTypes} from "./interfaces/IJobTypes.sol";
import {ILedgerTypes} from "./interfaces/ILedgerTypes.sol";
import {IRewardVault} from "./interfaces/IRewardVault.sol";
import {IStakeManager} from "./interfaces/IStakeManager.sol";
import {Outcomes} from "./libraries/Outcomes.sol";
import {Sampling} from "./libraries/Sampling.sol";
import {Timelines} from "./libraries/Timelines.sol";

/// @title LedgerStorage
/// @notice The work ledger's state and the helpers both of its halves use (WorkLedger and LedgerSettlement run on
/// this one storage; the settlement module only ever runs by delegatecall from the ledger). The layout is pinned:
/// LedgerLens decodes subject records through extsload from SUBJECTS_SLOT.
abstract contract LedgerStorage is IJobTypes, ILedgerTypes, ReentrancyGuard {
    // Subject flags.
    uint8 internal constant FLAG_PLANTED = 1;
    uint8 internal constant FLAG_SEED_KNOWN = 2;
    uint8 internal constant FLAG_AUDITED = 4;
    uint8 internal constant FLAG_SEED_FAILED = 8;

    /// @dev A round whose aggregates keep being rejected is abandoned after this many.
    uint16 internal constant MAX_FAILED_AGGREGATES = 8;

    enum SeedState {
        Known,
        Pending,
        Failed
    }

    /// @dev One slot's work. Field order packs the hot fields into few storage slots (see LedgerLens).
    struct Subject {
        // slot 0
        address miner;
        uint40 deadlineOrSubmittedAt; // submit deadline while Claimed, submission block afterwards
        SlotStatus status;
        Outcome outcome;
        uint8 flags;
        uint8 seedAttempt;
        uint8 auditDrawn; // 1 + the latest audit attempt drawn
        uint8 committeeDrawn; // 1 + the latest committee attempt drawn
        // slot 1
        bytes32 commitment;
        // slot 2
        bytes32 auditSeed;
        // slot 3: tallies of the deciding attempts and payout bookkeeping (seat counts are at most 48)
        uint8 auditPass;
        uint8 auditFail;
        uint8 committeePass;
        uint8 committeeFail;
        uint8 pendingLosers;
        uint8 winners;
        uint8 winnersPaid;
        uint8 auditAttempt; // the attempt whose audit seats revealed
        uint8 committeeAttempt; // the attempt whose committee seats revealed
        uint88 bountyEach;
        uint88 rewardEach;
        // slot 4: this submission's share of the vault's pooled balance
        uint128 slashedIntoPool; // the bounty base: what was slashed on this subject, less rewards funded from it
        uint128 poolBalance;
    }

    /// @dev The parameters the hot path reads, packed into exactly one storage slot.
    struct Hot {
        uint32 submitWindow;
        uint32 seedDelay;
        uint32 checkpointRevealWindow;
        uint32 commitWindow;
        uint32 revealWindow;
        uint32 unsealWindow;
        uint32 roundClaimWindow;
        uint8 seatsPerAudit;
        uint8 committeeSize;
        uint16 slotsPerRound;
    }

    struct Job {
        address sponsor;
        JobStatus status;
        uint16 currentRound;
        Hot hot;
        JobParams params;
        bytes32 plantRoot;
        uint96 bondLeft;
    }

    /// @dev A seat: its public record (Seat) and its committed verdict hash, in two storage slots.
    struct SeatRecord {
        address validator;
        uint8 flags;
        uint40 commitEnd;
        uint40 revealEnd;
        uint8 attempt;
        bytes32 commitHash;
    }

    IRewardVault internal immutable _vault;
    IStakeManager internal immutable _stakes;

    address internal _registry; // slot 0
    mapping(uint256 jobId => Job) internal _jobs; // slot 1
    mapping(bytes32 subject => Subject) internal _subjects; // slot 2: LedgerLens.SUBJECTS_SLOT
    mapping(bytes32 seatKey => SeatRecord) internal _seats; // slot 3
    mapping(uint256 jobId => mapping(uint16 round => Round)) internal _rounds; // slot 4
    mapping(uint256 jobId => mapping(uint16 round => bytes32)) internal _pendingAggregate; // slot 5
    mapping(uint256 blockNumber => bytes32) internal _randomness; // slot 6

    constructor(IRewardVault vault_, IStakeManager stakes_) {
        _vault = vault_;
        _stakes = stakes_;
    }

    function _job(uint256 jobId) internal view returns (Job storage job) {
        job = _jobs[jobId];
        if (job.status == JobStatus.None) revert JobUnknown(jobId);
    }

    function _load(uint256 jobId, uint16 round, uint16 slot) internal view returns (bytes32 key, Subject storage s) {
        key = _subjectKey(jobId, round, slot);
        s = _subjects[key];
    }

    function _subjectKey(uint256 jobId, uint16 round, uint16 slot) internal pure returns (bytes32) {
        return keccak256(abi.encode(jobId, round, slot));
    }

    function _seatKey(bytes32 key, Panel panel, uint256 seat) internal pure returns (bytes32) {
        return keccak256(abi.encode(key, panel, seat));
    }

    function _requireLive(bytes32 key, Subject storage s) internal view {
        if (s.status != SlotStatus.Submitted && s.status != SlotStatus.CheckpointsRevealed) {
            revert LedgerWrongStatus(key, s.status);
        }
    }

    /// @dev Fixes the audit seed from the first seed try (block submittedAt + seedDelay * (k + 1)) whose randomness
    /// was recorded; a later try forces an audit, so withholding a seed block's randomness never helps a miner.
    function _resolveSeed(bytes32 key, Subject storage s, Job storage job, bool isAggregate)
        internal
        returns (SeedState state, uint256 readyAt)
    {
        uint8 flags = s.flags;
        if (flags & FLAG_SEED_KNOWN != 0) return (SeedState.Known, 0);
        if (flags & FLAG_SEED_FAILED != 0) return (SeedState.Failed, 0);
        uint256 delay = job.hot.seedDelay;
        uint256 submittedAt = s.deadlineOrSubmittedAt;
        for (uint256 k; k < Timelines.MAX_SEED_ATTEMPTS; ++k) {
            uint256 seedBlock = submittedAt + delay * (k + 1);
            // Recorded randomness is final (only a transaction in that very block can write it); a try nobody
            // recorded is missed once its block is over.
            bytes32 randomness = _randomness[seedBlock];
            if (randomness == 0) {
                if (block.number <= seedBlock) return (SeedState.Pending, seedBlock + 1);
                continue;
            }
            bytes32 seed = Sampling.auditSeed(randomness, key);
            bool audited = isAggregate || k > 0 || Sampling.isAudited(seed, job.params.auditBps);
            s.auditSeed = seed;
            // Safe cast: k < MAX_SEED_ATTEMPTS.
            s.seedAttempt = uint8(k);
            s.flags = flags | FLAG_SEED_KNOWN | (audited ? FLAG_AUDITED : 0);
            emit SeedRecorded(key, seed, seedBlock, audited);
            return (SeedState.Known, 0);
        }
        s.flags = flags | FLAG_SEED_FAILED;
        return (SeedState.Failed, 0);
    }

    /// @dev The timeline with the attempts in effect now.
    function _timeline(Subject storage s, Hot storage h, bool isAggregate)
        internal
        view
        returns (Timeline memory t, uint8 auditAttempt, uint8 committeeAttempt)
    {
        uint8 flags = s.flags;
        bool panelsRun = flags & FLAG_AUDITED != 0 && (isAggregate || s.status == SlotStatus.CheckpointsRevealed);
        Timelines.Progress memory progress = Timelines.Progress({
            submittedAt: s.deadlineOrSubmittedAt,
            seedAttempt: s.seedAttempt,
            panelsRun: panelsRun,
            auditAttempt: s.auditAttempt,
            auditTallied: uint256(s.auditPass) + s.auditFail != 0,
            committeeAttempt: s.committeeAttempt,
            committeeTallied: uint256(s.committeePass) + s.committeeFail != 0
        });
        return Timelines.effective(progress, block.number, _windows(h));
    }

    function _windows(Hot storage h) internal view returns (Windows memory) {
        return Windows(
            h.submitWindow,
            h.seedDelay,
            h.checkpointRevealWindow,
            h.commitWindow,
            h.revealWindow,
            h.unsealWindow,
            h.roundClaimWindow
        );
    }

    /// @dev Whether a committee may sit on the subject: contested audit verdicts (for a plant: a seat that passed it).
    function _contested(Subject storage s) internal view returns (bool) {
        return Outcomes.contested(s.flags & FLAG_PLANTED != 0, s.auditPass, s.auditFail);
    }
}
