"""Staking operations shared by the CLI, the demo and the miner and validator daemons."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from web3 import Web3

from crucible.chain.client import ChainClient
from crucible.errors import ERC20InsufficientBalance
from crucible.protocol.events import ValidatorRegistered, from_receipt
from crucible.protocol.types import StakeInfo
from crucible.units import cru


@dataclass(frozen=True)
class StakeView:
    """An account's position in the stake manager and the vault, in wei."""

    account: str
    staked: int
    locked: int
    unbonding: int
    unbond_ready_at: int
    is_validator: bool
    claimable: int
    wallet: int
    current_block: int

    def to_json(self) -> dict[str, Any]:
        plain = ("unbond_ready_at", "current_block")
        return {f"{k}_wei" if type(v) is int and k not in plain else k: v for k, v in asdict(self).items()}

    def for_people(self) -> dict[str, Any]:
        ready = "now" if self.unbond_ready_at <= self.current_block else f"block {self.unbond_ready_at}"
        return {
            "account": self.account,
            "staked": cru(self.staked),
            "locked as collateral": cru(self.locked),
            "unbonding": f"{cru(self.unbonding)} (withdrawable {ready})" if self.unbonding else cru(0),
            "validator": "yes" if self.is_validator else "no",
            "rewards to claim": cru(self.claimable),
            "wallet": cru(self.wallet),
        }


def stake_view(client: ChainClient, account: str) -> StakeView:
    address = Web3.to_checksum_address(account)
    info = StakeInfo.from_abi(client.call(client.stakes.functions.stakeOf(address)))
    return StakeView(
        account=address,
        staked=info.staked,
        locked=info.locked,
        unbonding=info.unbonding,
        unbond_ready_at=info.unbond_ready_at,
        is_validator=client.call(client.stakes.functions.isValidator(address)),
        claimable=client.call(client.vault.functions.claimableOf(address)),
        wallet=client.call(client.token.functions.balanceOf(address)),
        current_block=client.block_number(),
    )


def add_stake(client: ChainClient, amount: int, *, register_validator: bool = False) -> str:
    """Approves and stakes `amount`; joins the validator set if asked. Returns the stake tx hash."""
    sender = client.sender
    balance = client.call(client.token.functions.balanceOf(sender))
    if balance < amount:
        # Checked up front so nothing is half done (no dangling approval) when the wallet is short.
        raise ERC20InsufficientBalance(sender, balance, amount)
    if client.call(client.token.functions.allowance(sender, client.stakes.address)) < amount:
        client.transact(client.token.functions.approve(client.stakes.address, amount))
    receipt = client.transact(client.stakes.functions.stake(amount))
    if register_validator and not client.call(client.stakes.functions.isValidator(sender)):
        join_validator_set(client)
    return str(receipt["transactionHash"].to_0x_hex())


def join_validator_set(client: ChainClient, device_classes: list[int] | None = None) -> int:
    """Joins the validator set; returns the epoch from which the validator can be drawn (two epochs on)."""
    receipt = client.transact(client.stakes.functions.registerValidator(device_classes or []))
    (event,) = from_receipt(client, ValidatorRegistered, receipt)
    return event.active_from_epoch


def request_unbond(client: ChainClient, amount: int) -> str:
    receipt = client.transact(client.stakes.functions.requestUnbond(amount))
    return str(receipt["transactionHash"].to_0x_hex())


def withdraw_unbonded(client: ChainClient) -> tuple[int, str]:
    unbonding = StakeInfo.from_abi(client.call(client.stakes.functions.stakeOf(client.sender))).unbonding
    receipt = client.transact(client.stakes.functions.withdraw())
    return unbonding, str(receipt["transactionHash"].to_0x_hex())
