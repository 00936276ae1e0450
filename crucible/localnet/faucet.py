"""Test money on a local chain: ETH for gas from a development account, CRU from the token's faucet.

Development account 0 comes from anvil's public mnemonic (its key is worthless outside a local chain), so anyone can
give a fresh key what it needs to act: that is what `crucible fund` and `crucible faucet` do, on chains 31337 and 1337
only.
"""

from __future__ import annotations

from dataclasses import dataclass

from crucible.chain.client import ChainClient
from crucible.errors import ConfigError, InsufficientFunds

LOCAL_CHAIN_IDS = (31337, 1337)
ETH = 10**18
DEFAULT_ETH = 10 * ETH  # enough gas for weeks of a miner's transactions on a local chain
FAUCET_MAX_CRU = 1_000_000 * 10**18  # CrucibleToken.FAUCET_MAX


@dataclass(frozen=True)
class Funded:
    account: str
    eth_given: int
    cru_given: int
    eth_balance: int
    cru_balance: int

    def to_json(self) -> dict[str, object]:
        return {"account": self.account, "eth_given_wei": self.eth_given, "cru_given_wei": self.cru_given,
                "eth_wei": self.eth_balance, "wallet_wei": self.cru_balance}  # fmt: skip


def require_local(client: ChainClient, what: str) -> None:
    chain_id = client.deployment.chain_id
    if chain_id not in LOCAL_CHAIN_IDS:
        raise ConfigError(f"{what} exists only on local chains ({', '.join(map(str, LOCAL_CHAIN_IDS))}); "
                          f"the RPC at {client.rpc_url} serves chain {chain_id}")  # fmt: skip


def dev_client(client: ChainClient, index: int = 0) -> ChainClient:
    """A client signing with development account `index` over the same connection and deployment."""
    from crucible.localnet.network import dev_accounts  # noqa: PLC0415 - HD derivation only when funding

    account = dev_accounts(index + 1)[index]
    return ChainClient(w3=client.w3, deployment=client.deployment, account=account, compiled=client.compiled)


def send_eth(source: ChainClient, to: str, wei: int) -> None:
    """A plain ETH transfer from `source`'s account, waited for."""
    from web3.exceptions import Web3RPCError  # noqa: PLC0415

    from crucible.chain.client import rpc_error  # noqa: PLC0415

    assert source.account is not None
    w3 = source.w3
    have = int(w3.eth.get_balance(source.account.address))
    if have < wei + 10**16:
        raise InsufficientFunds(f"development account {source.account.address} holds {have / ETH:g} ETH, "
                                f"not enough to give {wei / ETH:g} ETH")  # fmt: skip
    tx = {"from": source.account.address, "to": to, "value": wei, "chainId": source.deployment.chain_id,
          "nonce": w3.eth.get_transaction_count(source.account.address, "pending"), "gas": 21_000,
          "maxFeePerGas": 2 * int(w3.eth.gas_price) + 10**9, "maxPriorityFeePerGas": 10**9}  # fmt: skip
    try:
        tx_hash = w3.eth.send_raw_transaction(source.account.sign_transaction(tx).raw_transaction)
    except Web3RPCError as exc:
        raise rpc_error(exc) from None
    w3.eth.wait_for_transaction_receipt(tx_hash, timeout=source.receipt_timeout)


def fund(client: ChainClient, to: str, *, eth_wei: int, cru_wei: int, min_eth_wei: int | None = None) -> Funded:
    """Gives `to` ETH (only what it lacks below `min_eth_wei` when that is set) and `cru_wei` CRU."""
    require_local(client, "funding from a development account")
    if cru_wei > FAUCET_MAX_CRU:
        raise ConfigError(f"the faucet mints at most {FAUCET_MAX_CRU // 10**18:,} CRU per call")
    source = dev_client(client)
    eth_given = 0
    balance = int(client.w3.eth.get_balance(to))
    if eth_wei and (min_eth_wei is None or balance < min_eth_wei):
        send_eth(source, to, eth_wei)
        eth_given = eth_wei
    if cru_wei:
        source.transact(source.token.functions.faucet(to, cru_wei))
    return Funded(to, eth_given, cru_wei, int(client.w3.eth.get_balance(to)),
                  int(client.call(client.token.functions.balanceOf(to))))  # fmt: skip
