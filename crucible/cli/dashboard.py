"""`crucible dashboard`: serve the read-only network page on 127.0.0.1 until SIGTERM or Ctrl-C."""

from __future__ import annotations

import threading

import click

from crucible.cli.context import Settings
from crucible.cli.output import err_console
from crucible.cli.params import DEFAULT_IPFS_API, IPFS_API
from crucible.cli.signals import GracefulStop
from crucible.errors import ConfigError


@click.command()
@click.option("--port", type=click.IntRange(0, 65535), default=8600, show_default=True,
              help="Port on 127.0.0.1 (0: any free port; the URL is printed).")  # fmt: skip
@click.option("--poll", type=click.FloatRange(0.2, 60), default=1.0, show_default=True,
              help="Seconds between looks at the chain for a new block.")  # fmt: skip
@click.option("--no-losses", is_flag=True, help="Skip held-out losses (no IPFS reads, no model evaluation).")
@click.option(
    "--ipfs-api",
    envvar="CRUCIBLE_IPFS_API",
    type=IPFS_API,
    default=DEFAULT_IPFS_API,
    show_default=True,
    help="Kubo RPC API (multiaddr or http://host:port). Artifacts for the held-out losses come from here.",
)
@click.pass_obj
def dashboard(settings: Settings, port: int, poll: float, no_losses: bool, ipfs_api: str) -> None:
    """Serve a page of the network's jobs, rounds, held-out loss per round, stakes, submissions, verdicts, slashes and
    rewards, from public data alone (chain and IPFS), refreshed as blocks arrive. Read-only: it holds no key."""
    from crucible.localnet.ports import port_in_use  # noqa: PLC0415

    if port and port_in_use(port):
        raise ConfigError(f"127.0.0.1:{port} is already in use: choose another --port (0 picks a free one)")
    from crucible.artifacts.store import ArtifactStore  # noqa: PLC0415 - web3 loads only when the page is served
    from crucible.dashboard.server import Follower, make_server  # noqa: PLC0415

    client = settings.client(signer=False)
    follower = Follower(client, None if no_losses else ArtifactStore(ipfs_api), poll=poll)
    with GracefulStop("dashboard") as stop:
        server = make_server(follower, port)
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        threads = [threading.Thread(target=follower.run, daemon=True, name="follower"),
                   threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True,
                                    name="http")]  # fmt: skip
        for thread in threads:
            thread.start()
        err_console.print(f"dashboard: {url} (chain {client.deployment.chain_id} at {settings.rpc_url}); Ctrl-C stops it",
                          highlight=False, soft_wrap=True)  # fmt: skip
        while not stop.event.wait(0.5):  # a timed wait keeps the main thread ready for the signal handlers
            pass
        follower.stop.set()
        server.shutdown()
        server.server_close()
    err_console.print("dashboard: stopped", highlight=False, soft_wrap=True)
    raise SystemExit(stop.exit_code)
