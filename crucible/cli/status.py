"""`crucible status <table>` and `crucible verify`: the public record for people and scripts, and an independent
check of any past verdict."""

from __future__ import annotations

import click
from rich.table import Table

from crucible.artifacts.store import ArtifactStore
from crucible.cli.context import Settings
from crucible.cli.output import abort, console, cru, emit
from crucible.protocol.types import Panel
from crucible.reports import TABLES, Row


def print_rows(title: str, rows: list[Row]) -> None:
    table = Table(title=title, title_justify="left")
    columns = list(rows[0]) if rows else ["(none yet)"]
    for column in columns:
        table.add_column(column.removesuffix("_wei").replace("_", " "), overflow="fold")
    for row in rows:
        table.add_row(*(_cell(k, v) for k, v in row.items()))
    console.print(table)


def _cell(key: str, value: object) -> str:
    if key.endswith("_wei") and isinstance(value, int):
        return cru(value)
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return value[:10] + "…"
    return str(value)


@click.command()
@click.argument("table", type=click.Choice(sorted(TABLES)))
@click.option("--job", "job_id", type=int, help="Only this job (submissions, verdicts, slashes).")
@click.pass_obj
def status(settings: Settings, table: str, job_id: int | None) -> None:
    """Stakes, submissions, verdicts, slashes or rewards, from the chain's events."""
    client = settings.client(signer=False)
    fn = TABLES[table]
    rows = fn(client, job_id) if job_id is not None and table in ("submissions", "verdicts", "slashes") else fn(client)  # type: ignore[operator]
    if settings.as_json:
        emit({table: rows}, as_json=True)
    else:
        print_rows(table, rows)


@click.command()
@click.argument("job_id", type=int)
@click.argument("round_", metavar="ROUND", type=int)
@click.argument("slot", type=int)
@click.option("--panel", type=click.Choice(["audit", "committee"]), default="audit", show_default=True)
@click.option("--seat", type=int, default=0, show_default=True)
@click.option("--ipfs-api", envvar="CRUCIBLE_IPFS_API", required=True, help="Kubo RPC multiaddr.")
@click.pass_obj
def verify(settings: Settings, job_id: int, round_: int, slot: int, panel: str, seat: int, ipfs_api: str) -> None:
    """Re-check a revealed verdict from public data: its evidence against the on-chain digest, and an independent
    replay. Exits 1 when the replay disagrees with the verdict or the evidence does not match."""
    import torch  # noqa: PLC0415 - torch and the role packages load only for the commands that replay

    from validator.verify import verify_verdict  # noqa: PLC0415

    client = settings.client(signer=False)
    device = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    check = verify_verdict(client, ArtifactStore(ipfs_api), job_id, round_, slot, Panel[panel.upper()], seat, device)
    emit(check.to_json(), as_json=settings.as_json, title="verdict check")
    if not (check.agrees and check.evidence_ok):
        abort("the verdict does not hold up" if not check.agrees else "the evidence bundle does not match its digest")
