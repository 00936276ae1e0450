"""`crucible keys`: encrypted keystores, so no raw key ever sits on a command line."""

from __future__ import annotations

import os
from pathlib import Path

import click

from crucible.cli.context import Settings
from crucible.cli.output import emit

PASSWORD_ENV = "CRUCIBLE_KEYSTORE_PASSWORD"  # crucible.chain.keys reads the same names (kept here: no eth_account at start)
PRIVATE_KEY_ENV = "CRUCIBLE_PRIVATE_KEY"


@click.group()
def keys() -> None:
    """Create and inspect encrypted keystores."""


@keys.command("new")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--import-env", is_flag=True, help=f"Encrypt the key in {PRIVATE_KEY_ENV} instead of a new one.")
@click.pass_obj
def new(settings: Settings, path: Path, import_env: bool) -> None:
    """Create an encrypted keystore at PATH (password from CRUCIBLE_KEYSTORE_PASSWORD or a prompt)."""
    from crucible.chain.keys import create_keystore  # noqa: PLC0415

    if import_env and not os.environ.get(PRIVATE_KEY_ENV):
        raise click.BadParameter(f"{PRIVATE_KEY_ENV} is not set: nothing to import", param_hint="'--import-env'")
    if path.exists():
        raise click.BadParameter(f"{path} already exists; refusing to overwrite a key", param_hint="'PATH'")
    password = os.environ.get(PASSWORD_ENV) or click.prompt("new password", hide_input=True, confirmation_prompt=True)
    account = create_keystore(path, password, os.environ.get(PRIVATE_KEY_ENV) if import_env else None)
    emit({"address": account.address, "keystore": str(path)}, as_json=settings.as_json, title="keystore created")


@keys.command("address")
@click.pass_obj
def address(settings: Settings) -> None:
    """Print the address of the signing key."""
    from crucible.chain.keys import load_account  # noqa: PLC0415

    account = load_account(settings.keystore)
    if settings.as_json:
        emit({"address": account.address}, as_json=True)
    else:
        click.echo(account.address)
