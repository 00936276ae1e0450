"""`crucible network up` and `crucible deploy`: a local network, or the protocol on any RPC."""

from __future__ import annotations

import time
from pathlib import Path

import click

from crucible.chain.deploy import deploy_protocol
from crucible.chain.deployment import ProtocolParams, save_deployment
from crucible.chain.keys import load_account
from crucible.cli.context import Settings
from crucible.cli.output import console, cru, emit, err_console
from crucible.localnet.network import start_local_network


@click.group()
def network() -> None:
    """Run a local Crucible network (anvil on loopback, contracts deployed, accounts funded)."""


@network.command("up")
@click.option("--port", type=int, default=8545, show_default=True, help="Loopback port for the chain's RPC.")
@click.option("--accounts", type=int, default=10, show_default=True, help="Development accounts to fund.")
@click.option("--fund", "fund_cru", type=int, default=10_000, show_default=True, help="CRU per account.")
@click.option("--run-dir", type=click.Path(path_type=Path), default=Path("runs/localnet"), show_default=True)
@click.pass_obj
def up(settings: Settings, port: int, accounts: int, fund_cru: int, run_dir: Path) -> None:
    """Start the local network and keep it running until Ctrl-C."""
    run_dir.mkdir(parents=True, exist_ok=True)
    net = start_local_network(
        port=port, accounts=accounts, fund_wei=fund_cru * 10**18, log_dir=run_dir, with_ipfs=True,
        progress=err_console.log,
    )
    with net:
        assert net.kubo is not None
        summary = {"rpc_url": net.rpc_url, "chain_id": net.client.deployment.chain_id,
                   "ipfs_api": net.kubo.api_multiaddr, "ipfs_gateway": f"http://127.0.0.1:{net.kubo.gateway_port}",
                   "deployment_file": str(net.deployment_file), **net.client.deployment.addresses}  # fmt: skip
        emit(summary, as_json=settings.as_json, title="local network up")
        if not settings.as_json:
            console.print(f"{accounts} dev accounts funded with {cru(fund_cru * 10**18)} each; Ctrl-C stops.")
        try:
            while net.anvil.process.poll() is None:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass


@click.command()
@click.option("--min-miner-stake", type=int, default=100, show_default=True, help="CRU.")
@click.option("--min-validator-stake", type=int, default=100, show_default=True, help="CRU.")
@click.option("--unbonding-blocks", type=int, default=2_000, show_default=True)
@click.pass_obj
def deploy(settings: Settings, min_miner_stake: int, min_validator_stake: int, unbonding_blocks: int) -> None:
    """Deploy the protocol to --rpc-url with the signing key and write deployments/<chainId>.json."""
    params = ProtocolParams(min_miner_stake * 10**18, min_validator_stake * 10**18, unbonding_blocks)
    client = deploy_protocol(settings.rpc_url, load_account(settings.keystore), params, progress=err_console.log)
    path = save_deployment(client.deployment)
    emit({"deployment_file": str(path), **client.deployment.addresses}, as_json=settings.as_json, title="deployed")
