"""Compiles the Crucible contracts with py-solc-x and caches the artifacts by a hash of everything that matters.

A developer step only: the package ships the compiled ABIs and bytecode (crucible/abi, written by
`python -m crucible.chain.build_abis`), and miners, validators and sponsors read those (crucible.chain.artifacts).
This module is imported by the ABI build, `crucible deploy --from-source` and tests, never by a role's path.

A native ``solc`` on PATH is used when its version matches; otherwise the npm solc-js compiler through our
solc-compatible wrapper (contracts/toolchain/solc), because native compiler downloads are refused on networks like
ours. Forge compiles with the same wrapper and settings (foundry.toml), so tests and deployments run the same
bytecode.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import solcx

from crucible.chain.artifacts import DEPLOYED_CONTRACTS, CompiledContracts, from_cache_json
from crucible.errors import ConfigError
from crucible.paths import CONTRACT_SOURCES, CONTRACTS_DIR, NODE_MODULES, REPO_ROOT, cache_dir

SOLC_VERSION = "0.8.30"
EVM_VERSION = "cancun"
OPTIMIZER_RUNS = 100  # keep in step with foundry.toml: WorkLedger sits close to the EIP-170 size limit
OZ_REMAP = "@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/"
def solc_binary() -> Path:
    """A native solc of the pinned version if one is on PATH, else the solc-js wrapper."""
    native = shutil.which("solc")
    if native:
        out = subprocess.run([native, "--version"], capture_output=True, text=True, check=False).stdout
        if f"Version: {SOLC_VERSION}" in out:
            return Path(native)
    wrapper = CONTRACTS_DIR / "toolchain" / "solc"
    if not (NODE_MODULES / "solc").exists():
        raise ConfigError("solc-js is not installed: run `npm ci` in the repository root (scripts/setup.sh does)")
    return wrapper


def _sources() -> dict[str, dict[str, str]]:
    return {
        f"contracts/src/{path.relative_to(CONTRACT_SOURCES).as_posix()}": {"content": path.read_text()}
        for path in sorted(CONTRACT_SOURCES.rglob("*.sol"))
    }


def _standard_input(sources: dict[str, dict[str, str]]) -> dict[str, Any]:
    return {
        "language": "Solidity",
        "sources": sources,
        "settings": {
            "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
            "evmVersion": EVM_VERSION,
            "remappings": [OZ_REMAP],
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object",
                                              "evm.deployedBytecode.immutableReferences"]}},
        },
    }


def source_hash() -> str:
    """Hash of our sources, the OpenZeppelin version and the compiler settings: the artifact cache key."""
    digest = hashlib.sha256()
    standard_input = _standard_input(_sources())
    digest.update(json.dumps(standard_input, sort_keys=True).encode())
    oz_package = NODE_MODULES / "@openzeppelin" / "contracts" / "package.json"
    digest.update(oz_package.read_bytes() if oz_package.exists() else b"no-oz")
    digest.update(SOLC_VERSION.encode())
    return digest.hexdigest()[:32]


def compile_contracts(*, use_cache: bool = True) -> CompiledContracts:
    """Compiles (or loads from the cache) every deployable contract."""
    key = source_hash()
    cached = cache_dir() / "artifacts" / f"{key}.json"
    if use_cache and cached.exists():
        return from_cache_json(key, json.loads(cached.read_text()))
    output = solcx.compile_standard(
        _standard_input(_sources()),
        solc_binary=str(solc_binary()),
        base_path=str(REPO_ROOT),
        allow_paths=[str(REPO_ROOT)],
    )
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise ConfigError("contracts failed to compile:\n" + "\n".join(e["formattedMessage"] for e in errors))
    artifacts: dict[str, Any] = {}
    for file_contracts in output["contracts"].values():
        for name, data in file_contracts.items():
            if name in DEPLOYED_CONTRACTS:
                runtime = data["evm"]["deployedBytecode"]
                artifacts[name] = {
                    "abi": data["abi"],
                    "bytecode": "0x" + data["evm"]["bytecode"]["object"],
                    "deployedBytecode": "0x" + runtime["object"],
                    "immutables": sorted([ref["start"], ref["length"]]
                                         for refs in runtime.get("immutableReferences", {}).values() for ref in refs),
                }
    missing = set(DEPLOYED_CONTRACTS) - set(artifacts)
    if missing:
        raise ConfigError(f"compiler output lacks {sorted(missing)}")
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(artifacts))
    os.replace(tmp, cached)  # atomic: a concurrent reader never sees half a file
    return from_cache_json(key, artifacts)
