// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IJobTypes} from "./IJobTypes.sol";
import {ILedgerTypes} from "./ILedgerTypes.sol";

/// @title Work ledger
/// @notice Slots, submissions, sampled audits, commit-reveal verdicts, disputes, planted errors, settlement and round
/// aggregation. Types, errors, events and the timeline are in ILedgerTypes. The ledger's code is split in two
/// contracts sharing one storage (EIP-170): WorkLedger runs the hot path (claim, submit, randomness, checkpoint
/// reveal, verdict commit and reveal) and forwards the rest to its settlement module by delegatecall.
interface IWorkLedger is IJobTypes, ILedgerTypes {
    // ------------------------------------------------------------ jobs

    /// @notice Takes over a job the registry validated and funded (its escrow is already in the vault). Registry only.
    function registerJob(
        uint256 jobId,
        address sponsor,
        JobParams calldata params,
        bytes32 baseDigest,
        bytes32 plantRoot,
        uint256 escrow
    ) external;

    /// @notice Binds the job registry once; the deployer calls this during deployment.
    function bindRegistry(address registry) external;

    /// @notice After completion or abandonment, credits the unspent escrow (the plant bond included) to the sponsor's
    /// claimable balance. Callable again to sweep what later settlements return to the escrow.
    function refundEscrow(uint256 jobId) external returns (uint256 amount);

    /// @notice A job's parameters.
    function jobParams(uint256 jobId) external view returns (JobParams memory);

    /// @notice A job's sponsor, status and open round.
    function jobState(uint256 jobId) external view returns (address sponsor, JobStatus status, uint16 currentRound);

    // ------------------------------------------------------------ miners

    /// @notice Claims a slot of the job's open round and locks the job's miner collateral.
    function claimSlot(uint256 jobId, uint16 round, uint16 slot) external;

    /// @notice Commits the work of a claimed slot before its submit deadline.
    function submit(
        uint256 jobId,
        uint16 round,
        uint16 slot,
        string calldata bundleCid,
        bytes32 resultDigest,
        bytes32 merkleRoot
    ) external;

    /// @notice The miner of an audited slot reveals both ends of every sampled interval, with position-bound Merkle
    /// proofs. `boundaries` holds, for each sampled interval j in draw order, its start then its end boundary; `cids`
    /// names where each is pinned, then up to 2m further checkpoints an audit may ask for (short replay windows).
    function revealCheckpoints(
        uint256 jobId,
        uint16 round,
        uint16 slot,
        Commitment calldata commitment,
        Boundary[] calldata boundaries,
        string[] calldata cids
    ) external;

    // ------------------------------------------------------------ randomness

    /// @notice Records this block's randomness (block.prevrandao; on a chain without it, the parent block's hash).
    /// Audit seeds and panel draws read the randomness of blocks fixed in advance, so keepers call this in exactly
    /// those blocks; anyone may, and a second call in the same block changes nothing.
    function recordRandomness() external;

    /// @notice The randomness recorded in `blockNumber` (zero if nobody recorded it).
    function randomnessAt(uint256 blockNumber) external view returns (bytes32);

    /// @notice Fixes a subject's audit seed from the first seed try whose randomness was recorded (anyone may).
    function recordSeed(uint256 jobId, uint16 round, uint16 slot) external;

    // ------------------------------------------------------------ validators

    /// @notice Draws the seats of a panel's current attempt from the stake snapshot of its seed block's epoch
    /// (stake-weighted, without replacement, never the subject's miner). Anyone may; once per attempt; no later than
    /// half the commit window before its end (Timelines.drawDeadline), so every drawn seat has time to commit.
    function drawSeats(uint256 jobId, uint16 round, uint16 slot, Panel panel) external;

    /// @notice A drawn validator commits keccak of its verdict (see LedgerLens.verdictCommitment); all 256 bits are
    /// stored.
    function commitVerdict(uint256 jobId, uint16 round, uint16 slot, Panel panel, uint8 seat, bytes32 commitHash)
        external;

    /// @notice Reveals a committed verdict after the commit window. A first Fail on the audit panel opens a dispute.
    function revealVerdict(
        uint256 jobId,
        uint16 round,
        uint16 slot,
        Panel panel,
        uint8 seat,
        VerdictReveal calldata reveal
    ) external;

    // ------------------------------------------------------------ sponsors' sentinels

    /// @notice Unseals a planted error after the audit reveals: `salt` and `proof` open the job's plant root at a
    /// leaf naming this (round, slot) and its miner. A plant that an audit seat passed goes to the committee.
    function unsealPlant(uint256 jobId, uint16 round, uint16 slot, bytes32 salt, bytes32[] calldata proof) external;

    // ------------------------------------------------------------ settlement (anyone)

    /// @notice Settles an expired submission: pays or slashes the miner (see Outcomes for the rule).
    function settleSubmission(uint256 jobId, uint16 round, uint16 slot) external;

    /// @notice Settles one seat of a settled subject: pays it if its verdict won, slashes it if it lost, stayed
    /// silent after its draw, or never revealed. Losing seats are settled before winners are paid their bounty.
    function settleSeat(uint256 jobId, uint16 round, uint16 slot, Panel panel, uint8 seat) external;

    /// @notice Vacates a slot nobody claimed within the claim window (an aggregation slot nobody claimed abandons the
    /// job), or one claimed and never submitted (whose collateral is slashed into the job escrow).
    function vacateSlot(uint256 jobId, uint16 round, uint16 slot) external;

    // ------------------------------------------------------------ views

    /// @notice The subject key of a slot.
    function subjectKey(uint256 jobId, uint16 round, uint16 slot) external pure returns (bytes32);

    /// @notice Reads `nSlots` raw storage words from `startSlot` (Uniswap v4's extsload). LedgerLens decodes
    /// submission records with it, which keeps a large view out of this contract's size budget.
    function extsload(bytes32 startSlot, uint256 nSlots) external view returns (bytes32[] memory values);

    /// @notice A seat's record.
    function seatOf(bytes32 subject, Panel panel, uint8 seat) external view returns (Seat memory);

    /// @notice A seat's committed verdict hash (zero before it commits).
    function seatCommitment(bytes32 subject, Panel panel, uint8 seat) external view returns (bytes32);

    /// @notice A round's bookkeeping.
    function roundOf(uint256 jobId, uint16 round) external view returns (Round memory);

    /// @notice The settlement module this ledger delegates to.
    function settlementModule() external view returns (address);
}
