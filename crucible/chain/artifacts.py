"""The contracts' ABIs and deploy bytecode as this package ships them, and the check that ties them to a chain.

`crucible/abi/<Contract>.json` holds each deployable contract's ABI, creation bytecode, runtime bytecode and the
byte ranges of its immutables; `crucible/abi/build.json` stamps them with the source hash they were compiled from
(`crucible.chain.compiler.source_hash()`). They are written by `python -m crucible.chain.build_abis` in a checkout,
and a test fails when they fall behind contracts/src. Miners, validators and sponsors read them from here: nothing
on those paths imports a Solidity compiler, needs Node or needs a checkout.

A deployment names the source hash it was built from. `contracts_for(hash)` returns the packaged artifacts when the
hash is theirs, else a developer's fresh build of that hash from the compile cache (written by `crucible deploy
--from-source`), else refuses with what to do.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from crucible.errors import DeploymentError
from crucible.paths import cache_dir

ABI_PACKAGE = "crucible.abi"
BUILD_FILE = "build.json"
ARTIFACT_FORMAT = "crucible-artifact-v1"
DEPLOYED_CONTRACTS = (
    "CrucibleToken", "StakeManager", "RewardVault", "LedgerSettlement", "WorkLedger", "JobRegistry", "LedgerLens",
)  # fmt: skip


@dataclass(frozen=True)
class ContractArtifact:
    """ABI and bytecode of one contract; `immutables` are the (start, length) byte ranges of the runtime code that
    the constructor fills in (they differ per deployment, so a code check skips them)."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    immutables: tuple[tuple[int, int], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"contractName": self.name, "abi": self.abi, "bytecode": self.bytecode,
                "deployedBytecode": self.deployed_bytecode, "immutables": [list(r) for r in self.immutables]}  # fmt: skip

    @classmethod
    def from_json(cls, name: str, data: dict[str, Any]) -> ContractArtifact:
        return cls(name, data["abi"], data["bytecode"], data["deployedBytecode"],
                   tuple((int(start), int(length)) for start, length in data.get("immutables", [])))  # fmt: skip

    def runtime_matches(self, code: bytes) -> bool:
        """Whether `code` (read from the chain) is this contract's runtime bytecode, immutables aside."""
        expected = bytearray(bytes.fromhex(self.deployed_bytecode.removeprefix("0x")))
        actual = bytearray(code)
        if len(actual) != len(expected):
            return False
        for start, length in self.immutables:
            expected[start : start + length] = actual[start : start + length] = bytes(length)
        return actual == expected


@dataclass(frozen=True)
class CompiledContracts:
    """Every deployable contract, keyed by name, plus the hash that identifies their sources and settings."""

    source_hash: str
    contracts: dict[str, ContractArtifact]
    origin: str = field(default="packaged", compare=False)  # packaged | compile cache | compiler

    def __getitem__(self, name: str) -> ContractArtifact:
        return self.contracts[name]

    def all_abis(self) -> list[list[dict[str, Any]]]:
        return [artifact.abi for artifact in self.contracts.values()]


@lru_cache(maxsize=1)
def packaged_contracts() -> CompiledContracts:
    """The artifacts this package ships (crucible/abi/)."""
    root = resources.files(ABI_PACKAGE)
    try:
        build = json.loads(root.joinpath(BUILD_FILE).read_text())
        contracts = {
            name: ContractArtifact.from_json(name, json.loads(root.joinpath(f"{name}.json").read_text()))
            for name in build["contracts"]
        }
    except (FileNotFoundError, KeyError, ValueError) as exc:
        raise DeploymentError(f"this installation of crucible lacks its contract ABIs (crucible/abi: {exc}); in a "
                              "checkout, run `python -m crucible.chain.build_abis`") from None  # fmt: skip
    return CompiledContracts(str(build["sourceHash"]), contracts, origin="packaged")


def contracts_for(source_hash: str) -> CompiledContracts:
    """The artifacts a deployment built from `source_hash` was made of: the packaged ones, or a developer's fresh
    build of that hash from the compile cache. Refuses (DeploymentError) when neither is at hand."""
    packaged = packaged_contracts()
    if source_hash == packaged.source_hash:
        return packaged
    cached = cache_dir() / "artifacts" / f"{source_hash}.json"
    if cached.exists():
        return from_cache_json(source_hash, json.loads(cached.read_text()))
    raise DeploymentError(
        f"the deployment was built from other contract sources (source hash {source_hash}) than this installation's "
        f"ABIs ({packaged.source_hash}): install the crucible version that matches the deployment, or redeploy"
    )


def from_cache_json(source_hash: str, data: dict[str, Any]) -> CompiledContracts:
    """Artifacts in the compile cache's layout ({name: {abi, bytecode, deployedBytecode, immutables}})."""
    return CompiledContracts(
        source_hash, {name: ContractArtifact.from_json(name, item) for name, item in data.items()},
        origin="compile cache",
    )  # fmt: skip


def write_packaged(compiled: CompiledContracts, directory: Path) -> list[Path]:
    """Writes one JSON file per contract and the build stamp into `directory` (each file atomically)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in sorted(compiled.contracts):
        body = {"format": ARTIFACT_FORMAT, "sourceHash": compiled.source_hash, **compiled[name].to_json()}
        written.append(_write_json(directory / f"{name}.json", body))
    stamp = {"format": ARTIFACT_FORMAT, "sourceHash": compiled.source_hash, "contracts": sorted(compiled.contracts),
             "rebuild": "python -m crucible.chain.build_abis"}  # fmt: skip
    written.append(_write_json(directory / BUILD_FILE, stamp))
    return written


def _write_json(path: Path, body: dict[str, Any]) -> Path:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(body, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)
    return path
