"""Settings shared by every command, each also readable from a CRUCIBLE_* environment variable."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from crucible.chain.client import ChainClient, connect
from crucible.chain.deployment import deployment_path, load_deployment
from crucible.chain.keys import load_account
from crucible.paths import DEPLOYMENTS_DIR


@dataclass
class Settings:
    """Global options of the `crucible` command."""

    rpc_url: str  # CRUCIBLE_RPC_URL: the chain's JSON-RPC endpoint
    deployment: Path | None  # CRUCIBLE_DEPLOYMENT: deployment file; default deployments/<chainId>.json
    keystore: Path | None  # CRUCIBLE_KEYSTORE: encrypted key to sign with (else CRUCIBLE_PRIVATE_KEY)
    as_json: bool  # --json: machine-readable output

    def client(self, *, signer: bool) -> ChainClient:
        """A client over the deployment this command targets, with a signing account when it needs one."""
        path = self.deployment
        if path is None:
            chain_id = int(connect(self.rpc_url).eth.chain_id)
            path = deployment_path(chain_id, DEPLOYMENTS_DIR)
        account = load_account(self.keystore) if signer else None
        return ChainClient.open(self.rpc_url, load_deployment(path), account)
