// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IRewardVault} from "./interfaces/IRewardVault.sol";
import {IStakeManager} from "./interfaces/IStakeManager.sol";
import {LedgerStorage} from "./LedgerStorage.sol";
import {Commitments} from "./libraries/Commitments.sol";
import {Outcomes} from "./libraries/Outcomes.sol";
import {Payouts} from "./libraries/Payouts.sol";
import {Sampling} from "./libraries/Sampling.sol";
import {Timelines} from "./libraries/Timelines.sol";
import {SeatFlags} from "./libraries/SeatFlags.sol";

/// @title LedgerSettlement
/// @notice The work ledger's second half, run only by delegatecall from WorkLedger on the ledger's storage: seat draws
/// from the stake snapshot, planted errors, settlement of submissions and seats, vacating and refunds. Its functions
/// are documented in IWorkLedger. Nothing here loops over participants: a draw is bounded by the panel size, a
/// settlement touches one subject, a seat settlement one seat.
contract LedgerSettlement is LedgerStorage {
    address private immutable _self;

    constructor(IRewardVault vault_, IStakeManager stakes_) LedgerStorage(vault_, stakes_) {
        _self = address(this);
    }

    /// @dev Called directly, the module would run on its own empty storage: refuse, so nobody mistakes it for the
    /// ledger (it could not move any funds anyway: the vault and stake manager trust the ledger's address only).
    modifier onlyDelegated() {
        if (address(this) == _self) revert LedgerModuleDirectCall();
        _;
    }

    // ---------------------------------------------------------------- seat draws

    /// @dev What one panel draw needs, gathered in memory to keep the stack shallow.
    struct Draw {
        uint256 seats;
        uint256 attempt;
        uint256 seedBlock;
        uint64 commitEnd;
        uint64 revealEnd;
        bytes32 seed;
    }

    function drawSeats(uint256 jobId, uint16 round, uint16 slot, Panel panel) external onlyDelegated nonReentrant {
        (bytes32 key, Subject storage s) = _load(jobId, round, slot);
        _requireLive(key, s);
        Job storage job = _jobs[jobId];
        bool isAggregate = slot >= job.hot.slotsPerRound;
        (SeedState state, uint256 readyAt) = _resolveSeed(key, s, job, isAggregate);
        if (state == SeedState.Pending) revert LedgerTooEarly(key, readyAt, block.number);
        if (state == SeedState.Failed) revert LedgerSeedFailed(key);
        if (s.flags & FLAG_AUDITED == 0) revert LedgerNotAudited(key);
        // Work is judged once its sampled checkpoints are public; an aggregate as soon as its seed is known.
        if (!isAggregate && s.status != SlotStatus.CheckpointsRevealed) revert LedgerWrongStatus(key, s.status);
        (Timeline memory t, uint8 auditAttempt, uint8 committeeAttempt) = _timeline(s, job.hot, isAggregate);
        Draw memory d;
        if (panel == Panel.Audit) {
            d = Draw(job.hot.seatsPerAudit, auditAttempt, t.panelSeedBlock, t.commitEnd, t.revealEnd, 0);
            if (s.auditDrawn > auditAttempt) revert LedgerPanelAlreadyDrawn(key, panel, auditAttempt);
            // Safe cast: attempts < MAX_PANEL_ATTEMPTS.
            s.auditDrawn = auditAttempt + 1;
            // The first audit panel draws from the audit seed itself; re-draws from their own seed block.
            d.seed = auditAttempt == 0 ? s.auditSeed : _randomness[d.seedBlock];
        } else {
            if (block.number <= t.unsealEnd || !_contested(s)) revert LedgerNoDispute(key);
            d = Draw(job.hot.committeeSize, committeeAttempt, t.committeeSeedBlock, t.disputeCommitEnd, t.disputeRevealEnd, 0);
            if (s.committeeDrawn > committeeAttempt) revert LedgerPanelAlreadyDrawn(key, panel, committeeAttempt);
            s.committeeDrawn = committeeAttempt + 1;
            d.seed = _randomness[d.seedBlock];
        }
        if (d.seed == 0) {
            // Randomness is final once recorded (in its own block); before that block it cannot be.
            if (block.number <= d.seedBlock) revert LedgerTooEarly(key, d.seedBlock + 1, block.number);
            revert LedgerRandomnessMissing(key, d.seedBlock);
        }
        // Every drawn seat keeps at least half the commit window to judge and commit (a late draw, by a slow keeper
        // or an attacker timing it, must never make an honest holder's silence slashable).
        uint256 drawEnd = Timelines.drawDeadline(d.commitEnd, job.hot.commitWindow);
        if (block.number > drawEnd) revert LedgerDeadlinePassed(key, drawEnd, block.number);
        _seat(key, s.miner, panel, d, job.params.validatorSlash);
    }

    /// @dev Draws the validators from the snapshot of the seed block's epoch and writes one seat record each.
    function _seat(bytes32 key, address miner, Panel panel, Draw memory d, uint256 minAtRisk) private {
        bytes32 seed = Sampling.panelSeed(d.seed, key, uint8(panel), d.attempt);
        address[] memory drawn = _stakes.drawValidators(_stakes.epochOf(d.seedBlock), seed, d.seats, miner, minAtRisk);
        uint256 first = d.attempt * d.seats;
        for (uint256 i; i < drawn.length; ++i) {
            SeatRecord storage record = _seats[_seatKey(key, panel, first + i)];
            record.validator = drawn[i];
            record.flags = SeatFlags.DRAWN;
            // Safe casts: block numbers fit in 40 bits for millennia; attempts < MAX_PANEL_ATTEMPTS.
            record.commitEnd = uint40(d.commitEnd);
            record.revealEnd = uint40(d.revealEnd);
            record.attempt = uint8(d.attempt);
            emit SeatDrawn(key, drawn[i], panel, first + i, d.attempt);
        }
    }

    // ---------------------------------------------------------------- planted errors

    function unsealPlant(uint256 jobId, uint16 round, uint16 slot, bytes32 salt, bytes32[] calldata proof)
        external
        onlyDelegated
    {
        (bytes32 key, Subject storage s) = _load(jobId, round, slot);
        _requireLive(key, s);
        Job storage job = _jobs[jobId];
        bool isAggregate = slot >= job.hot.slotsPerRound;
        (SeedState state, uint256 readyAt) = _resolveSeed(key, s, job, isAggregate);
        if (state == SeedState.Pending) revert LedgerTooEarly(key, readyAt, block.number);
        if (state == SeedState.Failed) revert LedgerSeedFailed(key);
        // Only the sponsor's sealed set opens: a leaf naming this very slot and this slot's miner as its sentinel.
        // A miner can never plant its own work, and nobody can pick the slot after seeing who claimed it.
        bytes32 leaf = Commitments.plantLeaf(round, slot, s.miner, salt);
        if (s.flags & FLAG_PLANTED != 0 || !MerkleProof.verifyCalldata(proof, job.plantRoot, leaf)) {
            revert LedgerPlantMismatch(key, s.miner);
        }
        // After the audit verdicts are public (for unaudited work too, so an unseal never tags a sentinel while
        // the audits beside it still run) and before anything can settle.
        (Timeline memory t,,) = _timeline(s, job.hot, isAggregate);
        if (block.number <= t.revealEnd) revert LedgerTooEarly(key, t.revealEnd + 1, block.number);
        if (block.number > t.unsealEnd) revert LedgerDeadlinePassed(key, t.unsealEnd, block.number);
        s.flags |= FLAG_PLANTED;
        emit PlantUnsealed(key, s.miner);
    }

    // ---------------------------------------------------------------- settling submissions

    function settleSubmission(uint256 jobId, uint16 round, uint16 slot) external onlyDelegated nonReentrant {
        (bytes32 key, Subject storage s) = _load(jobId, round, slot);
        _requireLive(key, s);
        Job storage job = _jobs[jobId];
        bool isAggregate = slot >= job.hot.slotsPerRound;
        // Step 1: decide, or say from which block a decision is possible.
        Outcome outcome = _decide(key, s, job, isAggregate);
        bool accepted = outcome == Outcome.Accepted;
        s.outcome = outcome;
        s.status = accepted ? SlotStatus.Accepted : SlotStatus.Rejected;
        // Step 2: the miner's collateral and stake, the pool, the seats' sides.
        (uint256 paid, uint256 slashed) = _settleMiner(key, jobId, s, job, outcome, isAggregate);
        emit SubmissionSettled(key, jobId, s.miner, outcome, paid, slashed);
        // Step 3: round progress.
        Round storage r = _rounds[jobId][round];
        if (isAggregate) {
            if (accepted) _completeRound(jobId, round, s.miner);
            else _failAggregate(jobId, round, r, job);
        } else {
            if (accepted) ++r.acceptedSlots;
            _workSlotDone(jobId, round, r, job);
        }
    }

    function _decide(bytes32 key, Subject storage s, Job storage job, bool isAggregate) private returns (Outcome) {
        (SeedState state, uint256 seedReadyAt) = _resolveSeed(key, s, job, isAggregate);
        (Timeline memory t,,) = _timeline(s, job.hot, isAggregate);
        uint8 flags = s.flags;
        Outcomes.Facts memory f = Outcomes.Facts({
            isAggregate: isAggregate,
            seedKnown: state == SeedState.Known,
            seedFailed: state == SeedState.Failed,
            seedReadyAt: uint64(seedReadyAt),
            audited: flags & FLAG_AUDITED != 0,
            revealed: s.status == SlotStatus.CheckpointsRevealed,
            planted: flags & FLAG_PLANTED != 0,
            auditPass: s.auditPass,
            auditFail: s.auditFail,
            committeePass: s.committeePass,
            committeeFail: s.committeeFail,
            t: t,
            now: block.number
        });
        (Outcome outcome, uint256 readyAt) = Outcomes.decide(f);
        if (outcome == Outcome.None) revert LedgerTooEarly(key, readyAt, block.number);
        return outcome;
    }

    /// @dev Releases or slashes the miner's collateral, funds the pool and fixes the seats' sides. Returns what the
    /// miner was paid and what it lost.
    function _settleMiner(bytes32 key, uint256 jobId, Subject storage s, Job storage job, Outcome outcome, bool isAggregate)
        private
        returns (uint256 paid, uint256 slashed)
    {
        JobParams storage p = job.params;
        slashed = _takeFromMiner(jobId, s, job, outcome);
        Payouts.Sides memory sides =
            Payouts.sides(Outcomes.passWins(outcome), s.auditPass, s.auditFail, s.committeePass, s.committeeFail);
        if (sides.auditWinners != 0) _fundRewards(jobId, s, p, sides.auditWinners, Outcomes.slashesMiner(outcome));
        // Safe casts: seat counts are at most 48.
        s.winners = uint8(sides.auditWinners + sides.committeeWinners);
        s.pendingLosers = uint8(sides.losers);
        if (sides.losers == 0) _fixBounty(key, s, p, jobId, Outcomes.planted(outcome));
        if (outcome == Outcome.Accepted) {
            (uint256 reward, bytes32 reason) =
                isAggregate ? (uint256(p.aggregatorReward), bytes32("aggregate")) : (uint256(p.minerReward), bytes32("work"));
            paid = _vault.payFromEscrow(jobId, s.miner, reward, reason);
        }
    }

    /// @dev The miner's side: its collateral back, or the collateral and a slice of its stake into this subject's
    /// pool (with the sponsor's plant bond when a plant proved correct). Returns what was slashed from the miner.
    function _takeFromMiner(uint256 jobId, Subject storage s, Job storage job, Outcome outcome)
        private
        returns (uint256 slashed)
    {
        JobParams storage p = job.params;
        uint256 bountyBase;
        if (Outcomes.slashesMiner(outcome)) {
            slashed = _stakes.slashCollateral(s.miner, p.minerCollateral, p.minerSlashBps, address(_vault));
            if (slashed != 0) _vault.fundPool(slashed);
            bountyBase = slashed;
        } else {
            _stakes.unlockCollateral(s.miner, p.minerCollateral);
        }
        // A plant the committee found correct forfeits the sponsor's plant bond to the seats that passed it.
        if (outcome == Outcome.PlantRefuted && job.bondLeft != 0) {
            bountyBase += _vault.escrowToPool(jobId, job.bondLeft);
            job.bondLeft = 0;
        }
        // Safe casts: token amounts are far below 2**128.
        s.slashedIntoPool = uint128(bountyBase);
        s.poolBalance = uint128(bountyBase);
    }

    /// @dev Reserves the audit winners' rewards in the pool: out of the bounty base when the miner was slashed (so a
    /// rejected submission's re-audit never eats escrow a later one needs), otherwise out of the escrow, which
    /// budgets one panel per slot.
    function _fundRewards(uint256 jobId, Subject storage s, JobParams storage p, uint256 auditWinners, bool fromSlash)
        private
    {
        uint256 due = auditWinners * p.validatorReward;
        uint256 bountyBase = s.slashedIntoPool;
        uint256 taken;
        if (fromSlash) {
            uint256 stillDue;
            (taken, stillDue) = Payouts.fundRewardsFromSlash(bountyBase, due);
            due = stillDue;
        }
        uint256 moved = due != 0 ? _vault.escrowToPool(jobId, due) : 0;
        // Safe casts: token amounts are far below 2**128; a reward share is at most validatorReward (a uint96).
        s.slashedIntoPool = uint128(bountyBase - taken);
        s.poolBalance += uint128(moved);
        s.rewardEach = uint88((taken + moved) / auditWinners);
    }

    /// @dev Called once every losing seat is slashed: each winner's bounty share is final from here on.
    function _fixBounty(bytes32 key, Subject storage s, JobParams storage p, uint256 jobId, bool planted) private {
        uint256 winners = s.winners;
        if (winners == 0) {
            _closePool(key, s, jobId, planted);
            return;
        }
        // Safe cast: at most the bounty base, far below 2**88.
        s.bountyEach = uint88(Payouts.bountyEach(s.slashedIntoPool, p.bountyBps, winners));
    }

    /// @dev Whatever is left of a settled submission's pool (non-bounty share, rounding dust) returns to the escrow,
    /// or is burned when the subject was a plant: slashes on a plant never flow back to its planter.
    function _closePool(bytes32 key, Subject storage s, uint256 jobId, bool planted) private {
        uint256 rest = s.poolBalance;
        if (rest == 0) return;
        s.poolBalance = 0;
        if (planted) {
            emit SlashBurned(key, rest);
            _vault.burnFromPool(rest);
        } else {
            _vault.poolToEscrow(jobId, rest);
        }
    }

    // ---------------------------------------------------------------- rounds

    function _workSlotDone(uint256 jobId, uint16 round, Round storage r, Job storage job) private {
        uint16 workSlots = job.hot.slotsPerRound;
        if (++r.settledSlots == workSlots) {
            r.aggregationOpenedAt = uint64(block.number);
            emit AggregationOpened(jobId, round, workSlots);
        }
    }

    function _failAggregate(uint256 jobId, uint16 round, Round storage r, Job storage job) private {
        uint16 failed = ++r.failedAggregates;
        if (failed >= MAX_FAILED_AGGREGATES) {
            _abandon(jobId, round, job);
            return;
        }
        r.aggregationOpenedAt = uint64(block.number);
        emit AggregationOpened(jobId, round, uint256(job.hot.slotsPerRound) + failed);
    }

    function _abandon(uint256 jobId, uint16 round, Job storage job) private {
        if (job.status != JobStatus.Active) return;
        job.status = JobStatus.Abandoned;
        emit JobAbandoned(jobId, round);
    }

    function _completeRound(uint256 jobId, uint16 round, address aggregator) private {
        Job storage job = _jobs[jobId];
        _rounds[jobId][round].aggregated = true;
        bytes32 aggregate = _pendingAggregate[jobId][round];
        emit RoundAggregated(jobId, round, aggregate, aggregator);
        if (round + 1 == job.params.numRounds) {
            job.status = JobStatus.Completed;
            emit JobCompleted(jobId, aggregate);
        } else {
            uint16 next = round + 1;
            job.currentRound = next;
            Round storage r = _rounds[jobId][next];
            r.openedAt = uint64(block.number);
            r.baseDigest = aggregate;
            emit RoundOpened(jobId, next, aggregate);
        }
    }

    // ---------------------------------------------------------------- settling seats

    function settleSeat(uint256 jobId, uint16 round, uint16 slot, Panel panel, uint8 seat)
        external
        onlyDelegated
        nonReentrant
    {
        bytes32 key = _subjectKey(jobId, round, slot);
        Subject storage s = _subjects[key];
        Outcome outcome = s.outcome;
        if (outcome == Outcome.None) revert LedgerNotSettled(key);
        SeatRecord storage record = _seats[_seatKey(key, panel, seat)];
        uint8 flags = record.flags;
        if (flags == 0) revert LedgerSeatNotCommitted(key, panel, seat);
        if (flags & SeatFlags.SETTLED != 0) revert LedgerSeatAlreadyDone(key, panel, seat);
        record.flags = flags | SeatFlags.SETTLED;
        address validator = record.validator;
        JobParams storage p = _jobs[jobId].params;
        bool planted = Outcomes.planted(outcome);
        if (!SeatFlags.revealed(flags)) {
            // Drawn and silent, or committed and never revealed: silence is failure. The slash goes outside the
            // pool (to the escrow, or burned on a plant), so winners never wait on a seat that may never settle.
            uint256 slashed = _stakes.slash(validator, p.validatorSlash, address(_vault));
            emit SeatSettled(key, validator, panel, seat, 0, slashed);
            if (slashed == 0) return;
            if (planted) {
                _vault.fundPool(slashed);
                _vault.burnFromPool(slashed);
                emit SlashBurned(key, slashed);
            } else {
                _vault.recordEscrow(jobId, slashed);
            }
        } else if ((flags & SeatFlags.PASS != 0) == Outcomes.passWins(outcome)) {
            _payWinner(key, s, jobId, validator, panel, seat);
        } else {
            _slashLoser(key, s, jobId, validator, panel, seat, p, planted);
        }
    }

    function _payWinner(bytes32 key, Subject storage s, uint256 jobId, address validator, Panel panel, uint8 seat)
        private
    {
        if (s.pendingLosers != 0) revert LedgerBountyNotReady(key, s.pendingLosers);
        uint256 paid = uint256(s.bountyEach) + (panel == Panel.Audit ? s.rewardEach : 0);
        uint8 paidSoFar = ++s.winnersPaid;
        // Safe: the pool holds each audit winner's reward plus bountyBps of the bounty base, split among winners.
        s.poolBalance -= uint128(paid);
        emit SeatSettled(key, validator, panel, seat, paid, 0);
        if (paid != 0) _vault.payFromPool(validator, paid);
        // The last winner closes the pool: rounding dust and the non-bounty share go back (or are burned).
        if (paidSoFar == s.winners) _closePool(key, s, jobId, Outcomes.planted(s.outcome));
    }

    function _slashLoser(
        bytes32 key,
        Subject storage s,
        uint256 jobId,
        address validator,
        Panel panel,
        uint8 seat,
        JobParams storage p,
        bool planted
    ) private {
        uint256 slashed = _stakes.slash(validator, p.validatorSlash, address(_vault));
        // Safe casts: token amounts far below 2**128.
        s.slashedIntoPool += uint128(slashed);
        s.poolBalance += uint128(slashed);
        uint8 pending = --s.pendingLosers;
        emit SeatSettled(key, validator, panel, seat, 0, slashed);
        if (slashed != 0) _vault.fundPool(slashed);
        if (pending == 0) _fixBounty(key, s, p, jobId, planted);
    }

    // ---------------------------------------------------------------- vacating, refunds

    function vacateSlot(uint256 jobId, uint16 round, uint16 slot) external onlyDelegated nonReentrant {
        (bytes32 key, Subject storage s) = _load(jobId, round, slot);
        Job storage job = _job(jobId);
        bool isAggregate = slot >= job.hot.slotsPerRound;
        Round storage r = _rounds[jobId][round];
        uint256 slashed;
        address miner = s.miner;
        if (s.status == SlotStatus.Open) {
            if (round != job.currentRound || job.status != JobStatus.Active) revert LedgerWrongStatus(key, s.status);
            uint256 opened = r.openedAt;
            if (isAggregate) {
                // Nobody aggregated in time: without an aggregate the job cannot go on, so it ends here.
                uint256 aggregationSlot = uint256(job.hot.slotsPerRound) + r.failedAggregates;
                if (slot != aggregationSlot || r.aggregationOpenedAt == 0) revert LedgerWrongStatus(key, s.status);
                opened = r.aggregationOpenedAt;
            }
            uint256 closes = opened + job.hot.roundClaimWindow;
            if (block.number <= closes) revert LedgerTooEarly(key, closes + 1, block.number);
        } else if (s.status == SlotStatus.Claimed) {
            uint256 deadline = s.deadlineOrSubmittedAt;
            if (block.number <= deadline) revert LedgerTooEarly(key, deadline + 1, block.number);
            // Only this slot's collateral: the miner's other open slots keep theirs.
            slashed = _stakes.slashCollateral(miner, job.params.minerCollateral, 0, address(_vault));
        } else {
            revert LedgerWrongStatus(key, s.status);
        }
        s.status = SlotStatus.Vacated;
        emit SlotVacated(key, jobId, miner, slashed);
        if (slashed != 0) _vault.recordEscrow(jobId, slashed);
        if (!isAggregate) _workSlotDone(jobId, round, r, job);
        else if (miner == address(0)) _abandon(jobId, round, job);
        else _failAggregate(jobId, round, r, job);
    }

    function refundEscrow(uint256 jobId) external onlyDelegated nonReentrant returns (uint256 amount) {
        Job storage job = _job(jobId);
        if (msg.sender != job.sponsor) revert JobNotSponsor(jobId, msg.sender);
        if (job.status != JobStatus.Completed && job.status != JobStatus.Abandoned) revert JobWrongStatus(jobId, job.status);
        job.bondLeft = 0;
        amount = _vault.escrowOf(jobId);
        emit EscrowRefunded(jobId, msg.sender, amount);
        if (amount != 0) _vault.payFromEscrow(jobId, msg.sender, amount, "refund");
    }
}
