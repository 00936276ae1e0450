"""A local EVM node on loopback, of either implementation: anvil (Foundry, Rust) or Hardhat's node (EDR, from npm).

Everything above this module talks plain JSON-RPC and never cares which one runs; the two differ only in how they
are started, how they keep state, and how interval mining is switched on. `CRUCIBLE_EVM` (or `--evm` where a
command starts a node) picks one: the tests, `network up` and the demo all read it, so one setting runs them on the
second implementation.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import requests

from crucible.errors import ConfigError, RpcUnavailable

EVMS = ("anvil", "hardhat")
EVM_ENV = "CRUCIBLE_EVM"
LOCAL_CHAIN_ID = 31337
# The well-known development mnemonic both nodes derive their accounts from; its keys are public and worthless
# outside a local chain.
DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_BALANCE_ETH = 10_000


def evm_from_env() -> str:
    """The EVM implementation `CRUCIBLE_EVM` names (default anvil); anything else is a clear error."""
    evm = os.environ.get(EVM_ENV, "anvil").strip().lower() or "anvil"
    if evm not in EVMS:
        raise ConfigError(f"{EVM_ENV}={evm!r}: choose one of {', '.join(EVMS)}")
    return evm


@dataclass
class LocalChain:
    """A running local node. Use as a context manager, or call close()."""

    NAME: ClassVar[str] = "evm"
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path | None = None
    chain_id: int = LOCAL_CHAIN_ID
    _closed: bool = field(default=False, repr=False)

    @property
    def name(self) -> str:
        return self.NAME

    @property
    def rpc_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def keeps_state(self) -> bool:
        """Whether the node can write its chain to disk and load it on the next start."""
        return False

    def rpc(self, method: str, params: list[Any]) -> Any:
        """One raw JSON-RPC call to this node (node-specific methods stay in crucible/localnet)."""
        try:
            response = requests.post(self.rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": method,
                                                         "params": params}, timeout=30)  # fmt: skip
            body = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise RpcUnavailable(f"{self.NAME} at {self.rpc_url} did not answer {method}") from exc
        if "error" in body:
            raise ConfigError(f"{self.NAME} refused {method}: {body['error']}")
        return body.get("result")

    def set_block_time(self, seconds: float) -> None:
        """From now on the node mines a block every `seconds` by itself, like a real chain (no block per
        transaction)."""
        raise NotImplementedError

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> LocalChain:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_chain(
    evm: str | None = None,
    *,
    port: int | None = None,
    accounts: int = 10,
    log_path: Path | None = None,
    state_path: Path | None = None,
) -> LocalChain:
    """Starts the node `evm` names (default: CRUCIBLE_EVM, else anvil) on 127.0.0.1:`port` (a free one when None),
    mining a block per transaction. `state_path` (anvil only) keeps the chain across restarts."""
    from crucible.localnet.anvil import AnvilNode  # noqa: PLC0415 - the two modules import this one
    from crucible.localnet.hardhat import HardhatNode  # noqa: PLC0415

    evm = evm or evm_from_env()
    if evm == "anvil":
        return AnvilNode.start(port=port, accounts=accounts, log_path=log_path, state_path=state_path)
    if evm == "hardhat":
        return HardhatNode.start(port=port, accounts=accounts, log_path=log_path)
    raise ConfigError(f"unknown EVM {evm!r}: choose one of {', '.join(EVMS)}")
