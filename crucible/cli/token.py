"""`crucible faucet`, `crucible fund` and `crucible claim`: test money on a local chain, and rewards."""

from __future__ import annotations

import click

from crucible.cli.context import Settings
from crucible.cli.output import cru, emit
from crucible.cli.params import ADDRESS, AMOUNT, Amount

ETH = 10**18


def _show(settings: Settings, funded: object) -> None:
    data = funded.to_json()  # type: ignore[attr-defined]
    if settings.as_json:
        emit(data, as_json=True)
        return
    emit({"account": data["account"], "given": f"{data['eth_given_wei'] / ETH:g} ETH, {cru(data['cru_given_wei'])}",
          "eth": f"{data['eth_wei'] / ETH:g} ETH", "wallet": cru(data["wallet_wei"])},
         as_json=False, title="funded")  # fmt: skip


@click.command()
@click.argument("amount", type=AMOUNT)
@click.pass_obj
def faucet(settings: Settings, amount: int) -> None:
    """Mint AMOUNT test CRU to the signing account (local chains only). An account without ETH first gets 10 ETH for
    gas from development account 0."""
    from crucible.localnet.faucet import DEFAULT_ETH, fund as give  # noqa: PLC0415

    client = settings.client(signer=True)
    _show(settings, give(client, client.sender, eth_wei=DEFAULT_ETH, cru_wei=amount, min_eth_wei=ETH))


@click.command()
@click.argument("address", type=ADDRESS)
@click.option("--eth", "eth_wei", type=Amount(allow_zero=True, max_wei=10**6 * ETH, unit="ETH"), default="10", show_default=True,
              help="ETH for gas.")  # fmt: skip
@click.option("--cru", "cru_wei", type=Amount(allow_zero=True, max_wei=10**6 * ETH), default="1000", show_default=True,
              help="CRU from the token's faucet.")  # fmt: skip
@click.pass_obj
def fund(settings: Settings, address: str, eth_wei: int, cru_wei: int) -> None:
    """Give ADDRESS ETH and CRU from development account 0 (local chains only; no key needed)."""
    from crucible.localnet.faucet import fund as give  # noqa: PLC0415

    _show(settings, give(settings.client(signer=False), address, eth_wei=eth_wei, cru_wei=cru_wei))


@click.command()
@click.pass_obj
def claim(settings: Settings) -> None:
    """Claim every reward owed to the signing account."""
    client = settings.client(signer=True)
    owed = client.call(client.vault.functions.claimableOf(client.sender))
    receipt = client.transact(client.vault.functions.claim())
    emit({"account": client.sender, "claimed": owed if settings.as_json else cru(owed),
          "tx": receipt["transactionHash"].to_0x_hex()}, as_json=settings.as_json)  # fmt: skip
