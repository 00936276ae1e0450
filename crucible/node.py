"""What a miner and a validator share as long-running processes: the poll loop that survives an RPC or a Kubo going
away, stake on start, reward claims, the cache of loaded jobs, and the log lines that say what happened."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from enum import Enum
from typing import Any

import requests
import torch
from web3.contract.contract import ContractFunction
from web3.exceptions import Web3RPCError

from crucible.artifacts.store import ArtifactStore
from crucible.chain.client import ChainClient
from crucible.errors import (
    ChainError,
    ContractError,
    CrucibleError,
    DigestMismatch,
    ERC20InsufficientBalance,
    IpfsUnavailable,
    LedgerTooEarly,
    MalformedArtifact,
    RpcErrorResponse,
    RpcStale,
    RpcUnavailable,
    Stopping,
    TransactionUnconfirmed,
)
from crucible.journal import Journal, Lifecycle
from crucible.protocol import ledger
from crucible.protocol.jobs import JobRecord, LoadedJob, job_records, load_job
from crucible.protocol.timelines import randomness_blocks
from crucible.protocol.types import SubjectFlags, SubjectView, Windows
from crucible.staking import add_stake, join_validator_set
from crucible.units import cru

# What a pass meets when the RPC or Kubo is away, failing, or behind: the pass ends, nothing else changes, the next
# pass retries (every step re-reads the chain before acting, so a retry never repeats what already landed).
JOB = "job"


class JobMark(str, Enum):
    """A job the node will not work on (journaled once, so it is said once)."""

    INVALID = "invalid"


# A job's mark never changes (its content is committed on-chain: it never gets better).
JOB_LIFECYCLE = Lifecycle.of(JOB, {JobMark.INVALID}, {JobMark.INVALID: ()})

Transient = (RpcUnavailable, RpcErrorResponse, RpcStale, TransactionUnconfirmed, IpfsUnavailable)


class Node:
    """A role's process: `tick()` does one pass over the chain and the journal; `run()` repeats it."""

    role = "node"
    entry_kinds: tuple[str, ...] = ()  # journal kinds the status line reports
    final_states: tuple[str, ...] = ("done",)  # states it leaves out

    def __init__(
        self,
        client: ChainClient,
        store: ArtifactStore,
        journal: Journal,
        *,
        device: torch.device | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self.client = client
        self.store = store
        self.journal = journal
        self.device = device or (torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu"))
        self.log = logger or logging.getLogger(f"crucible.{self.role}")
        self._jobs: dict[int, LoadedJob] = {}
        self._records: dict[int, JobRecord] = {}
        self._records_cursor = 0
        self._randomness_sent: set[int] = set()
        self._stop: threading.Event | None = None
        self.ticks = 0
        self.compute_seconds = 0.0  # time in training (miners) or replaying (validators): the benchmark reads it

    @property
    def address(self) -> str:
        return self.client.sender

    # ------------------------------------------------------------------ loop

    def tick(self) -> None:
        raise NotImplementedError

    def safe_tick(self) -> bool:
        """One pass over one consistent view of the chain (its reads are made at the head it starts from); an RPC or
        Kubo that is away, failing or behind is logged and retried next time (the journal keeps every step)."""
        try:
            self.client.begin_pass()
            self.tick()
            return True
        except Transient as exc:
            self.log.warning("%s: %s; will retry", type(exc).__name__, exc)
            return False
        except (requests.RequestException, Web3RPCError) as exc:  # a raw web3 request outside the client's wrappers
            failure = self.client.failure(exc, "a request")
            self.log.warning("%s: %s; will retry", type(failure).__name__, failure)
            return False
        except CrucibleError as exc:
            # Unexpected, but not a reason to stop serving: the journal holds the state, the next pass retries.
            self.log.error("pass failed: %s: %s", type(exc).__name__, exc)
            return False
        finally:
            self.client.end_pass()
            self.ticks += 1

    def run(
        self,
        *,
        poll_seconds: float = 1.0,
        stop: threading.Event | None = None,
        max_ticks: int | None = None,
        status_seconds: float = 15.0,
    ) -> None:
        """Ticks until `stop` is set (or `max_ticks` passes). Every `status_seconds` it logs what it waits for, so a
        quiet role never looks hung. Once `stop` is set, the pass in flight stops before its next entry (Stopping)."""
        self._stop = stop = stop or threading.Event()
        self.log.info("%s %s running (device %s, journal %s)", self.role, self.address, self.device, self.journal.path)
        next_status = time.monotonic() + status_seconds
        while not stop.is_set() and (max_ticks is None or self.ticks < max_ticks):
            self.safe_tick()
            if time.monotonic() >= next_status:
                self.log_waiting()
                next_status = time.monotonic() + status_seconds
            stop.wait(poll_seconds)

    def log_waiting(self) -> None:
        """One line: the block, and what each open entry waits for (the window it needs, in blocks)."""
        try:
            block = self.block()
            waits = self.waiting_for(block)
        except Exception as exc:  # noqa: BLE001 - a status line must never stop the role
            self.log.info("waiting: cannot read the chain (%s: %s)", type(exc).__name__, exc)
            return
        self.log.info("block %d: %s", block, "; ".join(waits) if waits else self.idle_reason())

    def waiting_for(self, block: int) -> list[str]:
        """What the open journal entries wait for (a role says which window; this default names their states)."""
        return [f"{e.key} {e.state}" for kind in self.entry_kinds for e in self.journal.entries(kind)
                if e.state not in self.final_states]  # fmt: skip

    def idle_reason(self) -> str:
        return "nothing in progress; waiting for new work"

    def settle_wait(self, job_id: int, round_: int, slot: int) -> str:
        """When a submission can be settled, from the ledger's own dry run: 'settles from block N' or 'settle now'."""
        try:
            self.client.call(self.client.ledger.functions.settleSubmission(job_id, round_, slot))
        except LedgerTooEarly as exc:
            return f"settles from block {exc.values['readyAt']}"
        except ContractError as exc:
            return f"not settleable ({type(exc).__name__})"
        return "can be settled now"

    def isolated(self, what: str, step: Callable[[], Any]) -> Any:
        """Runs one entry's step; its own failure (a malformed job, an artifact that will never parse) is logged and
        does not hold up the other entries. An unreachable RPC or Kubo still ends the pass (every step needs them).
        Once a stop was asked for, no new entry starts (Stopping ends the pass; the journal resumes it)."""
        if self._stop is not None and self._stop.is_set():
            raise Stopping(f"{self.role}: stop requested")
        try:
            return step()
        except Transient:
            raise
        except CrucibleError as exc:
            self.log.error("%s: %s: %s", what, type(exc).__name__, exc)
            return None

    # ------------------------------------------------------------------ chain helpers

    def send(self, what: str, fn: ContractFunction) -> bool:
        """Sends `fn`; a revert is logged (with the contract's error) and reported as False, never raised."""
        try:
            receipt = self.client.transact(fn)
        except ContractError as exc:
            self.log.info("%s refused by the chain: %s", what, exc)
            return False
        self.log.debug("%s: gas %s", what, receipt["gasUsed"])
        return True

    def would_succeed(self, fn: ContractFunction) -> bool:
        """A dry run of `fn` (eth_call): True when it would not revert now."""
        try:
            self.client.call(fn)
        except ContractError:
            return False
        return True

    def block(self) -> int:
        return self.client.block_number()

    def job_records(self) -> list[JobRecord]:
        """Every job of the deployment, read incrementally from JobCreated events."""
        head = self.block()
        if head >= self._records_cursor:
            for record in job_records(self.client, from_block=self._records_cursor or None, to_block=head):
                self._records[record.job_id] = record
            self._records_cursor = head + 1
        return [self._records[i] for i in sorted(self._records)]

    def keep_randomness(self, view: SubjectView, windows: Windows) -> None:
        """Records the next block's randomness when this subject may need it (a seed try, a panel re-draw or a
        committee draw): the protocol reads randomness only from blocks fixed in advance, and only a transaction in
        that very block can record it."""
        if not view.status.live:
            return
        seed_attempt = view.seed_attempt if view.flags & SubjectFlags.SEED_KNOWN else 0
        wanted = randomness_blocks(view.deadline_or_submitted_at, seed_attempt, view.audit_attempt, windows)
        target = self.block() + 1
        if target in wanted and target not in self._randomness_sent:
            self._randomness_sent.add(target)
            try:
                receipt = ledger.record_randomness(self.client)
            except ContractError as exc:  # best effort: a missed block is retried by the protocol itself
                self.log.warning("could not record the randomness of block %d: %s", target, exc)
                return
            self.log.debug("recorded the randomness of block %d (wanted %d)", receipt["blockNumber"], target)

    def job(self, job_id: int) -> LoadedJob:
        if job_id not in self._jobs:
            try:
                self._jobs[job_id] = load_job(self.client, self.store, job_id)
            except (DigestMismatch, MalformedArtifact) as exc:
                # Content-addressed and committed on-chain: these never get better. Journaled, so it is said once.
                if self.journal.get(f"job/{job_id}") is None:
                    self.journal.put(f"job/{job_id}", JOB, JobMark.INVALID.value, {"reason": str(exc)})
                raise
        return self._jobs[job_id]

    def invalid_job(self, job_id: int) -> bool:
        return self.journal.get(f"job/{job_id}") is not None

    # ------------------------------------------------------------------ money

    def ensure_stake(self, target_wei: int, *, validator: bool = False) -> None:
        """Tops the stake up to `target_wei` (and joins the validator set) when it is short; a wallet too small to
        reach the protocol minimum is a clear error, not a half-done stake."""
        stakes = self.client.stakes.functions
        staked = ledger.stake_of(self.client, self.address).staked
        minimum = int(self.client.call(stakes.minValidatorStake() if validator else stakes.minMinerStake()))
        target = max(target_wei, minimum)
        if staked < target:
            try:
                add_stake(self.client, target - staked)
            except ERC20InsufficientBalance as exc:
                if staked >= minimum:
                    self.log.warning("cannot top the stake up to %s (%s); staying at %s", cru(target), exc, cru(staked))
                else:
                    raise ChainError(
                        f"stake {cru(staked)} is below the {self.role} minimum {cru(minimum)} and the wallet cannot "
                        f"cover it ({exc})"
                    ) from None
            else:
                self.log.info("staked %s (now %s)", cru(target - staked), cru(target))
        if validator and not self.client.call(stakes.isValidator(self.address)):
            epoch = join_validator_set(self.client, self.device_classes())
            self.log.info("joined the validator set: drawable from epoch %d (current %d)", epoch,
                          int(self.client.call(stakes.currentEpoch())))  # fmt: skip

    def device_classes(self) -> list[int]:
        """The device classes this node replays bit for bit on (declared when it joins the validator set)."""
        return []

    def claim_rewards(self, min_wei: int = 1) -> int:
        owed = int(self.client.call(self.client.vault.functions.claimableOf(self.address)))
        if owed >= min_wei and self.send("claim rewards", self.client.vault.functions.claim()):
            self.log.info("claimed %s of rewards", cru(owed))
            return owed
        return 0

