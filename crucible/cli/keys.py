"""`crucible keys`: encrypted keystores, so no raw key ever sits on a command line."""

from __future__ import annotations

import os
from pathlib import Path

import click

from crucible.chain.keys import PASSWORD_ENV, PRIVATE_KEY_ENV, create_keystore, load_account
from crucible.cli.context import Settings
from crucible.cli.output import emit


@click.group()
def keys() -> None:
    """Create and inspect encrypted keystores."""


@keys.command("new")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--import-env", is_flag=True, help=f"Encrypt the key in {PRIVATE_KEY_ENV} instead of a new one.")
@click.pass_obj
def new(settings: Settings, path: Path, import_env: bool) -> None:
    """Create an encrypted keystore at PATH (password from CRUCIBLE_KEYSTORE_PASSWORD or a prompt)."""
    password = os.environ.get(PASSWORD_ENV) or click.prompt("new password", hide_input=True, confirmation_prompt=True)
    account = create_keystore(path, password, os.environ.get(PRIVATE_KEY_ENV) if import_env else None)
    emit({"address": account.address, "keystore": str(path)}, as_json=settings.as_json, title="keystore created")


@keys.command("address")
@click.pass_obj
def address(settings: Settings) -> None:
    """Print the address of the signing key."""
    emit({"address": load_account(settings.keystore).address}, as_json=settings.as_json)
