"""The contracts' ABIs and bytecode ship as package data (crucible/abi), stamped with the hash of the sources they
were compiled from: this test fails when they fall behind contracts/src. Miners, validators and sponsors read them
from there and never import a Solidity compiler; a deployment's addresses must hold the code those ABIs describe."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import pytest

from crucible.chain.artifacts import packaged_contracts
from crucible.chain.client import ChainClient
from crucible.chain.compiler import compile_contracts, source_hash
from crucible.errors import DeploymentError
from crucible.localnet.network import LocalNetwork
from tests.process import crucible_env

REBUILD = "stale: run `python -m crucible.chain.build_abis` and commit crucible/abi/"


def test_packaged_abis_are_built_from_the_current_sources() -> None:
    assert packaged_contracts().source_hash == source_hash(), REBUILD


def test_packaged_artifacts_equal_a_fresh_compile() -> None:
    packaged, compiled = packaged_contracts(), compile_contracts()
    assert sorted(packaged.contracts) == sorted(compiled.contracts)
    for name, artifact in compiled.contracts.items():
        assert packaged[name] == artifact, f"crucible/abi/{name}.json differs from the compiler's output: {REBUILD}"


def test_a_deployed_contract_matches_its_packaged_runtime_code_immutables_aside(network: LocalNetwork) -> None:
    client = network.client
    stakes = packaged_contracts()["StakeManager"]
    assert stakes.immutables, "StakeManager keeps its token as an immutable: the check must skip those bytes"
    code = bytes(client.w3.eth.get_code(client.stakes.address))
    assert stakes.runtime_matches(code)
    tampered = bytearray(code)
    outside = next(i for i in range(len(code)) if all(not s <= i < s + n for s, n in stakes.immutables))
    tampered[outside] ^= 0xFF
    assert not stakes.runtime_matches(bytes(tampered))
    assert not packaged_contracts()["RewardVault"].runtime_matches(code)


def test_an_address_holding_another_contract_is_refused(network: LocalNetwork) -> None:
    deployment = network.client.deployment
    swapped = {**deployment.addresses, "StakeManager": deployment.addresses["RewardVault"]}
    with pytest.raises(DeploymentError, match="is not the StakeManager whose ABI this installation uses"):
        ChainClient.open(network.rpc_url, replace(deployment, addresses=swapped))


def test_a_deployment_from_unknown_sources_is_refused_with_what_to_do(network: LocalNetwork) -> None:
    other = replace(network.client.deployment, source_hash="f" * 32)
    with pytest.raises(DeploymentError, match=r"other contract sources .* install the crucible version"):
        ChainClient.open(network.rpc_url, other)


ROLE_PATHS = """
import json, sys
from crucible.chain.client import ChainClient
from crucible.chain.deployment import load_deployment
from crucible.chain.revert import decode_revert
from crucible.cli.main import cli
import crucible.cli.job, crucible.cli.roles, crucible.cli.stake, crucible.cli.status
import crucible.sponsor, crucible.staking, crucible.reports, crucible.protocol.jobs, crucible.localnet.network
import miner.daemon, validator.daemon, validator.verify
client = ChainClient.open(sys.argv[1], load_deployment(__import__("pathlib").Path(sys.argv[2])))
client.call(client.stakes.functions.protocol())
error = decode_revert(bytes.fromhex(sys.argv[3]))
print(json.dumps({"error": type(error).__name__, "modules": sorted(sys.modules)}))
"""


def test_miner_validator_and_sponsor_paths_import_no_compiler(network: LocalNetwork) -> None:
    assert network.deployment_file is not None
    from web3 import Web3

    revert = bytes(Web3.keccak(text="JobUnknown(uint256)"))[:4] + (7).to_bytes(32, "big")
    done = subprocess.run([sys.executable, "-c", ROLE_PATHS, network.rpc_url, str(network.deployment_file),
                           revert.hex()], env=crucible_env(), capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["error"] == "JobUnknown"  # reverts decode through the packaged ABIs
    loaded = set(result["modules"])
    assert "miner.daemon" in loaded and "validator.daemon" in loaded
    assert not {"solcx", "crucible.chain.compiler"} & loaded, "a role's path imported the Solidity compiler"
