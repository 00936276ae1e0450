"""`crucible miner run` and `crucible validator run`: the long-running roles, with logs and progress on stderr."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

import click
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from crucible.artifacts.store import ArtifactStore
from crucible.chain.client import ChainClient
from crucible.cli.context import Settings
from crucible.cli.output import err_console, parse_amount
from crucible.journal import Journal
from crucible.protocol.jobs import job_record


def _logging(log_file: Path | None) -> None:
    handlers: list[logging.Handler] = [RichHandler(console=err_console, show_path=False, markup=False)]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.FileHandler(log_file)
        file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        handlers.append(file_handler)
    logging.basicConfig(level=logging.INFO, handlers=handlers, force=True)


def _data_dir(given: Path | None, client: ChainClient, role: str) -> Path:
    if given is not None:
        return given
    return Path.home() / ".crucible" / str(client.deployment.chain_id) / f"{role}-{client.sender.lower()}"


def _progress_factory(progress: Progress) -> Callable[[str, int], Callable[[], None]]:
    def factory(label: str, total: int) -> Callable[[], None]:
        task = progress.add_task(label, total=total)

        def advance() -> None:
            progress.advance(task)
            if progress.tasks[task].finished:
                progress.remove_task(task)

        return advance

    return factory


common = [
    click.option("--ipfs-api", envvar="CRUCIBLE_IPFS_API", required=True, help="Kubo RPC multiaddr."),
    click.option("--data-dir", type=click.Path(path_type=Path), envvar="CRUCIBLE_DATA_DIR",
                 help="Journal, work files and log (default ~/.crucible/<chain>/<role>-<address>)."),  # fmt: skip
    click.option("--stake", "stake_amount", default="0", show_default=True,
                 help="CRU to keep staked (topped up on start; at least the protocol minimum)."),  # fmt: skip
    click.option("--poll", type=float, default=1.0, show_default=True, help="Seconds between passes."),
    click.option("--max-passes", type=int, help="Stop after this many passes (default: run until Ctrl-C)."),
]


def _with_common(fn: Callable[..., None]) -> Callable[..., None]:
    for option in reversed(common):
        fn = option(fn)
    return fn


@click.group()
def miner() -> None:
    """Run a miner: claim slots, train, pin, submit, answer audits, collect rewards."""


@miner.command("run")
@_with_common
@click.option("--job", "jobs", type=int, multiple=True, help="Only these jobs (repeatable; default: all).")
@click.option("--slots-per-round", type=int, help="At most this many work slots of one round.")
@click.option("--no-aggregate", is_flag=True, help="Never claim aggregation slots.")
@click.pass_obj
def miner_run(settings: Settings, ipfs_api: str, data_dir: Path | None, stake_amount: str, poll: float,
              max_passes: int | None, jobs: tuple[int, ...], slots_per_round: int | None, no_aggregate: bool) -> None:  # fmt: skip
    """Mine until interrupted. Restart-safe: the journal in --data-dir resumes every slot where it stopped."""
    from miner.daemon import Miner, MinerConfig

    client = settings.client(signer=True)
    store = ArtifactStore(ipfs_api)
    for job_id in jobs:
        job_record(client, job_id)  # an unknown job is a clear error now, not an idle miner
    directory = _data_dir(data_dir, client, "miner")
    _logging(directory / "miner.log")
    config = MinerConfig(work_dir=directory / "work", jobs=frozenset(jobs) if jobs else None,
                         slots_per_round=slots_per_round, aggregate=not no_aggregate,
                         stake_wei=parse_amount(stake_amount) if stake_amount != "0" else 0)  # fmt: skip
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=True) as progress:  # fmt: skip
        node = Miner(client, store, Journal(directory / "journal.sqlite"), config=config,
                     progress=_progress_factory(progress))  # fmt: skip
        node.start()
        _serve(node, poll, max_passes)


@click.group()
def validator() -> None:
    """Run a validator: replay sampled work, vote, serve on committees, settle what expired."""


@validator.command("run")
@_with_common
@click.option("--no-settle", is_flag=True, help="Do not act as a keeper (settling, vacating).")
@click.pass_obj
def validator_run(settings: Settings, ipfs_api: str, data_dir: Path | None, stake_amount: str, poll: float,
                  max_passes: int | None, no_settle: bool) -> None:  # fmt: skip
    """Validate until interrupted. Restart-safe: the journal never double-votes and never loses a reveal."""
    from validator.daemon import Validator, ValidatorConfig

    client = settings.client(signer=True)
    directory = _data_dir(data_dir, client, "validator")
    _logging(directory / "validator.log")
    node = Validator(client, ArtifactStore(ipfs_api), Journal(directory / "journal.sqlite"),
                     config=ValidatorConfig(stake_wei=parse_amount(stake_amount) if stake_amount != "0" else 0,
                                            settle=not no_settle))  # fmt: skip
    node.start()
    _serve(node, poll, max_passes)


def _serve(node: object, poll: float, max_passes: int | None) -> None:
    stop = threading.Event()
    try:
        node.run(poll_seconds=poll, stop=stop, max_ticks=max_passes)  # type: ignore[attr-defined]
    except KeyboardInterrupt:
        stop.set()
        err_console.print("stopped; the journal keeps every step for the next start")
