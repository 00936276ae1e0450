"""A thin, typed client over web3.py: contracts by name, transactions that fail with decoded contract errors.

Every failure comes out as a crucible.errors exception with one readable line: an RPC that went away is
RpcUnavailable, a revert is the contract's own custom error (``StakeTooLow(...)``), a deployment that does not
match the chain is DeploymentError or WrongChain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractCustomError, ContractLogicError, ContractPanicError, Web3RPCError
from web3.types import TxReceipt

from crucible.chain.artifacts import CompiledContracts, contracts_for, packaged_contracts
from crucible.chain.deployment import Deployment
from crucible.chain.revert import decode_revert
from crucible.errors import (
    ChainError,
    DeploymentError,
    InsufficientFunds,
    RpcUnavailable,
    TransactionReverted,
    WrongChain,
)


def connect(rpc_url: str, *, timeout: float = 30.0) -> Web3:
    """A connected Web3, or RpcUnavailable with the URL in the message."""
    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))
    try:
        w3.eth.chain_id  # noqa: B018 - a cheap call that proves the endpoint answers
    except (requests.ConnectionError, requests.Timeout, OSError) as exc:
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
        """Runs a read-only call; a revert surfaces as the contract's own error."""
        params = {"from": sender or (self.account.address if self.account else None)}
        try:
            return fn.call({k: v for k, v in params.items() if v})
        except (ContractCustomError, ContractLogicError, ContractPanicError) as exc:
            raise decode_revert(_revert_data(exc)) from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise RpcUnavailable(f"lost the RPC at {self.rpc_url} during a call") from exc

    def transact(self, fn: ContractFunction, *, gas: int | None = None, sender: str | None = None) -> TxReceipt:
        """Signs, sends and waits for `fn`; returns the receipt or raises the decoded revert.

        With `sender` set and no local key for it, the node signs (anvil's unlocked or impersonated accounts):
        that path exists for local tooling and benchmarks, never for keys of value.
        """
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
            receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=self.receipt_timeout)
        except (ContractCustomError, ContractLogicError, ContractPanicError) as exc:
            raise decode_revert(_revert_data(exc)) from None
        except Web3RPCError as exc:
            raise rpc_error(exc) from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise RpcUnavailable(f"lost the RPC at {self.rpc_url} while sending a transaction") from exc
        if receipt["status"] != 1:
            failure = self._replay_failure(built, receipt)
            failure.args = (f"{fn.fn_name}: {failure.args[0]} (gas limit {built['gas']}, used {receipt['gasUsed']})",)
            raise failure
        return receipt

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
        return int(self.w3.eth.block_number)

    def block_hash(self, number: int) -> str | None:
        """The hash of block `number` on this chain (lowercase 0x hex), or None when the chain has no such block."""
        from web3.exceptions import BlockNotFound  # noqa: PLC0415

        try:
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


def rpc_error(exc: Web3RPCError) -> ChainError:
    """The crucible error for a node's refusal of a transaction."""
    text = str(exc)
    if "insufficient funds" in text.lower():
        return InsufficientFunds("the sending account cannot pay for gas: fund it with ETH first")
    if "nonce" in text.lower():
        return ChainError(f"nonce problem (another transaction from this key in flight?): {text}")
    return ChainError(f"the node rejected the transaction: {text}")


def _rpc(thunk: Any, rpc_url: str) -> Any:
    try:
        return thunk()
    except (requests.ConnectionError, requests.Timeout, OSError) as exc:
        raise RpcUnavailable(f"cannot reach the RPC at {rpc_url}") from exc
