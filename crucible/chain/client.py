"""A thin, typed client over web3.py: contracts by name, transactions that fail with decoded contract errors.

Every failure comes out as a crucible.errors exception with one readable line: an RPC that went away is
RpcUnavailable, one that answers with errors is RpcErrorResponse, one that serves an older chain than it already
served is RpcStale, a revert is the contract's own custom error (``StakeTooLow(...)``), a deployment that does not
match the chain is DeploymentError or WrongChain.

A daemon reads the chain in passes: `begin_pass()` fixes the block its reads are made at (the head, moved forward
by every receipt), so a pass sees one consistent state, and a node that cannot serve that block (a lagging backend
behind a load balancer) fails the pass instead of answering from the past.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import (
    BadResponseFormat,
    BlockNotFound,
    ContractCustomError,
    ContractLogicError,
    ContractPanicError,
    TimeExhausted,
    TransactionNotFound,
    Web3RPCError,
)
from web3.types import RPCEndpoint, TxReceipt

from crucible.chain.artifacts import CompiledContracts, contracts_for, packaged_contracts
from crucible.chain.deployment import Deployment
from crucible.chain.revert import decode_revert
from crucible.errors import (
    ChainError,
    DeploymentError,
    InsufficientFunds,
    RpcErrorResponse,
    RpcStale,
    RpcUnavailable,
    TransactionReverted,
    TransactionUnconfirmed,
    WrongChain,
)


def connect(rpc_url: str, *, timeout: float = 30.0) -> Web3:
    """A connected Web3, or RpcUnavailable (RpcErrorResponse when it answers with errors) with the URL in the
    message."""
    # web3.py's validation middleware asks for the chain id before every call, estimate and send: cached, that is
    # about half of a daemon's requests saved (docs/bench/network.md). A node never changes its chain id; a chain
    # restarted under the same URL is caught by the deployment's block-hash anchor, not by the id.
    provider = Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}, cache_allowed_requests=True,
                                 cacheable_requests={RPCEndpoint("eth_chainId")})  # fmt: skip
    w3 = Web3(provider)
    try:
        w3.eth.chain_id  # noqa: B018 - a cheap call that proves the endpoint answers
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise RpcUnavailable(f"cannot reach the RPC at {rpc_url}") from exc
    except (requests.RequestException, BadResponseFormat, Web3RPCError) as exc:
        raise rpc_failure(exc, rpc_url, "eth_chainId") from exc
    except OSError as exc:
        raise RpcUnavailable(f"cannot reach the RPC at {rpc_url}") from exc
    return w3


@dataclass
class ChainClient:
    """Contracts of one deployment on one chain, and an optional account that signs for us."""

    w3: Web3
    deployment: Deployment
    account: LocalAccount | None = None
    compiled: CompiledContracts = field(default_factory=packaged_contracts)  # the ABIs this package ships
    receipt_timeout: float = 120.0
    _contracts: dict[str, Contract] = field(default_factory=dict, repr=False)
    _head: int = field(default=0, repr=False)  # the highest block the node has shown us
    _pinned: bool = field(default=False, repr=False)  # reads are made at `_head` (a daemon's pass)
    _in_flight: tuple[str, str] | None = field(default=None, repr=False)  # (tx hash, function) whose receipt was lost

    @classmethod
    def open(
        cls, rpc_url: str, deployment: Deployment, account: LocalAccount | None = None, *, check_code: bool = True
    ) -> ChainClient:
        """Connects and checks that the deployment belongs to this chain, and (with `check_code`) that each of its
        addresses holds the runtime code of the contract whose ABI we use for it."""
        w3 = connect(rpc_url)
        chain_id = _rpc(lambda: w3.eth.chain_id, rpc_url)
        if chain_id != deployment.chain_id:
            raise WrongChain(
                f"the RPC at {rpc_url} serves chain {chain_id}, but the deployment is for chain {deployment.chain_id}"
            )
        client = cls(w3=w3, deployment=deployment, account=account, compiled=contracts_for(deployment.source_hash))
        if deployment.block_hash and client.block_hash(deployment.deployed_at_block) != deployment.block_hash.lower():
            raise DeploymentError(
                f"the deployment file is stale: it belongs to another chain with id {chain_id}: block "
                f"{deployment.deployed_at_block} at {rpc_url} is not the one it was deployed in (the local chain was "
                "wiped or restarted without its state, or this is a different chain with the same id)"
            )
        if check_code:
            for name, address in deployment.addresses.items():
                code = bytes(_rpc(lambda a=address: w3.eth.get_code(a), rpc_url))
                if len(code) == 0:
                    raise DeploymentError(
                        f"no contract code for {name} at {address} on chain {chain_id}: the deployment file is "
                        "stale (was the local chain restarted?)"
                    )
                if name in client.compiled.contracts and not client.compiled[name].runtime_matches(code):
                    raise DeploymentError(
                        f"the code at {address} is not the {name} whose ABI this installation uses (source hash "
                        f"{client.compiled.source_hash}, {client.compiled.origin}): the deployment file names the "
                        "wrong address, or the contract was built from other sources"
                    )
        return client

    @property
    def rpc_url(self) -> str:
        return str(getattr(self.w3.provider, "endpoint_uri", "?"))

    @property
    def sender(self) -> str:
        if self.account is None:
            raise ChainError("this command needs a signing key (--keystore or CRUCIBLE_PRIVATE_KEY)")
        return str(self.account.address)

    def contract(self, name: str) -> Contract:
        if name not in self._contracts:
            self._contracts[name] = self.w3.eth.contract(
                address=Web3.to_checksum_address(self.deployment.address(name)), abi=self.compiled[name].abi
            )
        return self._contracts[name]

    # Short names for the protocol's contracts.
    @property
    def token(self) -> Contract:
        return self.contract("CrucibleToken")

    @property
    def stakes(self) -> Contract:
        return self.contract("StakeManager")

    @property
    def vault(self) -> Contract:
        return self.contract("RewardVault")

    @property
    def ledger(self) -> Contract:
        return self.contract("WorkLedger")

    @property
    def registry(self) -> Contract:
        return self.contract("JobRegistry")

    @property
    def lens(self) -> Contract:
        return self.contract("LedgerLens")

    def call(self, fn: ContractFunction, *, sender: str | None = None) -> Any:
        """Runs a read-only call (at the pass's block during a daemon's pass); a revert surfaces as the contract's
        own error."""
        params = {"from": sender or (self.account.address if self.account else None)}
        at: int | str = self._head if self._pinned and self._head else "latest"
        try:
            with self.rpc_errors(f"a call to {fn.fn_name}", at=at):
                return fn.call({k: v for k, v in params.items() if v}, block_identifier=at)
        except (ContractCustomError, ContractLogicError, ContractPanicError) as exc:
            raise decode_revert(_revert_data(exc)) from None

    # ------------------------------------------------------------------ passes, heads and failing nodes

    def begin_pass(self) -> int:
        """Reads the head and makes it the block every read of this pass is made at (moved forward by receipts).
        Raises RpcStale when the node serves an older head than it already did."""
        self._pinned = True
        return self.block_number()

    def end_pass(self) -> None:
        self._pinned = False

    def _saw(self, block: int) -> None:
        self._head = max(self._head, block)

    @contextmanager
    def rpc_errors(self, doing: str, *, at: int | str = "latest") -> Iterator[None]:
        """Turns the ways a node can fail a request into the crucible errors that say so (reverts pass through)."""
        try:
            yield
        except (ContractCustomError, ContractLogicError, ContractPanicError, BlockNotFound, TransactionNotFound):
            raise  # answers, not failures
        except (requests.RequestException, BadResponseFormat, Web3RPCError) as exc:
            raise self.failure(exc, doing, at=at) from exc

    def failure(self, exc: Exception, doing: str, *, at: int | str = "latest") -> ChainError:
        """The crucible error for a request the node failed (see `rpc_failure`)."""
        return rpc_failure(exc, self.rpc_url, doing, at=at)

    def transact(self, fn: ContractFunction, *, gas: int | None = None, sender: str | None = None) -> TxReceipt:
        """Signs, sends and waits for `fn`; returns the receipt or raises the decoded revert.

        One transaction in flight at a time: when the receipt of the last one was lost (the RPC failed while we
        waited), the next call first waits for that one and, once it has landed, raises TransactionUnconfirmed
        instead of sending: what the caller decided was decided without it (a daemon re-reads the chain).

        With `sender` set and no local key for it, the node signs (anvil's unlocked or impersonated accounts):
        that path exists for local tooling and benchmarks, never for keys of value.
        """
        self._settle_in_flight(fn.fn_name)
        frm = sender or self.sender
        tx: dict[str, Any] = {"from": frm, "chainId": self.deployment.chain_id}
        if gas is not None:
            tx["gas"] = gas
        try:
            built = fn.build_transaction(tx)  # estimates gas: most reverts surface here, decoded
            if gas is None:
                # The estimate is taken against the latest block; the transaction lands in a later one, where a
                # warm slot may have gone cold or a zero slot become non-zero. A margin keeps it from running dry.
                built["gas"] = int(built["gas"] * 1.2) + 20_000
            if self.account is not None and frm.lower() == self.account.address.lower():
                built["nonce"] = self.w3.eth.get_transaction_count(frm, "pending")
                signed = self.account.sign_transaction(built)
                tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
            else:
                tx_hash = self.w3.eth.send_transaction(built)
        except (ContractCustomError, ContractLogicError, ContractPanicError) as exc:
            raise decode_revert(_revert_data(exc)) from None
        except Web3RPCError as exc:
            raise rpc_error(exc, self.rpc_url) from None
        except (requests.RequestException, BadResponseFormat) as exc:
            raise self.failure(exc, f"sending {fn.fn_name}") from exc
        self._in_flight = (tx_hash.to_0x_hex(), fn.fn_name)
        receipt = self._receipt(tx_hash.to_0x_hex(), fn.fn_name)
        self._in_flight = None
        if receipt["status"] != 1:
            failure = self._replay_failure(built, receipt)
            failure.args = (f"{fn.fn_name}: {failure.args[0]} (gas limit {built['gas']}, used {receipt['gasUsed']})",)
            raise failure
        return receipt

    def _receipt(self, tx_hash: str, what: str) -> TxReceipt:
        try:
            receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=self.receipt_timeout)  # type: ignore[arg-type]
        except TimeExhausted:
            raise TransactionUnconfirmed(f"{what}: transaction {tx_hash} was sent to {self.rpc_url} but no receipt "
                                         f"came in {self.receipt_timeout:g} s") from None  # fmt: skip
        except (requests.RequestException, BadResponseFormat, Web3RPCError) as exc:
            raise self.failure(exc, f"waiting for the receipt of {what} ({tx_hash})") from exc
        self._saw(int(receipt["blockNumber"]))
        return receipt

    def _settle_in_flight(self, next_what: str) -> None:
        """Waits for the transaction whose receipt was lost; refuses to send anything on a decision made without
        it."""
        if self._in_flight is None:
            return
        tx_hash, what = self._in_flight
        try:
            receipt = self._receipt(tx_hash, what)
        except TransactionUnconfirmed:
            self._in_flight = None  # dropped or replaced: the chain's state (and the nonce) tell the caller the rest
            raise
        self._in_flight = None
        raise TransactionUnconfirmed(f"{what} ({tx_hash}), whose receipt was lost, landed in block "
                                     f"{receipt['blockNumber']}: not sending {next_what} on a view from before it")  # fmt: skip

    def _replay_failure(self, tx: dict[str, Any], receipt: TxReceipt) -> TransactionReverted:
        """A mined transaction failed: replay it as a call to learn the revert data.

        First against the state after its block: when an earlier transaction of the same block made ours fail (two
        keepers settling the same subject), that state reproduces the revert and names the contract's error. Then
        against the state before its block. A transaction that used all its gas ran out of it.
        """
        tx_hash = receipt["transactionHash"].to_0x_hex()
        call = {k: tx[k] for k in ("from", "to", "data", "value") if k in tx}
        for block in (receipt["blockNumber"], receipt["blockNumber"] - 1):
            try:
                self.w3.eth.call(call, block)  # type: ignore[arg-type]
            except (ContractCustomError, ContractLogicError, ContractPanicError) as exc:
                return decode_revert(_revert_data(exc), tx_hash=tx_hash)
            except (Web3RPCError, ValueError):
                continue  # the node no longer holds that state
        limit = int(tx.get("gas", 0))
        if limit and int(receipt["gasUsed"]) >= limit:
            return TransactionReverted(f"transaction ran out of gas (used all {limit:,}) in block "
                                       f"{receipt['blockNumber']}", tx_hash=tx_hash)  # fmt: skip
        return TransactionReverted(
            f"transaction reverted in block {receipt['blockNumber']} and replaying it there does not reproduce the "
            f"revert (a transaction earlier in that block changed what it depended on); tx {tx_hash}",
            tx_hash=tx_hash,
        )

    def block_number(self) -> int:
        """The node's head; RpcStale when it is older than a block this client has already seen (a lagging node)."""
        with self.rpc_errors("eth_blockNumber"):
            head = int(self.w3.eth.block_number)
        if head < self._head:
            raise RpcStale(f"the RPC at {self.rpc_url} answered block {head} after having served block {self._head}")
        self._head = head
        return head

    def block_hash(self, number: int) -> str | None:
        """The hash of block `number` on this chain (lowercase 0x hex), or None when the chain has no such block."""
        try:
            with self.rpc_errors(f"eth_getBlockByNumber({number})"):
                return str(_rpc(lambda: self.w3.eth.get_block(number), self.rpc_url)["hash"].to_0x_hex()).lower()
        except BlockNotFound:
            return None

    def identity(self) -> str:
        """What tells this deployment on this chain from any other: chain id, deployment block hash, ledger address.
        Journals record it so a role never resumes against a chain that was wiped or a different deployment."""
        anchor = self.block_hash(self.deployment.deployed_at_block) or "missing"
        return f"{self.deployment.chain_id}:{anchor}:{self.deployment.address('WorkLedger').lower()}"


def _revert_data(exc: Exception) -> str | None:
    data = getattr(exc, "data", None)
    if isinstance(data, dict):
        data = data.get("data")
    return data if isinstance(data, str) else None


def rpc_failure(exc: Exception, rpc_url: str, doing: str, *, at: int | str = "latest") -> ChainError:
    """The crucible error for a request a node failed: unreachable, an HTTP error, a JSON-RPC error, or (for a read
    at a block it already served) a node that went back in time."""
    if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        return RpcUnavailable(f"lost the RPC at {rpc_url} during {doing}")
    if isinstance(exc, requests.HTTPError):
        status = exc.response.status_code if exc.response is not None else "?"
        return RpcErrorResponse(f"the RPC at {rpc_url} answered HTTP {status} to {doing}")
    if isinstance(exc, Web3RPCError):
        text = _rpc_message(exc)
        if isinstance(at, int) and any(s in text.lower() for s in STALE_MARKERS):
            return RpcStale(f"the RPC at {rpc_url} does not have block {at}, which it already served ({text})")
        return RpcErrorResponse(f"the RPC at {rpc_url} answered {doing} with an error: {text}")
    return RpcErrorResponse(f"the RPC at {rpc_url} answered {doing} with something that is not JSON-RPC "
                            f"({type(exc).__name__})")  # fmt: skip


def _rpc_message(exc: Web3RPCError) -> str:
    """A node's error as one line: its code and message when it sent them."""
    response = getattr(exc, "rpc_response", None)
    error = response.get("error") if isinstance(response, dict) else None
    if isinstance(error, dict) and "message" in error:
        return f"{error.get('code', '?')} {error['message']}"
    return str(exc)


# What nodes say when the sender cannot pay for gas: geth and anvil ("insufficient funds for gas * price + value"),
# Hardhat's node ("Sender doesn't have enough funds to send tx").
NO_FUNDS_MARKERS = ("insufficient funds", "doesn't have enough funds")
# What nodes say when asked for a block they do not have (geth, erigon, anvil, Hardhat).
STALE_MARKERS = ("header not found", "unknown block", "block not found", "blockoutofrange", "block out of range")
# JSON-RPC error codes of a node that failed, not of a transaction it judged: internal error, limit exceeded.
SERVER_FAILURE_CODES = (-32603, -32005)


def rpc_error(exc: Web3RPCError, rpc_url: str = "the RPC") -> ChainError:
    """The crucible error for a node's refusal of a transaction."""
    text = str(exc)
    if any(marker in text.lower() for marker in NO_FUNDS_MARKERS):
        return InsufficientFunds("the sending account cannot pay for gas: fund it with ETH first")
    if "nonce" in text.lower():
        return ChainError(f"nonce problem (another transaction from this key in flight?): {text}")
    response = getattr(exc, "rpc_response", None)
    error = response.get("error") if isinstance(response, dict) else None
    if isinstance(error, dict) and error.get("code") in SERVER_FAILURE_CODES:
        return RpcErrorResponse(f"the RPC at {rpc_url} failed the transaction's request: {_rpc_message(exc)}")
    return ChainError(f"the node rejected the transaction: {text}")


def _rpc(thunk: Any, rpc_url: str) -> Any:
    try:
        return thunk()
    except (BlockNotFound, TransactionNotFound):
        raise  # answers, not failures
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise RpcUnavailable(f"cannot reach the RPC at {rpc_url}") from exc
    except (requests.RequestException, BadResponseFormat, Web3RPCError) as exc:
        raise rpc_failure(exc, rpc_url, "a request") from exc
    except OSError as exc:
        raise RpcUnavailable(f"cannot reach the RPC at {rpc_url}") from exc
