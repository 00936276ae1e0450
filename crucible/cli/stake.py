"""`crucible stake`: add, unbond, withdraw and show stakes."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import click

from crucible.cli.context import Settings
from crucible.cli.output import abort, cru, emit, err_console
from crucible.cli.params import ADDRESS, AMOUNT
from crucible.errors import ConfigError

if TYPE_CHECKING:
    from crucible.staking import StakeView


@click.group()
def stake() -> None:
    """Stake CRU, unbond it, withdraw it after the unbonding period, and look at stakes."""


@stake.command("add")
@click.argument("amount", type=AMOUNT)
@click.option("--validator", is_flag=True, help="Also join the validator set (needs the validator minimum staked).")
@click.pass_obj
def add(settings: Settings, amount: int, validator: bool) -> None:
    """Stake AMOUNT CRU from the signing account (approves the stake manager first)."""
    from crucible.errors import ContractError  # noqa: PLC0415
    from crucible.staking import add_stake, join_validator_set, stake_view  # noqa: PLC0415

    client = settings.client(signer=True)
    stakes = client.stakes.functions
    join = validator and not client.call(stakes.isValidator(client.sender))
    if join:
        # Checked before anything is sent: a stake that lands and a registration that then fails would be half done.
        staked = stake_view(client, client.sender).staked
        minimum = int(client.call(stakes.minValidatorStake()))
        if staked + amount < minimum:
            raise ConfigError(
                f"--validator needs at least {cru(minimum)} staked; {cru(staked)} staked plus {cru(amount)} is "
                f"{cru(staked + amount)}: add at least {cru(minimum - staked)}, or leave out --validator"
            )
    receipt = add_stake(client, amount)
    if join:
        try:
            join_validator_set(client)
        except ContractError as exc:
            _show(settings, stake_view(client, client.sender), tx=receipt)
            abort(f"staked {cru(amount)} (tx {receipt}), but joining the validator set failed: {exc}; the stake "
                  "stays staked, retry with `crucible stake add AMOUNT --validator`")  # fmt: skip
    _show(settings, stake_view(client, client.sender), tx=receipt)


@stake.command("unbond")
@click.argument("amount", type=AMOUNT)
@click.pass_obj
def unbond(settings: Settings, amount: int) -> None:
    """Move AMOUNT CRU of free stake into unbonding; it can be withdrawn after the unbonding period."""
    from crucible.staking import request_unbond, stake_view  # noqa: PLC0415

    client = settings.client(signer=True)
    receipt = request_unbond(client, amount)
    _show(settings, stake_view(client, client.sender), tx=receipt)


@stake.command("withdraw")
@click.option("--wait", is_flag=True, help="Wait for the end of the unbonding period first (logs the block it waits for).")
@click.pass_obj
def withdraw(settings: Settings, wait: bool) -> None:
    """Withdraw all matured unbonding funds to the signing account."""
    from crucible.staking import stake_view, withdraw_unbonded  # noqa: PLC0415

    client = settings.client(signer=True)
    if wait:
        _wait_for_unbonding(client)
    amount, receipt = withdraw_unbonded(client)
    view = stake_view(client, client.sender)
    if settings.as_json:
        emit({**view.to_json(), "withdrawn_wei": amount, "tx": receipt}, as_json=True)
    else:
        click.echo(f"withdrew {cru(amount)}")
        _show(settings, view, tx=receipt)


def _wait_for_unbonding(client: object, every: float = 10.0) -> None:
    from crucible.staking import stake_view  # noqa: PLC0415

    view = stake_view(client, client.sender)  # type: ignore[attr-defined]
    if not view.unbonding:
        return  # nothing to wait for: withdraw says so with the contract's own error
    last = 0.0
    block = view.current_block
    while block < view.unbond_ready_at:
        if time.monotonic() - last >= every:
            err_console.print(f"waiting for block {view.unbond_ready_at} to withdraw {cru(view.unbonding)} "
                              f"(now {block}, {view.unbond_ready_at - block} to go)", highlight=False, soft_wrap=True)  # fmt: skip
            last = time.monotonic()
        time.sleep(0.5)
        block = client.block_number()  # type: ignore[attr-defined]


@stake.command("show")
@click.argument("address", type=ADDRESS, required=False)
@click.pass_obj
def show(settings: Settings, address: str | None) -> None:
    """Show the stake of ADDRESS (default: the signing account)."""
    from crucible.staking import stake_view  # noqa: PLC0415

    client = settings.client(signer=address is None)
    _show(settings, stake_view(client, address or client.sender), tx=None)


def _show(settings: Settings, view: StakeView, *, tx: str | None) -> None:
    data = view.to_json() if settings.as_json else view.for_people()
    if tx:
        data["tx"] = tx
    emit(data, as_json=settings.as_json, title=None if settings.as_json else f"stake of {view.account}")
