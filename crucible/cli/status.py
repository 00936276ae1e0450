"""`crucible status <table>` and `crucible verify`: the public record for people and scripts, and an independent
check of any past verdict."""

from __future__ import annotations

from typing import Any

import click

from crucible.cli.context import Settings
from crucible.cli.output import abort, add_columns, console, cru, emit, new_table, print_table
from crucible.cli.params import IPFS_API, JOB_ID

TABLE_NAMES = ["rewards", "slashes", "stakes", "submissions", "verdicts"]  # crucible.reports.TABLES (a test checks)


def print_rows(title: str, rows: list[dict[str, Any]]) -> None:
    """Rows as a table; addresses, hashes and CIDs are printed whole (people copy them)."""
    if not rows:
        console.print(f"{title}: none yet", highlight=False, soft_wrap=True)
        return
    table = new_table(title)
    add_columns(table, *(column.removesuffix("_wei").replace("_", " ") for column in rows[0]))
    for row in rows:
        table.add_row(*(_cell(k, v) for k, v in row.items()))
    print_table(table)


def _cell(key: str, value: object) -> str:
    if key.endswith("_wei") and isinstance(value, int):
        return cru(value)
    return str(value)


@click.command()
@click.argument("table", type=click.Choice(TABLE_NAMES))
@click.option("--job", "job_id", type=JOB_ID, help="Only this job (submissions, verdicts, slashes).")
@click.pass_obj
def status(settings: Settings, table: str, job_id: int | None) -> None:
    """Stakes, submissions, verdicts, slashes or rewards, from the chain's events."""
    from crucible.reports import TABLES  # noqa: PLC0415

    client = settings.client(signer=False)
    fn = TABLES[table]
    rows = fn(client, job_id) if job_id is not None and table in ("submissions", "verdicts", "slashes") else fn(client)  # type: ignore[operator]
    if settings.as_json:
        emit({table: rows}, as_json=True)
    else:
        print_rows(table if job_id is None else f"{table} of job {job_id}", rows)


@click.command()
@click.argument("job_id", type=JOB_ID)
@click.argument("round_", metavar="ROUND", type=click.IntRange(0, 65535))
@click.argument("slot", type=click.IntRange(0, 65535))
@click.option("--panel", type=click.Choice(["audit", "committee"]), default="audit", show_default=True)
@click.option("--seat", type=click.IntRange(0, 255), default=0, show_default=True)
@click.option("--ipfs-api", envvar="CRUCIBLE_IPFS_API", type=IPFS_API, default="/ip4/127.0.0.1/tcp/5001/http",
              show_default=True, help="Kubo RPC API (multiaddr or http://host:port).")  # fmt: skip
@click.pass_obj
def verify(settings: Settings, job_id: int, round_: int, slot: int, panel: str, seat: int, ipfs_api: str) -> None:
    """Re-check a revealed verdict from public data: its evidence against the on-chain digest, and an independent
    replay. Exits 1 when the replay disagrees with the verdict or the evidence does not match."""
    import torch  # noqa: PLC0415 - torch and the role packages load only for the commands that replay

    from crucible.artifacts.store import ArtifactStore  # noqa: PLC0415
    from crucible.protocol.types import Panel  # noqa: PLC0415
    from validator.verify import verify_verdict  # noqa: PLC0415

    client = settings.client(signer=False)
    device = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    check = verify_verdict(client, ArtifactStore(ipfs_api), job_id, round_, slot, Panel[panel.upper()], seat, device)
    emit(check.to_json(), as_json=settings.as_json, title="verdict check")
    if not (check.agrees and check.evidence_ok):
        abort("the verdict does not hold up" if not check.agrees else "the evidence bundle does not match its digest")

