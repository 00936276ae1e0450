"""One exception tree for all of Crucible.

Every custom error a Crucible contract can revert with has a class here with the same name and fields, so a failed
transaction surfaces as ``StakeTooLow(account=0x…, required=100 CRU, staked=40 CRU)`` rather than a hex blob; the
test suite checks this list against the compiled ABIs so the two cannot drift. Off-chain failures (an RPC or Kubo
that went away, a bad keystore, a stale deployment file, a malformed artifact) have their own branches. Classes that
are also classic Python errors inherit from both (``RpcUnavailable`` is a ``ConnectionError``), so ordinary
``except`` clauses keep working.
"""

from __future__ import annotations

from typing import Any, ClassVar


class CrucibleError(Exception):
    """Root of every error Crucible raises on purpose."""

    hint: ClassVar[str] = ""

    def __str__(self) -> str:
        message = super().__str__()
        return f"{message} ({self.hint})" if self.hint else message


# ---------------------------------------------------------------- configuration, keys


class ConfigError(CrucibleError, ValueError):
    """A setting or argument is missing or malformed."""


class DatasetError(ConfigError):
    """A sponsor's dataset file does not fit its kind's schema or the model; `lines` are the bad rows' line numbers."""

    def __init__(self, message: str, *, lines: list[int] | None = None) -> None:
        super().__init__(message)
        self.lines = list(lines or [])


class ModelConfigError(ConfigError):
    """A job's model (a Hugging Face architecture's config or the sponsor's weights) does not fit what Crucible can
    train and verify: an unknown arch, a dtype the declared precision does not allow, more memory than the declared
    bound, a tensor of the wrong shape. `field` names the config field or the tensor."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class KeystoreError(CrucibleError):
    """A key could not be loaded: missing keystore, wrong password, malformed key."""


# ---------------------------------------------------------------- chain


class ChainError(CrucibleError):
    """Something went wrong talking to the chain."""


class RpcUnavailable(ChainError, ConnectionError):
    """The RPC endpoint does not answer."""

    hint = "is the node running? `crucible network up` starts a local one"


class RpcErrorResponse(ChainError):
    """The RPC answered, but with an error that is not a contract's revert: an HTTP error status (overloaded,
    rate-limited, a proxy without its backend) or a JSON-RPC error for a valid request."""

    hint = "daemons retry on their next pass; for a command, rerun it, or point --rpc-url at a healthier node"


class RpcStale(ChainError):
    """The RPC served an older chain than it already had: a lagging node behind a load balancer, or one resyncing
    from an old snapshot. Nothing is decided or sent on such a view."""

    hint = "daemons skip the pass until it catches up; if it persists, point --rpc-url at a synced node"


class TransactionUnconfirmed(ChainError):
    """A transaction was sent, but the node gave no receipt for it in time (it stopped mining, lost the transaction,
    or serves a view from before it)."""

    hint = "daemons re-read the chain on their next pass before sending anything again"


class WrongChain(ChainError):
    """The RPC serves a different chain than the deployment file or the command expects."""


class DeploymentError(ChainError):
    """The deployment file is missing, malformed, or does not match the chain (stale after a restart)."""

    hint = "deploy with `crucible network up` (local) or `crucible deploy --rpc-url URL`"


class InsufficientFunds(ChainError):
    """The sending account cannot pay for the transaction."""


class TransactionReverted(ChainError):
    """A transaction or call reverted with a reason we could not decode into a known contract error."""

    def __init__(self, message: str, *, data: bytes = b"", tx_hash: str | None = None) -> None:
        super().__init__(message)
        self.data = data
        self.tx_hash = tx_hash


class ContractError(TransactionReverted):
    """A revert with one of the contracts' custom errors; ``values`` holds its decoded arguments by name."""

    fields: ClassVar[tuple[str, ...]] = ()
    registry: ClassVar[dict[str, type[ContractError]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        ContractError.registry[cls.__name__] = cls

    statuses: ClassVar[tuple[str, ...]] = ()  # names of a `status` field's enum values, rendered next to the number

    def __init__(self, *args: Any, tx_hash: str | None = None, data: bytes = b"") -> None:
        if len(args) != len(self.fields):
            raise TypeError(f"{type(self).__name__} takes {len(self.fields)} values, got {len(args)}")
        self.values: dict[str, Any] = dict(zip(self.fields, args, strict=True))
        rendered = ", ".join(f"{name}={self._render_field(name, value)}" for name, value in self.values.items())
        super().__init__(f"{type(self).__name__}({rendered})", data=data, tx_hash=tx_hash)

    def _render_field(self, name: str, value: Any) -> str:
        if name == "status" and isinstance(value, int) and 0 <= value < len(self.statuses):
            return f"{value} ({self.statuses[value]})"
        if name == "name" and isinstance(value, str):
            return value
        return _render(value)

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("values", {})
        if name in values:
            return values[name]
        raise AttributeError(name)


def _render(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, int) and value >= 10**15:
        return f"{value / 10**18:g} CRU"
    return str(value)


class TokenError(ContractError):
    """Reverts of the staking token (ours and OpenZeppelin's ERC20 errors)."""


class StakeError(ContractError):
    """Reverts of the stake manager."""


class VaultError(ContractError):
    """Reverts of the reward vault."""


class JobError(ContractError):
    """Reverts of the job registry."""


class LedgerError(ContractError):
    """Reverts of the work ledger."""


class LibraryError(ContractError):
    """Reverts raised inside OpenZeppelin libraries the contracts use."""


# ---------------------------------------------------------------- contract errors (mirror the Solidity interfaces)


class JobNotSponsor(JobError):
    """Only the job's sponsor may do this."""

    fields = ("jobId", "caller")


class JobParamOutOfRange(JobError):
    """A parameter is outside its allowed range [min, max]."""

    fields = ("name", "value", "min", "max")
    hint = "fix that parameter: it must lie within [min, max]"


class JobResolutionTooLong(JobError):
    """The longest audit plus dispute of this job would outlast stake unbonding or validator activation, letting a
    cheat escape or a validator set change under a running audit.
    """

    fields = ("resolutionBlocks", "unbondingBlocks", "epochBlocks")
    hint = "shorten the job's windows: with every retry, a job must resolve within one epoch and before unbonding ends"


class JobUnauthorizedRegistry(JobError):
    """Only the bound job registry may register jobs."""

    fields = ("caller",)


class JobUnknown(JobError):
    """No job with that id."""

    fields = ("jobId",)
    hint = "check the job id with `crucible job list`"


class JobWrongStatus(JobError):
    """The job is not in the status the call needs."""

    fields = ("jobId", "status")
    statuses = ("NONE", "ACTIVE", "COMPLETED", "ABANDONED")  # IJobTypes.JobStatus
    hint = "`crucible job list` shows each job's status"


class LedgerBoundaryConflict(LedgerError):
    """Two revealed copies of one boundary differ."""

    fields = ("subject", "index")


class LedgerBoundaryCount(LedgerError):
    """Wrong number of revealed boundaries or checkpoint CIDs."""

    fields = ("expected", "supplied")


class LedgerBountyNotReady(LedgerError):
    """Winners are paid once every losing seat is slashed (anyone can settle those first)."""

    fields = ("subject", "pendingLosers")


class LedgerCommitmentMismatch(LedgerError):
    """The supplied preimage does not hash to the stored commitment."""

    fields = ("subject", "expected", "supplied")


class LedgerDeadlinePassed(LedgerError):
    """A deadline passed."""

    fields = ("subject", "deadline", "currentBlock")
    hint = "the window for this step has closed"


class LedgerInvalidMerkleProof(LedgerError):
    """A boundary's Merkle proof does not place it at its index under the committed root."""

    fields = ("subject", "index", "proofLength", "depth")


class LedgerInvalidVerdict(LedgerError):
    """Verdicts are Pass or Fail."""

    fields = ("verdict",)


class LedgerMinerStakeTooLow(LedgerError):
    """The miner's stake is below the network minimum."""

    fields = ("miner", "required", "staked")
    hint = "stake at least the miner minimum with `crucible stake add`"


class LedgerModuleDirectCall(LedgerError):
    """Only the ledger's own delegatecall may run the settlement module."""

    fields = ()


class LedgerNoDispute(LedgerError):
    """Nothing is contested on this subject, so no committee sits."""

    fields = ("subject",)


class LedgerNotAudited(LedgerError):
    """The subject was not selected for audit."""

    fields = ("subject",)


class LedgerNotSeatHolder(LedgerError):
    """The caller is not the validator drawn for this seat."""

    fields = ("subject", "panel", "seat", "caller", "holder")


class LedgerNotSettled(LedgerError):
    """The subject is not settled yet."""

    fields = ("subject",)


class LedgerNotSlotMiner(LedgerError):
    """Only the slot's miner may do this."""

    fields = ("subject", "caller", "miner")


class LedgerPanelAlreadyDrawn(LedgerError):
    """This panel's seats for the current attempt were already drawn."""

    fields = ("subject", "panel", "attempt")
    hint = "someone drew this panel already; read its seats with `crucible status verdicts`"


class LedgerPlantMismatch(LedgerError):
    """The planted-error proof does not open the job's plant root for this slot and its miner."""

    fields = ("subject", "miner")


class LedgerRandomnessMissing(LedgerError):
    """Nobody recorded the randomness of the block the call needs (it can no longer be recorded)."""

    fields = ("subject", "randomnessBlock")
    hint = "nobody recorded that block's randomness in time; the panel will be re-drawn"


class LedgerRoundNotOpen(LedgerError):
    """The round is not the job's open round."""

    fields = ("jobId", "round", "currentRound")


class LedgerRoundNotReadyForAggregation(LedgerError):
    """The round's aggregation slot opens only when every work slot is settled."""

    fields = ("jobId", "round", "settled", "needed")


class LedgerSeatAlreadyDone(LedgerError):
    """The seat was already revealed or settled."""

    fields = ("subject", "panel", "seat")


class LedgerSeatNotCommittable(LedgerError):
    """The seat has already committed, or was never drawn."""

    fields = ("subject", "panel", "seat", "flags")


class LedgerSeatNotCommitted(LedgerError):
    """The seat never committed."""

    fields = ("subject", "panel", "seat")


class LedgerSeedFailed(LedgerError):
    """Every seed try passed without recorded randomness: the subject settles Unverified."""

    fields = ("subject",)
    hint = "no seed try was recorded; the submission settles Unverified"


class LedgerSlotOutOfRange(LedgerError):
    """The slot index is neither a work slot nor the round's current aggregation slot."""

    fields = ("slot", "aggregationSlot")


class LedgerSlotTaken(LedgerError):
    """Somebody already holds this slot."""

    fields = ("subject", "holder")
    hint = "pick another slot; `crucible job status` lists the open ones"


class LedgerTooEarly(LedgerError):
    """Too early: the call is possible from block `readyAt`."""

    fields = ("subject", "readyAt", "currentBlock")
    hint = "wait until block readyAt"


class LedgerVerdictMismatch(LedgerError):
    """The revealed verdict does not match the commitment (all 256 bits are compared)."""

    fields = ("subject", "panel", "seat", "committed", "revealed")


class LedgerWrongBoundary(LedgerError):
    """A revealed boundary is not the one the audit sampled."""

    fields = ("position", "expectedIndex", "suppliedIndex")


class LedgerWrongStatus(LedgerError):
    """The subject is not in a status that allows this call."""

    fields = ("subject", "status")
    statuses = ("OPEN", "CLAIMED", "SUBMITTED", "CHECKPOINTS_REVEALED", "ACCEPTED", "REJECTED", "VACATED")  # SlotStatus
    hint = (
        "the slot is not in a state this call accepts: it may have moved on already (settled, vacated, or claimed "
        "by someone else); `crucible job status JOB` shows every slot"
    )


class StakeAlreadyValidator(StakeError):
    """The account is already registered as a validator."""

    fields = ("account",)


class StakeEpochUnavailable(StakeError):
    """Draws read the weights of the current or the previous epoch only."""

    fields = ("epoch", "currentEpoch")
    hint = "draws read only the current or the previous epoch"


class StakeInsufficientFree(StakeError):
    """The free (unlocked) stake is smaller than what the call needs."""

    fields = ("account", "requested", "free")
    hint = "unbond at most `free`: collateral locked by open submissions is released when they settle"


class StakeInvalidConfig(StakeError):
    """Deployment parameters that would let a validator leave before its votes are settled."""

    fields = ("unbondingPeriodBlocks", "epochBlocks")


class StakeNotValidator(StakeError):
    """The account is not a registered validator."""

    fields = ("account",)


class StakeNothingToWithdraw(StakeError):
    """There is nothing unbonding to withdraw."""

    fields = ("account",)
    hint = "request an unbond first with `crucible stake unbond AMOUNT`"


class StakeProtocolAlreadySet(StakeError):
    """The protocol address was already set."""

    fields = ("protocol",)


class StakeTooLow(StakeError):
    """The account's stake is below the minimum its role requires."""

    fields = ("account", "required", "staked")
    hint = "stake more with `crucible stake add`"


class StakeUnauthorizedProtocol(StakeError):
    """The caller is not the protocol contract allowed to lock and slash."""

    fields = ("caller",)


class StakeUnbondingNotReady(StakeError):
    """Nothing is ready to withdraw yet."""

    fields = ("account", "readyAt", "currentBlock")
    hint = "wait until the block shown in readyAt, then run `crucible stake withdraw` again"


class StakeValidatorSetFull(StakeError):
    """The sortition tree is full."""

    fields = ("capacity",)
    hint = "the sortition tree holds 4,096 validators"


class StakeZeroAmount(StakeError):
    """The caller tried to stake or unbond zero tokens."""

    fields = ()
    hint = "give an amount above zero"


class TokenFaucetAmountTooLarge(TokenError):
    """A faucet request asked for more than one call may mint."""

    fields = ("requested", "maximum")


class TokenFaucetUnavailable(TokenError):
    """The faucet was called on a chain that is not a local development chain."""

    fields = ("chainId",)
    hint = "the faucet exists only on local chains (31337, 1337)"


class VaultAlreadyBound(VaultError):
    """The protocol contract was already bound."""

    fields = ()


class VaultNothingToClaim(VaultError):
    """The caller has nothing to claim."""

    fields = ("account",)
    hint = "nothing is owed to this account yet"


class VaultPoolInsufficient(VaultError):
    """The pooled balance holds less than a payment needs."""

    fields = ("requested", "available")


class VaultUnauthorized(VaultError):
    """The caller is not the protocol contract bound at deployment."""

    fields = ("caller",)


class WeightHistoryOutOfRange(StakeError):
    """A write would go below zero or above MAX_VALUE."""

    fields = ("epoch", "delta")


class WeightHistoryRewrite(StakeError):
    """A write tried to change an epoch older than the last written one."""

    fields = ("epoch", "lastEpoch")


class WeightHistoryUnavailable(StakeError):
    """A read reached further back than the four epochs kept."""

    fields = ("epoch", "lastEpoch")


# OpenZeppelin errors reachable through our contracts.


class ERC20InsufficientBalance(TokenError):
    """The sender holds fewer tokens than the transfer needs."""

    fields = ("sender", "balance", "needed")
    hint = "get tokens first (on a local chain: `crucible faucet`)"


class ERC20InsufficientAllowance(TokenError):
    """The spender may not move that many tokens for the owner."""

    fields = ("spender", "allowance", "needed")


class ERC20InvalidApprover(TokenError):
    """Approval from the zero address."""

    fields = ("approver",)


class ERC20InvalidReceiver(TokenError):
    """Transfer to the zero address."""

    fields = ("receiver",)


class ERC20InvalidSender(TokenError):
    """Transfer from the zero address."""

    fields = ("sender",)


class ERC20InvalidSpender(TokenError):
    """Approval to the zero address."""

    fields = ("spender",)


class ERC2612ExpiredSignature(TokenError):
    """The permit's deadline passed."""

    fields = ("deadline",)


class ERC2612InvalidSigner(TokenError):
    """The permit was not signed by the owner (or not for this chain and token)."""

    fields = ("signer", "owner")


class InvalidAccountNonce(TokenError):
    """The permit's nonce was already used."""

    fields = ("account", "currentNonce")


class ECDSAInvalidSignature(LibraryError):
    """A signature did not recover to any address."""

    fields = ()


class ECDSAInvalidSignatureLength(LibraryError):
    """A signature had the wrong length."""

    fields = ("length",)


class ECDSAInvalidSignatureS(LibraryError):
    """A signature's s value is in the upper half order (malleable)."""

    fields = ("s",)


class InvalidShortString(LibraryError):
    """A short string was malformed."""

    fields = ()


class StringTooLong(LibraryError):
    """A string was too long for a short string."""

    fields = ("str",)


class ReentrancyGuardReentrantCall(LibraryError):
    """A guarded function was re-entered."""

    fields = ()


class SafeERC20FailedOperation(LibraryError):
    """A token transfer failed."""

    fields = ("token",)


class SafeCastOverflowedUintDowncast(LibraryError):
    """A value did not fit the integer type it was stored in (e.g. a stake of 2**128 wei or more)."""

    fields = ("bits", "value")


# ---------------------------------------------------------------- artifacts (IPFS) and work


class ArtifactError(CrucibleError):
    """An artifact could not be stored, fetched or trusted."""


class IpfsUnavailable(ArtifactError, ConnectionError):
    """The Kubo RPC API does not answer."""

    hint = "is Kubo running? `crucible network up` starts a local node"


class ArtifactNotFound(ArtifactError, LookupError):
    """No provider answered for a CID within the timeout."""


class ArtifactTooLarge(ArtifactError):
    """An artifact is larger than the limit for its kind."""


class DigestMismatch(ArtifactError):
    """Fetched bytes do not hash to the digest committed on-chain."""


class MalformedArtifact(ArtifactError, ValueError):
    """An artifact's bytes parse but break its format or schema (bad safetensors, wrong shapes, bad manifest)."""


# ---------------------------------------------------------------- local storage


class StorageFull(CrucibleError):
    """A file could not be written because its disk is full (or the process hit its file-size limit)."""

    hint = "free space there; the step that failed left nothing half-written and is retried"


# ---------------------------------------------------------------- not errors


class Stopping(Exception):  # noqa: N818 - a request to stop, deliberately outside the CrucibleError tree
    """Raised inside a long-running role once it was asked to stop (SIGTERM, Ctrl-C): the step in flight is abandoned
    at a safe point and the journal, written before every transaction, resumes it on the next start. Not a
    CrucibleError, so no handler that isolates one entry's failure swallows it."""
