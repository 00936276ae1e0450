"""`crucible miner run` and `crucible validator run`: the long-running roles, with logs and progress on stderr.

Each role owns its data directory: a lock file keeps a second process off the same journal, and the journal records
which chain and deployment it belongs to, so a role never resumes against a wiped chain or another deployment. SIGTERM
and SIGINT stop it cleanly (crucible/cli/signals.py); anything unexpected is logged with its traceback to the role's
log file before the one-line error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import click

from crucible.cli.context import Settings
from crucible.cli.output import abort, err_console
from crucible.cli.params import IPFS_API, JOB_ID, Amount, Finite
from crucible.cli.signals import GracefulStop
from crucible.errors import ConfigError, CrucibleError, Stopping


def _logging(log_file: Path) -> None:
    from rich.logging import RichHandler  # noqa: PLC0415

    console = RichHandler(console=err_console, show_path=False, markup=False)
    console.setFormatter(logging.Formatter("%(message)s"))
    log_file.parent.mkdir(parents=True, exist_ok=True)
    file_handler = logging.FileHandler(log_file)
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[console, file_handler], force=True)


def _data_dir(given: Path | None, client: Any, role: str) -> Path:
    if given is not None:
        return given
    return Path.home() / ".crucible" / str(client.deployment.chain_id) / f"{role}-{client.sender.lower()}"


def _lock(directory: Path, role: str) -> IO[str]:
    """Holds `directory`'s lock for the life of the process; a second role on the same journal is a clear error."""
    import fcntl  # noqa: PLC0415

    directory.mkdir(parents=True, exist_ok=True)
    handle = open(directory / "lock", "a+")  # noqa: SIM115 - held until the process exits
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise ConfigError(
            f"--data-dir {directory} is in use by a running {role} ({holder}): two processes on one journal would "
            "repeat each other's steps; stop that one, or give this one another --data-dir"
        ) from None
    handle.seek(0)
    handle.truncate()
    import os  # noqa: PLC0415

    handle.write(f"pid {os.getpid()}\n")
    handle.flush()
    return handle


def _check_journal(journal: Any, client: Any, directory: Path) -> None:
    """The journal belongs to one chain and deployment; a wiped chain or another deployment is refused, not resumed."""
    current = client.identity()
    recorded = journal.meta("deployment")
    if recorded is None:
        journal.set_meta("deployment", current)
    elif recorded != current:
        raise ConfigError(
            f"the journal in {directory} belongs to another chain or deployment ({recorded}), not to the one at "
            f"{client.rpc_url} ({current}): was the local chain wiped (network up --fresh)? Its steps mean nothing "
            "here: move that directory away, or give another --data-dir"
        )


def _progress_factory(progress: Any, stop: GracefulStop) -> Callable[[str, int], Callable[[], None]]:
    """A progress bar per training run; each step also checks for a stop request (a run can take minutes)."""

    def factory(label: str, total: int) -> Callable[[], None]:
        task = progress.add_task(label, total=total)
        done = 0

        def advance() -> None:
            nonlocal done
            stop.check()
            progress.advance(task)
            done += 1
            if done == total:  # finished bars go; task ids are not list positions once one is removed
                progress.remove_task(task)

        return advance

    return factory


common = [
    click.option("--ipfs-api", envvar="CRUCIBLE_IPFS_API", type=IPFS_API, default="/ip4/127.0.0.1/tcp/5001/http",
                 show_default=True, help="Kubo RPC API (multiaddr or http://host:port)."),  # fmt: skip
    click.option("--data-dir", type=click.Path(path_type=Path, file_okay=False), envvar="CRUCIBLE_DATA_DIR",
                 help="Journal, work files and log (default ~/.crucible/<chain>/<role>-<address>)."),  # fmt: skip
    click.option("--stake", "stake_wei", type=Amount(allow_zero=True), default="0", show_default=True,
                 help="CRU to keep staked (topped up on start; at least the protocol minimum)."),  # fmt: skip
    click.option("--poll", type=Finite(0, 3600), default=1.0, show_default=True, help="Seconds between passes."),
    click.option("--max-passes", type=click.IntRange(1), help="Stop after this many passes (default: run until "
                 "SIGTERM or Ctrl-C)."),  # fmt: skip
]


def with_common_options(fn: Callable[..., None]) -> Callable[..., None]:
    """The options every role command takes (the simulation's role processes take them too)."""
    for option in reversed(common):
        fn = option(fn)
    return fn


@click.group()
def miner() -> None:
    """Run a miner: claim slots, train, pin, submit, answer audits, collect rewards."""


@miner.command("run")
@with_common_options
@click.option("--job", "jobs", type=JOB_ID, multiple=True, help="Only these jobs (repeatable; default: all).")
@click.option("--slots-per-round", type=click.IntRange(1, 65534), help="At most this many work slots of one round.")
@click.option("--no-aggregate", is_flag=True, help="Never claim aggregation slots.")
@click.pass_obj
def miner_run(settings: Settings, ipfs_api: str, data_dir: Path | None, stake_wei: int, poll: float,
              max_passes: int | None, jobs: tuple[int, ...], slots_per_round: int | None, no_aggregate: bool) -> None:  # fmt: skip
    """Mine until SIGTERM or Ctrl-C. Restart-safe: the journal in --data-dir resumes every slot where it stopped."""
    from miner.daemon import Miner  # noqa: PLC0415

    run_miner(settings, Miner, ipfs_api=ipfs_api, data_dir=data_dir, stake_wei=stake_wei, poll=poll,
              max_passes=max_passes, jobs=jobs, slots_per_round=slots_per_round, no_aggregate=no_aggregate)  # fmt: skip


def run_miner(settings: Settings, make: Callable[..., Any], *, ipfs_api: str, data_dir: Path | None, stake_wei: int,
              poll: float, max_passes: int | None, jobs: tuple[int, ...], slots_per_round: int | None,
              no_aggregate: bool) -> None:  # fmt: skip
    """`miner run` with the node built by `make(client, store, journal, config=..., progress=...)` (the Miner; the
    simulation passes its cheating miners)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: PLC0415

    from crucible.artifacts.store import ArtifactStore  # noqa: PLC0415
    from crucible.journal import Journal  # noqa: PLC0415
    from crucible.protocol.jobs import job_record  # noqa: PLC0415
    from miner.daemon import MinerConfig  # noqa: PLC0415

    with GracefulStop("miner") as stop:  # from the start: a signal during start-up stops it too (exit 0 or 130)
        client = settings.client(signer=True)
        store = ArtifactStore(ipfs_api)
        for job_id in jobs:
            job_record(client, job_id)  # an unknown job is a clear error now, not an idle miner
        directory = _data_dir(data_dir, client, "miner")
        lock = _lock(directory, "miner")
        journal = Journal(directory / "journal.sqlite")
        _check_journal(journal, client, directory)
        _logging(directory / "miner.log")
        config = MinerConfig(work_dir=directory / "work", jobs=frozenset(jobs) if jobs else None,
                             slots_per_round=slots_per_round, aggregate=not no_aggregate, stake_wei=stake_wei)  # fmt: skip
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err_console, transient=True) as progress:  # fmt: skip
            node = make(client, store, journal, config=config, progress=_progress_factory(progress, stop))
            _serve(node, stop, poll, max_passes, directory / "miner.log")
        lock.close()
    raise SystemExit(stop.exit_code)


@click.group()
def validator() -> None:
    """Run a validator: replay sampled work, vote, serve on committees, settle what expired."""


@validator.command("run")
@with_common_options
@click.option("--no-settle", is_flag=True, help="Do not act as a keeper (settling, vacating).")
@click.pass_obj
def validator_run(settings: Settings, ipfs_api: str, data_dir: Path | None, stake_wei: int, poll: float,
                  max_passes: int | None, no_settle: bool) -> None:  # fmt: skip
    """Validate until SIGTERM or Ctrl-C. Restart-safe: the journal never double-votes and never loses a reveal."""
    from validator.daemon import Validator  # noqa: PLC0415

    run_validator(settings, Validator, ipfs_api=ipfs_api, data_dir=data_dir, stake_wei=stake_wei, poll=poll,
                  max_passes=max_passes, no_settle=no_settle)  # fmt: skip


def run_validator(settings: Settings, make: Callable[..., Any], *, ipfs_api: str, data_dir: Path | None,
                  stake_wei: int, poll: float, max_passes: int | None, no_settle: bool) -> None:  # fmt: skip
    """`validator run` with the node built by `make(client, store, journal, config=...)` (the Validator; the
    simulation passes its lazy validators and false accusers)."""
    from crucible.artifacts.store import ArtifactStore  # noqa: PLC0415
    from crucible.journal import Journal  # noqa: PLC0415
    from validator.daemon import ValidatorConfig  # noqa: PLC0415

    with GracefulStop("validator") as stop:  # from the start: a signal during start-up stops it too
        client = settings.client(signer=True)
        directory = _data_dir(data_dir, client, "validator")
        lock = _lock(directory, "validator")
        journal = Journal(directory / "journal.sqlite")
        _check_journal(journal, client, directory)
        _logging(directory / "validator.log")
        node = make(client, ArtifactStore(ipfs_api), journal,
                    config=ValidatorConfig(stake_wei=stake_wei, settle=not no_settle))  # fmt: skip
        _serve(node, stop, poll, max_passes, directory / "validator.log")
        lock.close()
    raise SystemExit(stop.exit_code)


def _serve(node: Any, stop: GracefulStop, poll: float, max_passes: int | None, log_file: Path) -> None:
    """Stakes, then runs the role until a signal (or --max-passes). A stop request abandons the step in flight at a
    safe point; an unexpected failure goes to the log file with its traceback, and to the user as one line."""
    log = logging.getLogger(f"crucible.{node.role}")
    try:
        node.start()
        stop.check()
        node.run(poll_seconds=poll, stop=stop.event, max_ticks=max_passes)
    except Stopping:
        pass
    except CrucibleError:
        raise
    except Exception as exc:
        log.exception("%s stopped by an unexpected error", node.role)
        abort(f"{node.role} stopped by an unexpected {type(exc).__name__}: {exc} (traceback in {log_file})")
    if stop.event.is_set():
        log.info("%s stopped (%s); the journal keeps every step for the next start", node.role, stop.name)
