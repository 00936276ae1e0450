"""An anvil chain on loopback, as a small handle with the RPC URL and a close()."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from crucible.errors import ConfigError, RpcUnavailable
from crucible.localnet.chain import DEV_BALANCE_ETH, DEV_MNEMONIC, LOCAL_CHAIN_ID, LocalChain
from crucible.localnet.ports import child_process_options, free_port, port_in_use, wait_for_port
from crucible.paths import node_binary

__all__ = ["DEV_MNEMONIC", "LOCAL_CHAIN_ID", "AnvilNode"]


@dataclass
class AnvilNode(LocalChain):
    """A running anvil process. Use as a context manager, or call close()."""

    NAME: ClassVar[str] = "anvil"

    @property
    def keeps_state(self) -> bool:
        return True

    @classmethod
    def start(
        cls,
        *,
        port: int | None = None,
        accounts: int = 10,
        block_time: float | None = None,
        log_path: Path | None = None,
        state_path: Path | None = None,
        state_interval: int | None = None,
    ) -> AnvilNode:
        """Starts anvil on 127.0.0.1:`port` (a free port when None). A port something else holds is an error: we
        never talk to a chain we did not start as if it were ours. With `state_path` the chain is loaded from it and
        written back on exit (and every `state_interval` seconds)."""
        binary = node_binary("anvil")
        if not binary.exists():
            raise ConfigError(f"anvil not found (neither {binary} nor on PATH): in a checkout run scripts/setup.sh; "
                              "elsewhere install Foundry's anvil on PATH")  # fmt: skip
        if port is not None and port_in_use(port):
            raise ConfigError(
                f"127.0.0.1:{port} is already in use (a chain left running? `ss -ltnp | grep :{port}` shows what "
                f"holds it): stop it, or choose another port with --rpc-url http://127.0.0.1:<port>"
            )
        port = port or free_port()
        args = [
            str(binary),
            "--host", "127.0.0.1",
            "--port", str(port),
            "--chain-id", str(LOCAL_CHAIN_ID),
            "--accounts", str(accounts),
            "--mnemonic", DEV_MNEMONIC,
            "--balance", str(DEV_BALANCE_ETH),
            "--silent",
        ]  # fmt: skip
        if block_time:
            args += ["--block-time", str(block_time)]
        if state_path:
            args += ["--state", str(state_path)]
            if state_interval:
                args += ["--state-interval", str(state_interval)]
        out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - handed to the child
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, **child_process_options())  # type: ignore[call-overload]
        node = cls(port=port, process=process, log_path=log_path)
        if not wait_for_port(port, timeout=20, alive=process):
            code = process.poll()
            node.close()
            detail = f"it exited with code {code}" if code is not None else "it did not answer in 20 s"
            where = f"; see {log_path}" if log_path else ""
            raise RpcUnavailable(f"anvil did not start listening on 127.0.0.1:{port}: {detail}{where}")
        return node

    def set_block_time(self, seconds: float) -> None:
        # anvil takes whole seconds and leaves automine when interval mining starts.
        self.rpc("evm_setIntervalMining", [max(1, round(seconds))])
