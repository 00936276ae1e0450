"""`crucible network up|wait` and `crucible deploy`: a local network that keeps its state, or the protocol on any RPC."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from crucible.cli.context import Settings
from crucible.cli.output import abort, add_columns, console, cru, emit, err_console, new_table, print_table
from crucible.cli.params import AMOUNT, IPFS_API, RPC_URL, api_port
from crucible.cli.signals import GracefulStop, Stopping
from crucible.errors import ConfigError, CrucibleError

# A local chain's epochs: every job must resolve within one (the default job windows take 96 blocks with every retry,
# see JobRegistry.longestResolution), and a new validator is drawn two epochs after it joins (about 3 minutes at one
# block a second). Unbonding must outlast three epochs.
LOCAL_EPOCH_BLOCKS = 100
LOCAL_UNBONDING_BLOCKS = 400


def _default_data_dir() -> Path:
    return Path.home() / ".crucible" / "localnet"


def _loopback_port(url: str, what: str) -> int:
    from urllib.parse import urlsplit  # noqa: PLC0415

    parts = urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost") or parts.port is None:
        raise ConfigError(f"{what} must be on 127.0.0.1 with a port to start a local node there (got {url})")
    return int(parts.port)


@click.group()
def network() -> None:
    """Run a local Crucible network (an EVM node and Kubo on loopback, contracts deployed, accounts funded)."""


@network.command("up")
@click.option("--port", type=click.IntRange(1, 65535), help="Loopback port for the chain's RPC [default: the port of "
              "--rpc-url, 8545].")  # fmt: skip
@click.option("--ipfs-api", envvar="CRUCIBLE_IPFS_API", type=IPFS_API, default="/ip4/127.0.0.1/tcp/5001/http",
              show_default=True, help="Where Kubo's RPC API listens (the default of every --ipfs-api).")  # fmt: skip
@click.option("--block-time", type=click.IntRange(1, 3600), default=1, show_default=True,
              help="Seconds between blocks: the chain mines by itself, like a real one.")  # fmt: skip
@click.option("--data-dir", type=click.Path(path_type=Path, file_okay=False), envvar="CRUCIBLE_LOCALNET_DIR",
              help="Chain state, IPFS repository and logs, kept across restarts [default: ~/.crucible/localnet].")  # fmt: skip
@click.option("--fresh", is_flag=True, help="Start from an empty chain and IPFS repository (deletes the kept ones).")
@click.option("--evm", type=click.Choice(["anvil", "hardhat"]), envvar="CRUCIBLE_EVM", default="anvil", show_default=True,
              help="The EVM node: anvil (keeps its chain in --data-dir) or Hardhat's node (EDR; a fresh chain on every "
              "start).")  # fmt: skip
@click.option("--accounts", type=click.IntRange(1, 100), default=10, show_default=True, help="Development accounts.")
@click.option("--fund", "fund_wei", type=AMOUNT, default="10000", show_default=True,
              help="CRU each development account gets on a new chain.")  # fmt: skip
@click.option("--unbonding-blocks", type=click.IntRange(1, 10**9), default=LOCAL_UNBONDING_BLOCKS, show_default=True,
              help="The stake manager's unbonding period on a new chain (more than three epochs).")  # fmt: skip
@click.option("--epoch-blocks", type=click.IntRange(1, 10**9), default=LOCAL_EPOCH_BLOCKS, show_default=True,
              help="Blocks per epoch on a new chain: validator weights move two epochs after a change.")  # fmt: skip
@click.pass_obj
def up(settings: Settings, port: int | None, ipfs_api: str, block_time: int, data_dir: Path | None, fresh: bool,
       evm: str, accounts: int, fund_wei: int, unbonding_blocks: int, epoch_blocks: int) -> None:  # fmt: skip
    """Start the local network and keep it running until Ctrl-C or SIGTERM, which stop the chain and Kubo with it.

    The chain (anvil's state) and Kubo's repository live in --data-dir: a restart serves the same chain, the same
    deployment and the same pins on the same ports (with --evm hardhat, the same pins on a fresh chain).
    """
    port = port or _loopback_port(settings.rpc_url, "--rpc-url")
    if not ipfs_api.startswith("/ip4/127.0.0.1/"):
        raise click.BadParameter(f"{ipfs_api!r}: a local Kubo listens on /ip4/127.0.0.1/tcp/<port>/http",
                                 param_hint="'--ipfs-api'")  # fmt: skip
    data_dir = data_dir or _default_data_dir()
    if fresh:
        _wipe(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    remembered = _remembered(data_dir)
    gateway = _gateway_port(remembered, api_port(ipfs_api))
    with GracefulStop("network up") as stop:
        net = _start(settings, stop, port=port, ipfs_ports=(api_port(ipfs_api), gateway), block_time=block_time,
                     data_dir=data_dir, accounts=accounts, fund_wei=fund_wei, unbonding_blocks=unbonding_blocks,
                     epoch_blocks=epoch_blocks, evm=evm)  # fmt: skip
        stop.on_force = lambda: _kill(net)
        with net:
            (data_dir / "network.json").write_text(json.dumps({"gateway_port": gateway, "rpc_url": net.rpc_url,
                                                               "ipfs_api": ipfs_api}, indent=2) + "\n")  # fmt: skip
            _announce(settings, net, data_dir, fund_wei)
            died = _serve(net, stop)
            if died:
                err_console.print(f"[bold red]error:[/] {died}; stopping the network", highlight=False, soft_wrap=True)
            else:
                kept = f"chain state kept in {data_dir}" if net.chain.keeps_state else "its chain is not kept"
                err_console.print(f"network up: stopping Kubo and {net.evm} ({kept})", highlight=False,
                                  soft_wrap=True)  # fmt: skip
    if died:
        raise SystemExit(1)
    err_console.print("network up: stopped", highlight=False, soft_wrap=True)
    raise SystemExit(stop.exit_code)


def _start(settings: Settings, stop: GracefulStop, **kw: Any) -> Any:
    from crucible.chain.deployment import ProtocolParams  # noqa: PLC0415 - web3 loads only when the network starts
    from crucible.localnet.network import start_local_network  # noqa: PLC0415

    def progress(line: str) -> None:
        stop.check()  # a signal during start-up stops between its steps (start_local_network cleans up)
        err_console.print(f"[dim]{time.strftime('%H:%M:%S')}[/] {line}", highlight=False, soft_wrap=True)

    data_dir: Path = kw["data_dir"]
    try:
        return start_local_network(
            port=kw["port"], accounts=kw["accounts"], fund_wei=kw["fund_wei"],
            params=ProtocolParams(unbonding_period_blocks=kw["unbonding_blocks"], epoch_blocks=kw["epoch_blocks"]),
            deployment_file=settings.deployment, log_dir=data_dir, with_ipfs=True, progress=progress,
            block_time=kw["block_time"], state_dir=data_dir, ipfs_ports=kw["ipfs_ports"], evm=kw["evm"],
        )  # fmt: skip
    except Stopping:
        err_console.print("network up: stopped during start-up", highlight=False, soft_wrap=True)
        raise SystemExit(stop.exit_code) from None


def _serve(net: Any, stop: GracefulStop) -> str | None:
    """Waits for a signal; returns why when a child died on its own."""
    while not stop.event.wait(0.5):
        if net.chain.process.poll() is not None:
            return f"{net.evm} exited (code {net.chain.process.returncode}; see {net.chain.log_path})"
        if net.kubo is not None and net.kubo.process.poll() is not None:
            return f"Kubo exited (code {net.kubo.process.returncode}; see its log in the data dir)"
    return None


def _kill(net: Any) -> None:
    """A forced exit still asks the chain and Kubo to stop (SIGTERM: anvil writes its state on the way out)."""
    for node in (net.kubo, net.chain):
        if node is not None and node.process.poll() is None:
            node.process.terminate()


def _announce(settings: Settings, net: Any, data_dir: Path, fund_wei: int) -> None:
    assert net.kubo is not None
    deployment = net.client.deployment
    devs = [{"address": a.address, "private_key": a.key.to_0x_hex()} for a in net.accounts]
    summary: dict[str, Any] = {
        "rpc_url": net.rpc_url, "evm": net.evm, "chain_id": deployment.chain_id, "block_time": net.block_time,
        "ipfs_api": net.kubo.api_multiaddr, "ipfs_gateway": f"http://127.0.0.1:{net.kubo.gateway_port}",
        "ipfs_repo": str(net.kubo.repo),
        "chain_state": str(data_dir / "chain-state.json") if net.chain.keeps_state else "not kept (a fresh chain)",
        "deployment_file": str(net.deployment_file), "deployment": "reused" if net.reused else "new",
        **deployment.addresses,
    }  # fmt: skip
    if settings.as_json:
        click.echo(json.dumps({**summary, "accounts": devs}))
        return
    emit(summary, as_json=False, title="local network up")
    table = new_table("development accounts (the public test mnemonic's keys: local use only)")
    add_columns(table, "#", "address", "private key")
    for index, dev in enumerate(devs):
        table.add_row(str(index), dev["address"], dev["private_key"])
    print_table(table)
    funded = "" if net.reused else f", each funded with 10000 ETH and {cru(fund_wei)}"
    console.print(
        f"{len(devs)} development accounts{funded}. `crucible fund ADDRESS` gives any address ETH and CRU; "
        f"`crucible faucet AMOUNT` gives the signing key both. A block every {net.block_time} s. "
        f"Ctrl-C or SIGTERM stops {net.evm} and Kubo; "
        + ("the chain is kept for the next `network up` (--fresh starts over)." if net.chain.keeps_state
           else "its chain is not kept (Hardhat's node starts empty every time)."),
        highlight=False, soft_wrap=True,
    )


def _remembered(data_dir: Path) -> dict[str, Any]:
    try:
        value = json.loads((data_dir / "network.json").read_text())
        return value if isinstance(value, dict) else {}
    except (OSError, json.JSONDecodeError):
        return {}


def _gateway_port(remembered: dict[str, Any], api: int) -> int:
    """Kubo's gateway keeps the port it had (a free one the first time)."""
    from crucible.localnet.ports import free_port, port_in_use  # noqa: PLC0415

    port = remembered.get("gateway_port")
    if isinstance(port, int) and port != api and 0 < port < 65536 and not port_in_use(port):
        return port
    while (port := free_port()) == api:
        pass
    return port


def _wipe(data_dir: Path) -> None:
    import shutil  # noqa: PLC0415

    for name in ("chain-state.json", "ipfs", "network.json"):
        target = data_dir / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()


@network.command("wait")
@click.option("--ipfs-api", envvar="CRUCIBLE_IPFS_API", type=IPFS_API, default="/ip4/127.0.0.1/tcp/5001/http",
              show_default=True, help="Kubo RPC API to wait for.")  # fmt: skip
@click.option("--timeout", type=click.FloatRange(0, 3600), default=300, show_default=True, help="Seconds.")
@click.pass_obj
def wait(settings: Settings, ipfs_api: str, timeout: float) -> None:
    """Wait until the chain at --rpc-url serves the deployment and Kubo answers (for scripts that start
    `network up` in the background)."""
    from crucible.artifacts.store import ArtifactStore  # noqa: PLC0415

    deadline = time.monotonic() + timeout
    while True:
        try:
            client = settings.client(signer=False)
            ArtifactStore(ipfs_api, timeout=5).client()
            break
        except CrucibleError as exc:
            if time.monotonic() >= deadline:
                abort(f"the network did not come up in {timeout:g} s: {exc}")
            time.sleep(0.5)
    emit({"rpc_url": settings.rpc_url, "chain_id": client.deployment.chain_id, "block": client.block_number(),
          "ipfs_api": ipfs_api}, as_json=settings.as_json, title="network ready")  # fmt: skip


@network.command("advance")
@click.argument("blocks", type=click.IntRange(1, 100_000))
@click.pass_obj
def advance(settings: Settings, blocks: int) -> None:
    """Local development chains only: let BLOCKS blocks pass at once (e.g. the two epochs after which a new
    validator can be drawn). Refused on any chain that is not a local development chain."""
    from crucible.chain.client import connect  # noqa: PLC0415
    from crucible.localnet.blocks import advance_blocks  # noqa: PLC0415

    w3 = connect(settings.rpc_url)
    before = int(w3.eth.block_number)
    advance_blocks(w3, blocks)
    emit({"from_block": before, "to_block": int(w3.eth.block_number)}, as_json=settings.as_json, title="advanced")


@click.command()
@click.option("--rpc-url", "rpc_url", type=RPC_URL, help="The chain to deploy to (default: the global --rpc-url).")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False),
              help="Where to write the deployment file [default: --deployment, else deployments/<chainId>.json].")  # fmt: skip
@click.option("--replace", is_flag=True, help="Overwrite a deployment file that still describes a live deployment.")
@click.option("--from-source", is_flag=True, help="Developers: compile this checkout's contracts/src and deploy that "
              "build instead of the bytecode this package ships (needs the checkout's solc toolchain).")  # fmt: skip
@click.option("--min-miner-stake", type=AMOUNT, default="100", show_default=True, help="CRU.")
@click.option("--min-validator-stake", type=AMOUNT, default="100", show_default=True, help="CRU.")
@click.option("--unbonding-blocks", type=click.IntRange(1, 2**64 - 1), default=2_000, show_default=True,
              help="Blocks from an unbond request to its withdrawal (more than three epochs).")  # fmt: skip
@click.option("--epoch-blocks", type=click.IntRange(1, 2**64 - 1), default=400, show_default=True,
              help="Blocks per epoch: validator weights move two epochs after a change; jobs resolve within one.")  # fmt: skip
@click.option("--preset", type=click.Choice(["local", "l2-2s", "l1-12s"]),
              help="Epoch and unbonding for a chain's block time (docs/protocol.md, parameters for real chains); "
              "--epoch-blocks / --unbonding-blocks still win when given.")  # fmt: skip
@click.pass_context
def deploy(ctx: click.Context, rpc_url: str | None, out: Path | None, replace: bool, from_source: bool,
           min_miner_stake: int, min_validator_stake: int, unbonding_blocks: int, epoch_blocks: int,
           preset: str | None) -> None:  # fmt: skip
    """Deploy the protocol to an RPC with the signing key and write its deployment file.

    An existing deployment file is never overwritten silently: one that still describes a live deployment is refused
    (use --out for another file, or --replace), one whose chain is gone is replaced with a note.
    """
    from crucible.chain.client import connect  # noqa: PLC0415
    from crucible.chain.deploy import deploy_protocol  # noqa: PLC0415
    from crucible.chain.deployment import ProtocolParams, save_deployment_to  # noqa: PLC0415
    from crucible.chain.keys import load_account  # noqa: PLC0415

    settings: Settings = ctx.obj
    if preset is not None:
        from crucible.protocol.presets import PRESETS  # noqa: PLC0415

        given = {name for name in ("epoch_blocks", "unbonding_blocks")
                 if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT}  # fmt: skip
        epoch_blocks = epoch_blocks if "epoch_blocks" in given else PRESETS[preset].epoch_blocks
        unbonding_blocks = unbonding_blocks if "unbonding_blocks" in given else PRESETS[preset].unbonding_blocks
    url = rpc_url or settings.rpc_url
    chain_id = int(connect(url).eth.chain_id)
    target = out or settings.deployment_file(chain_id)
    account = load_account(settings.keystore)
    _check_target(target, url, replace)
    params = ProtocolParams(min_miner_stake, min_validator_stake, unbonding_blocks, epoch_blocks)
    compiled = _fresh_build() if from_source else None
    client = deploy_protocol(url, account, params, progress=err_console.log, compiled=compiled)
    path = save_deployment_to(client.deployment, target)
    emit({"deployment_file": str(path), **client.deployment.addresses}, as_json=settings.as_json, title="deployed")


def _fresh_build() -> Any:
    """This checkout's contracts, compiled (a developer step: the compiler is imported here and nowhere on a role's
    path). The build lands in the compile cache, where every client on this machine finds it by its source hash."""
    from crucible.paths import checkout_root  # noqa: PLC0415

    if checkout_root() is None:
        raise ConfigError("--from-source compiles contracts/src of a checkout, and this crucible is an installed "
                          "package: deploy without it (the packaged bytecode), or run it from a checkout")  # fmt: skip
    from crucible.chain.compiler import compile_contracts  # noqa: PLC0415

    return compile_contracts()


def _check_target(target: Path, url: str, replace: bool) -> None:
    """Refuses (before anything is deployed) to overwrite a file that describes a live deployment."""
    from crucible.chain.client import ChainClient  # noqa: PLC0415
    from crucible.chain.deployment import load_deployment  # noqa: PLC0415

    if not target.exists() or replace:
        return
    try:
        existing = load_deployment(target)
    except CrucibleError as exc:
        raise ConfigError(f"{target} exists and is not a deployment file ({exc}): choose another --out, or --replace")
    try:
        ChainClient.open(url, existing)
    except CrucibleError as exc:
        err_console.print(f"note: replacing {target}: it describes a deployment that is gone ({exc})", highlight=False, soft_wrap=True)
        return
    raise ConfigError(
        f"{target} describes a live deployment on chain {existing.chain_id} (WorkLedger "
        f"{existing.addresses.get('WorkLedger')}) that other commands use: write this one elsewhere with --out PATH "
        "(and use it with --deployment PATH), or pass --replace"
    )

