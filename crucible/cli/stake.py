"""`crucible stake`: add, unbond, withdraw and show stakes."""

from __future__ import annotations

import click

from crucible.cli.context import Settings
from crucible.cli.output import cru, emit, parse_amount
from crucible.staking import StakeView, add_stake, request_unbond, stake_view, withdraw_unbonded


@click.group()
def stake() -> None:
    """Stake CRU, unbond it, withdraw it after the unbonding period, and look at stakes."""


@stake.command("add")
@click.argument("amount")
@click.option("--validator", is_flag=True, help="Also join the validator set (needs the validator minimum).")
@click.pass_obj
def add(settings: Settings, amount: str, validator: bool) -> None:
    """Stake AMOUNT CRU from the signing account (approves the stake manager first)."""
    client = settings.client(signer=True)
    receipt = add_stake(client, parse_amount(amount), register_validator=validator)
    _show(settings, stake_view(client, client.sender), tx=receipt)


@stake.command("unbond")
@click.argument("amount")
@click.pass_obj
def unbond(settings: Settings, amount: str) -> None:
    """Move AMOUNT CRU of free stake into unbonding; it can be withdrawn after the unbonding period."""
    client = settings.client(signer=True)
    receipt = request_unbond(client, parse_amount(amount))
    _show(settings, stake_view(client, client.sender), tx=receipt)


@stake.command("withdraw")
@click.pass_obj
def withdraw(settings: Settings) -> None:
    """Withdraw all matured unbonding funds to the signing account."""
    client = settings.client(signer=True)
    amount, receipt = withdraw_unbonded(client)
    view = stake_view(client, client.sender)
    if settings.as_json:
        emit({**view.to_json(), "withdrawn_wei": amount, "tx": receipt}, as_json=True)
    else:
        click.echo(f"withdrew {cru(amount)}")
        _show(settings, view, tx=receipt)


@stake.command("show")
@click.argument("address", required=False)
@click.pass_obj
def show(settings: Settings, address: str | None) -> None:
    """Show the stake of ADDRESS (default: the signing account)."""
    client = settings.client(signer=address is None)
    _show(settings, stake_view(client, address or client.sender), tx=None)


def _show(settings: Settings, view: StakeView, *, tx: str | None) -> None:
    data = view.to_json() if settings.as_json else view.for_people()
    if tx:
        data["tx"] = tx
    emit(data, as_json=settings.as_json, title=None if settings.as_json else f"stake of {view.account}")
