"""Settings shared by every command, each also readable from a CRUCIBLE_* environment variable."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crucible.chain.client import ChainClient


@dataclass
class Settings:
    """Global options of the `crucible` command."""

    rpc_url: str  # CRUCIBLE_RPC_URL: the chain's JSON-RPC endpoint
    deployment: Path | None  # CRUCIBLE_DEPLOYMENT: deployment file; default deployments/<chainId>.json
    keystore: Path | None  # CRUCIBLE_KEYSTORE: encrypted key to sign with (else CRUCIBLE_PRIVATE_KEY)
    as_json: bool  # --json / CRUCIBLE_JSON: machine-readable output

    def deployment_file(self, chain_id: int) -> Path:
        """The deployment file this command uses for `chain_id`."""
        from crucible.chain.deployment import deployment_path  # noqa: PLC0415
        from crucible.paths import DEPLOYMENTS_DIR  # noqa: PLC0415

        return self.deployment if self.deployment is not None else deployment_path(chain_id, DEPLOYMENTS_DIR)

    def client(self, *, signer: bool) -> ChainClient:
        """A client over the deployment this command targets, with a signing account when it needs one."""
        from crucible.chain.client import ChainClient, connect  # noqa: PLC0415 - web3 loads only when a command needs it
        from crucible.chain.deployment import load_deployment  # noqa: PLC0415
        from crucible.chain.keys import load_account  # noqa: PLC0415

        path = self.deployment
        if path is None:
            path = self.deployment_file(int(connect(self.rpc_url).eth.chain_id))
        account = load_account(self.keystore) if signer else None
        return ChainClient.open(self.rpc_url, load_deployment(path), account)
