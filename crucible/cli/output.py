"""How commands talk to people (rich tables, one-line errors) and to scripts (--json).

Tables never cut a value: a transaction hash, a CID or an address is something people copy. On a terminal long cells
fold onto the next line; into a pipe or a file a table is as wide as its longest row.
"""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from crucible.units import cru

__all__ = ["abort", "console", "cru", "emit", "err_console", "new_table", "parse_amount", "print_table"]

console = Console(stderr=False)
err_console = Console(stderr=True)


def abort(message: str, code: int = 1) -> NoReturn:
    """Exit non-zero with one clear line and no traceback."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True, markup=True)
    sys.exit(code)


def parse_amount(text: str) -> int:
    """'12.5' CRU -> wei (see crucible.cli.params.Amount, which options use directly)."""
    from crucible.cli.params import AMOUNT  # noqa: PLC0415

    return AMOUNT.convert(text, None, None)


def new_table(title: str | None = None, *, show_header: bool = True) -> Table:
    return Table(title=title, show_header=show_header, title_justify="left")


def add_columns(table: Table, *names: str, style: str | None = None) -> None:
    for name in names:
        table.add_column(name, overflow="fold", style=style)


def print_table(table: Table) -> None:
    """Prints `table` whole: folded on a terminal, at its natural width elsewhere."""
    if console.is_terminal:
        console.print(table)
        return
    width = Measurement.get(console, console.options.update(width=10_000), table).maximum
    width = max(width, len(str(table.title or "")))
    Console(file=console.file, width=max(width, 20), color_system=None).print(table)


def emit(data: dict[str, Any], *, as_json: bool, title: str | None = None) -> None:
    """Prints `data` as JSON for scripts or as a two-column table for people."""
    if as_json:
        click.echo(json.dumps(data, default=str))
        return
    table = new_table(title, show_header=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for key, value in data.items():
        table.add_row(key.replace("_", " "), str(value))
    print_table(table)
