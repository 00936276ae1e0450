"""`crucible faucet`, `crucible balance`, `crucible claim`: tokens and rewards."""

from __future__ import annotations

import click

from crucible.cli.context import Settings
from crucible.cli.output import cru, emit, parse_amount


@click.command()
@click.argument("amount")
@click.pass_obj
def faucet(settings: Settings, amount: str) -> None:
    """Mint AMOUNT test CRU to the signing account (local chains only)."""
    client = settings.client(signer=True)
    client.transact(client.token.functions.faucet(client.sender, parse_amount(amount)))
    balance = client.call(client.token.functions.balanceOf(client.sender))
    emit({"account": client.sender, "wallet": cru(balance)}, as_json=settings.as_json)


@click.command()
@click.pass_obj
def claim(settings: Settings) -> None:
    """Claim every reward owed to the signing account."""
    client = settings.client(signer=True)
    owed = client.call(client.vault.functions.claimableOf(client.sender))
    receipt = client.transact(client.vault.functions.claim())
    emit({"account": client.sender, "claimed": owed if settings.as_json else cru(owed),
          "tx": receipt["transactionHash"].to_0x_hex()}, as_json=settings.as_json)  # fmt: skip
