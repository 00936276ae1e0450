"""Deploys and wires the whole protocol; the deployment file is written only once all of it succeeded."""

from __future__ import annotations

from collections.abc import Callable

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import Web3RPCError

from crucible.chain.artifacts import CompiledContracts, packaged_contracts
from crucible.chain.client import ChainClient, connect, rpc_error
from crucible.chain.deployment import Deployment, ProtocolParams
from crucible.errors import DeploymentError


def deploy_protocol(
    rpc_url: str,
    deployer: LocalAccount,
    params: ProtocolParams = ProtocolParams(),
    *,
    progress: Callable[[str], None] = lambda _: None,
    compiled: CompiledContracts | None = None,
) -> ChainClient:
    """Deploys token, stake manager, vault, the ledger (with its settlement module), registry and lens, binds them,
    and checks the bindings.

    `compiled`: the bytecode to deploy, by default the one this package ships (a fresh build from a checkout is
    `crucible.chain.compiler.compile_contracts()`, what `crucible deploy --from-source` passes).
    Returns a client over the new deployment; the caller decides whether and where to save it.
    """
    w3 = connect(rpc_url)
    compiled = compiled or packaged_contracts()
    chain_id = int(w3.eth.chain_id)
    start_block = int(w3.eth.block_number)
    addresses: dict[str, str] = {}

    def deploy(name: str, *args: object) -> str:
        progress(f"deploying {name}")
        artifact = compiled[name]
        factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        try:
            tx = factory.constructor(*args).build_transaction(
                {"from": deployer.address, "nonce": w3.eth.get_transaction_count(deployer.address, "pending")}
            )
            receipt = w3.eth.wait_for_transaction_receipt(
                w3.eth.send_raw_transaction(deployer.sign_transaction(tx).raw_transaction), timeout=120
            )
        except Web3RPCError as exc:
            raise rpc_error(exc) from None
        if receipt["status"] != 1 or not receipt["contractAddress"]:
            raise DeploymentError(f"deploying {name} failed (tx {receipt['transactionHash'].hex()})")
        addresses[name] = Web3.to_checksum_address(receipt["contractAddress"])
        return addresses[name]

    token = deploy("CrucibleToken")
    stakes = deploy(
        "StakeManager",
        token,
        params.min_miner_stake,
        params.min_validator_stake,
        params.unbonding_period_blocks,
        params.epoch_blocks,
    )
    vault = deploy("RewardVault", token)
    module = deploy("LedgerSettlement", vault, stakes)
    ledger = deploy("WorkLedger", vault, stakes, module)
    registry = deploy("JobRegistry", token, stakes, ledger, vault)
    deploy("LedgerLens", ledger)

    deployment = Deployment(
        chain_id=chain_id,
        deployed_at_block=start_block + 1,
        block_hash=w3.eth.get_block(start_block + 1)["hash"].to_0x_hex(),
        addresses=addresses,
        source_hash=compiled.source_hash,
        params=params,
        rpc_url=rpc_url,
    )
    client = ChainClient(w3=w3, deployment=deployment, account=deployer, compiled=compiled)
    progress("binding contracts")
    client.transact(client.stakes.functions.setProtocol(ledger))
    client.transact(client.vault.functions.bindProtocol(ledger))
    client.transact(client.ledger.functions.bindRegistry(registry))
    # Check the wiring rather than trusting it: a half-bound deployment must never be saved.
    if (
        client.call(client.stakes.functions.protocol()) != ledger
        or client.call(client.vault.functions.protocol()) != ledger
        or client.call(client.ledger.functions.settlementModule()) != module
    ):
        raise DeploymentError("contract bindings did not take effect; not saving this deployment")
    return client
