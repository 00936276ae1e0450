"""Hardhat's node (EDR, from npm `hardhat@2`) on loopback: the second EVM implementation the protocol runs on.

It is started with our own config (`hardhat.config.cjs` next to this file): chain id 31337 and the same development
mnemonic and balances as anvil, so every fixture, command and deployment works unchanged. It keeps no state on disk
(a restart is a fresh chain) and takes interval mining in milliseconds with automine switched off separately.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from crucible.errors import ConfigError, RpcUnavailable
from crucible.localnet.chain import DEV_BALANCE_ETH, DEV_MNEMONIC, LocalChain
from crucible.localnet.ports import child_process_options, free_port, port_in_use, wait_for_port
from crucible.paths import NODE_MODULES

CONFIG = Path(__file__).with_name("hardhat.config.cjs")


def hardhat_binary() -> Path:
    return NODE_MODULES / ".bin" / "hardhat"


@dataclass
class HardhatNode(LocalChain):
    """A running `hardhat node`. Use as a context manager, or call close()."""

    NAME: ClassVar[str] = "hardhat"

    @classmethod
    def start(cls, *, port: int | None = None, accounts: int = 10, log_path: Path | None = None) -> HardhatNode:
        binary = hardhat_binary()
        if not binary.exists():
            raise ConfigError(f"Hardhat not found at {binary}: run scripts/setup.sh (it installs the npm toolchain)")
        if port is not None and port_in_use(port):
            raise ConfigError(
                f"127.0.0.1:{port} is already in use (a chain left running? `ss -ltnp | grep :{port}` shows what "
                f"holds it): stop it, or choose another port with --rpc-url http://127.0.0.1:<port>"
            )
        port = port or free_port()
        env = dict(os.environ)
        env.update({
            "CRUCIBLE_HARDHAT_ACCOUNTS": str(accounts),
            "CRUCIBLE_HARDHAT_MNEMONIC": DEV_MNEMONIC,
            "CRUCIBLE_HARDHAT_BALANCE_WEI": str(DEV_BALANCE_ETH * 10**18),
            "HARDHAT_DISABLE_TELEMETRY_PROMPT": "true",  # never ask, never send
        })  # fmt: skip
        args = [str(binary), "--config", str(CONFIG), "node", "--hostname", "127.0.0.1", "--port", str(port)]
        out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - handed to the child
        process = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=CONFIG.parent,
                                   **child_process_options())  # type: ignore[call-overload]  # fmt: skip
        node = cls(port=port, process=process, log_path=log_path)
        if not wait_for_port(port, timeout=60, alive=process):
            code = process.poll()
            node.close()
            detail = f"it exited with code {code}" if code is not None else "it did not answer in 60 s"
            where = f"; see {log_path}" if log_path else ""
            raise RpcUnavailable(f"Hardhat's node did not start listening on 127.0.0.1:{port}: {detail}{where}")
        return node

    def set_block_time(self, seconds: float) -> None:
        # Hardhat keeps automine on beside interval mining unless told otherwise, and counts in milliseconds.
        self.rpc("evm_setAutomine", [False])
        self.rpc("evm_setIntervalMining", [max(1, round(seconds * 1000))])
