"""The simulation's roles as processes of their own: a cheating miner, a lazy validator or a false accuser runs like
`crucible miner run` / `crucible validator run` (same options, lock file, journal identity, signals, log file), with
the simulation's node in place of the shipped one. The demo, the benchmarks and the tests start them through the
supervisor (crucible/simulation/supervisor.py); the shipped CLI never imports this.

    python -m crucible.simulation.process miner --cheat "lazy (skipped step)" --data-dir DIR --stake 300 --no-aggregate
    python -m crucible.simulation.process validator --behaviour lazy --data-dir DIR --stake 200
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import click

from crucible.cli.context import Settings
from crucible.cli.main import CrucibleGroup
from crucible.cli.params import JOB_ID, RPC_URL
from crucible.cli.roles import run_miner, run_validator, with_common_options
from crucible.simulation.adversary import CHEATS

BEHAVIOURS = ("lazy", "false-accuser")


@click.group(cls=CrucibleGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--rpc-url", type=RPC_URL, default="http://127.0.0.1:8545", show_default=True, envvar="CRUCIBLE_RPC_URL")
@click.option("--deployment", type=click.Path(path_type=Path, dir_okay=False), envvar="CRUCIBLE_DEPLOYMENT")
@click.option("--keystore", type=click.Path(path_type=Path, dir_okay=False), envvar="CRUCIBLE_KEYSTORE")
@click.pass_context
def sim(ctx: click.Context, rpc_url: str, deployment: Path | None, keystore: Path | None) -> None:
    """A dishonest role of the simulation, as its own process."""
    ctx.obj = Settings(rpc_url=rpc_url, deployment=deployment, keystore=keystore, as_json=False)


@sim.command("miner")
@with_common_options
@click.option("--cheat", type=click.Choice(sorted(CHEATS)), required=True, help="The cheat it trains with.")
@click.option("--job", "jobs", type=JOB_ID, multiple=True, help="Only these jobs (repeatable; default: all).")
@click.option("--slots-per-round", type=click.IntRange(1, 65534), help="At most this many work slots of one round.")
@click.option("--no-aggregate", is_flag=True, help="Never claim aggregation slots (else it re-submits the base).")
@click.pass_obj
def cheating_miner(settings: Settings, cheat: str, **options: Any) -> None:
    """A miner that commits work done with CHEAT (crucible.simulation.actors.CheatingMiner)."""
    from crucible.simulation.actors import CheatingMiner  # noqa: PLC0415 - torch loads only when a role runs

    run_miner(settings, partial(CheatingMiner, cheat=cheat), **options)


@sim.command("validator")
@with_common_options
@click.option("--behaviour", type=click.Choice(BEHAVIOURS), required=True,
              help="lazy: passes without replaying; false-accuser: fails everything.")  # fmt: skip
@click.option("--no-settle", is_flag=True, help="Do not act as a keeper (settling, vacating).")
@click.pass_obj
def dishonest_validator(settings: Settings, behaviour: str, **options: Any) -> None:
    """A validator that votes without replaying (crucible.simulation.actors.LazyValidator / FalseAccuser)."""
    from crucible.simulation.actors import FalseAccuser, LazyValidator  # noqa: PLC0415

    run_validator(settings, LazyValidator if behaviour == "lazy" else FalseAccuser, **options)


if __name__ == "__main__":
    sim(prog_name="python -m crucible.simulation.process")
