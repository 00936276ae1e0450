"""How commands talk to people (rich tables, one-line errors) and to scripts (--json)."""

from __future__ import annotations

import json
import sys
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.table import Table

from crucible.units import WEI, cru

__all__ = ["abort", "console", "cru", "emit", "err_console", "parse_amount"]

console = Console(stderr=False)
err_console = Console(stderr=True)

def abort(message: str, code: int = 1) -> NoReturn:
    """Exit non-zero with one clear line and no traceback."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    sys.exit(code)


def parse_amount(text: str) -> int:
    """'12.5' CRU -> wei. Refuses negatives, garbage and more than 18 decimals."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise click.BadParameter(f"{text!r} is not a number of CRU") from None
    if value <= 0:
        raise click.BadParameter("amounts must be above zero")
    wei = value * WEI
    if wei != wei.to_integral_value():
        raise click.BadParameter("CRU has 18 decimals at most")
    return int(wei)


def emit(data: dict[str, Any], *, as_json: bool, title: str | None = None) -> None:
    """Prints `data` as JSON for scripts or as a two-column table for people."""
    if as_json:
        click.echo(json.dumps(data, default=str))
        return
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for key, value in data.items():
        table.add_row(key.replace("_", " "), str(value))
    console.print(table)
