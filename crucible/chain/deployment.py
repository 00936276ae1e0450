"""The deployment file: deployments/<chainId>.json, with addresses, the deployment block and the ABI reference.

It is written atomically and only after every contract is deployed and bound, so a failed deploy never leaves a
half-written file behind. Loading checks the file against the chain it is used with: a file for another chain, or
one whose contracts are gone or whose deployment block has another hash (a local chain restarted or wiped), is refused
with a clear message.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from crucible.errors import DeploymentError
from crucible.paths import DEPLOYMENTS_DIR

FORMAT_VERSION = 2


@dataclass(frozen=True)
class ProtocolParams:
    """Network-wide parameters fixed at deployment."""

    min_miner_stake: int = 100 * 10**18
    min_validator_stake: int = 100 * 10**18
    unbonding_period_blocks: int = 400
    # Validator weight changes count two epochs later, and every job must resolve within one epoch: on a 1 s local
    # chain 100 blocks keep a new validator's wait under 3.5 minutes (see docs/protocol.md for L1/L2 values).
    epoch_blocks: int = 100


@dataclass(frozen=True)
class Deployment:
    """Where the protocol lives on one chain."""

    chain_id: int
    deployed_at_block: int
    addresses: dict[str, str]
    source_hash: str  # identifies the compiled artifacts (ABI reference)
    params: ProtocolParams = field(default_factory=ProtocolParams)
    rpc_url: str | None = None
    format_version: int = FORMAT_VERSION
    # The hash of block `deployed_at_block`: tells this chain from another with the same id (a local chain that was
    # wiped and redeployed gets the same addresses, but never the same block hashes).
    block_hash: str | None = None

    def address(self, name: str) -> str:
        try:
            return self.addresses[name]
        except KeyError:
            raise DeploymentError(f"deployment for chain {self.chain_id} has no {name} address") from None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Deployment:
        try:
            params = ProtocolParams(**data.get("params", {}))
            return cls(
                chain_id=int(data["chain_id"]),
                deployed_at_block=int(data["deployed_at_block"]),
                addresses={str(k): str(v) for k, v in data["addresses"].items()},
                source_hash=str(data["source_hash"]),
                params=params,
                rpc_url=data.get("rpc_url"),
                format_version=int(data.get("format_version", FORMAT_VERSION)),
                block_hash=data.get("block_hash"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DeploymentError(f"malformed deployment data: {exc}") from exc


def deployment_path(chain_id: int, directory: Path = DEPLOYMENTS_DIR) -> Path:
    return directory / f"{chain_id}.json"


def save_deployment(deployment: Deployment, directory: Path = DEPLOYMENTS_DIR) -> Path:
    """Writes deployments/<chainId>.json atomically (temp file + rename)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = deployment_path(deployment.chain_id, directory)
    tmp = path.with_suffix(f".json.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(deployment.to_json(), indent=2) + "\n")
    os.replace(tmp, path)
    return path


def save_deployment_to(deployment: Deployment, path: Path) -> Path:
    """Writes the deployment to exactly `path`, atomically (temp file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(deployment.to_json(), indent=2) + "\n")
    os.replace(tmp, path)
    return path


def load_deployment(path: Path) -> Deployment:
    if not path.exists():
        raise DeploymentError(f"no deployment file at {path}")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DeploymentError(f"deployment file {path} is not valid JSON") from exc
    return Deployment.from_json(data)
