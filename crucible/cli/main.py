"""Entry point of the `crucible` command.

Start-up stays light: the command modules import only click and rich at import time; web3, torch and matplotlib
load inside the commands that need them (tests/cli/test_startup.py checks which modules `--help` and friends load).
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from crucible import __version__
from crucible.cli.context import Settings
from crucible.cli.dashboard import dashboard
from crucible.cli.data import data
from crucible.cli.engine import engine
from crucible.cli.job import job
from crucible.cli.keys import keys
from crucible.cli.network import deploy, network
from crucible.cli.output import abort
from crucible.cli.params import RPC_URL
from crucible.cli.roles import miner, validator
from crucible.cli.stake import stake
from crucible.cli.status import status, verify
from crucible.cli.token import claim, faucet, fund
from crucible.errors import CrucibleError

DEBUG_ENV = "CRUCIBLE_DEBUG"


class CrucibleGroup(click.Group):
    """Turns every CrucibleError into one readable line and a non-zero exit, Ctrl-C into exit 130, and anything
    unexpected into one line naming it (CRUCIBLE_DEBUG=1 shows the traceback)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except CrucibleError as exc:
            abort(str(exc))
        except KeyboardInterrupt:
            abort("interrupted", 130)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except Exception as exc:  # noqa: BLE001 - the last line of defence between a bug and a user
            if os.environ.get(DEBUG_ENV):
                raise
            abort(f"unexpected {type(exc).__name__}: {exc} (a bug: rerun with {DEBUG_ENV}=1 for the traceback)")


@click.group(cls=CrucibleGroup, context_settings={"auto_envvar_prefix": "CRUCIBLE", "help_option_names": ["-h", "--help"]})
@click.option("--rpc-url", type=RPC_URL, default="http://127.0.0.1:8545", show_default=True, envvar="CRUCIBLE_RPC_URL",
              help="The chain's JSON-RPC endpoint (`network up` serves the default).")  # fmt: skip
@click.option("--deployment", type=click.Path(path_type=Path, dir_okay=False), envvar="CRUCIBLE_DEPLOYMENT",
              help="Deployment file (default: deployments/<chainId>.json).")  # fmt: skip
@click.option("--keystore", type=click.Path(path_type=Path, dir_okay=False), envvar="CRUCIBLE_KEYSTORE",
              help="Encrypted keystore to sign with (else CRUCIBLE_PRIVATE_KEY).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, envvar="CRUCIBLE_JSON", help="Machine-readable output (CRUCIBLE_JSON=1).")
@click.version_option(__version__, "--version", prog_name="crucible", message="%(prog)s %(version)s")
@click.pass_context
def cli(ctx: click.Context, rpc_url: str, deployment: Path | None, keystore: Path | None, as_json: bool) -> None:
    """Crucible: stake, mine, validate and run jobs on a verifiable AI-training network."""
    ctx.obj = Settings(rpc_url=rpc_url, deployment=deployment, keystore=keystore, as_json=as_json)


cli.add_command(network)
cli.add_command(deploy)
cli.add_command(stake)
cli.add_command(keys)
cli.add_command(faucet)
cli.add_command(fund)
cli.add_command(claim)
cli.add_command(engine)
cli.add_command(job)
cli.add_command(miner)
cli.add_command(validator)
cli.add_command(status)
cli.add_command(verify)
cli.add_command(data)
cli.add_command(dashboard)


@cli.command()
@click.option("--run-dir", type=click.Path(path_type=Path, file_okay=False),
              help="Where the summary goes (default runs/demo-<time>).")  # fmt: skip
@click.option("--evm", type=click.Choice(["anvil", "hardhat"]), envvar="CRUCIBLE_EVM", default="anvil",
              show_default=True, help="The local EVM node the demo runs on.")  # fmt: skip
def demo(run_dir: Path | None, evm: str) -> None:
    """Run the local network demo end to end (every miner and validator its own process) and write its summary."""
    from crucible.cli.output import console
    from crucible.simulation.demo import default_run_dir, run_demo

    summary = run_demo(run_dir or default_run_dir(), console, evm=evm)
    if not summary.get("books_balance"):
        abort("the books do not balance: see summary.json")
    if summary["cheating_submissions_rejected"] != summary["cheating_submissions"]:
        abort("a cheating submission was accepted: see summary.json")
    if summary["honest_submissions_rejected"]:
        abort("an honest submission was rejected: see summary.json")


def main() -> None:
    cli(prog_name="crucible")
