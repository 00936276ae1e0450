"""Brings up a local Crucible network: a local EVM node (anvil, or Hardhat's with CRUCIBLE_EVM=hardhat) on loopback, the
protocol deployed, dev accounts funded, and Kubo when asked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from crucible.chain.client import ChainClient
from crucible.chain.deploy import deploy_protocol
from crucible.chain.deployment import ProtocolParams, deployment_path, load_deployment, save_deployment_to
from crucible.errors import ChainError
from crucible.localnet.blocks import advance_blocks
from crucible.localnet.chain import DEV_MNEMONIC, LOCAL_CHAIN_ID, LocalChain, evm_from_env, start_chain
from crucible.localnet.kubo import KuboNode
from crucible.paths import DEPLOYMENTS_DIR

Account.enable_unaudited_hdwallet_features()


def dev_accounts(count: int) -> list[LocalAccount]:
    """The local nodes' development accounts (public keys of a public mnemonic: local use only)."""
    return [Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}") for i in range(count)]


@dataclass
class LocalNetwork:
    """A running local network. close() stops everything it started."""

    chain: LocalChain  # the EVM node (anvil or Hardhat's)
    client: ChainClient
    accounts: list[LocalAccount]
    deployment_file: Path | None
    kubo: KuboNode | None = None
    reused: bool = False  # the deployment file matched the kept chain: nothing was deployed or funded
    note: str = ""  # why an existing deployment file was not reused
    block_time: int | None = None  # seconds between blocks (interval mining), None: automine
    _closers: list[Callable[[], None]] = field(default_factory=list, repr=False)

    @property
    def rpc_url(self) -> str:
        return self.chain.rpc_url

    @property
    def evm(self) -> str:
        return self.chain.name

    def client_for(self, account: LocalAccount) -> ChainClient:
        return ChainClient(w3=self.client.w3, deployment=self.client.deployment, account=account,
                           compiled=self.client.compiled)  # fmt: skip

    def mine(self, blocks: int) -> None:
        """Local only: lets `blocks` blocks pass at once (anvil_mine / hardhat_mine), standing in for waiting."""
        advance_blocks(self.client.w3, blocks)

    def close(self) -> None:
        for closer in reversed(self._closers):
            closer()
        if self.kubo is not None:
            self.kubo.close()
        self.chain.close()

    def __enter__(self) -> LocalNetwork:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_local_network(
    *,
    port: int | None = None,
    accounts: int = 10,
    fund_wei: int = 10_000 * 10**18,
    params: ProtocolParams = ProtocolParams(),
    deployments_dir: Path | None = DEPLOYMENTS_DIR,
    deployment_file: Path | None = None,
    log_dir: Path | None = None,
    with_ipfs: bool = False,
    progress: Callable[[str], None] = lambda _: None,
    block_time: int | None = None,
    state_dir: Path | None = None,
    ipfs_ports: tuple[int, int] | None = None,
    evm: str | None = None,
) -> LocalNetwork:
    """Starts the EVM node `evm` names (default: CRUCIBLE_EVM, else anvil) and Kubo (with `with_ipfs`), deploys,
    funds `accounts` dev accounts with `fund_wei` CRU, and saves the deployment file (`deployment_file`, else
    `deployments_dir/<chainId>.json`).

    `block_time`: after the deployment, the node mines a block every `block_time` seconds by itself (interval mining,
    like a real chain); without it, a block per transaction (automine) and `mine()` stand in for time.
    `state_dir`: the chain is kept there (loaded at start, written back on exit; anvil only, Hardhat's node keeps no
    state) with Kubo's repository; a deployment file that still matches the kept chain is reused as is (nothing is
    deployed or funded again).
    """
    evm = evm or evm_from_env()
    state_path = state_dir / "chain-state.json" if state_dir and evm == "anvil" else None
    path = deployment_file or (deployment_path(LOCAL_CHAIN_ID, deployments_dir) if deployments_dir else None)
    kept_chain = state_path is not None and state_path.exists()
    progress(f"starting {evm} on 127.0.0.1" + (f" from the chain kept in {state_path}" if kept_chain else
             " (it keeps no chain state: a fresh chain)" if state_dir and not state_path else ""))  # fmt: skip
    node = start_chain(evm, port=port, accounts=accounts, log_path=(log_dir / f"{evm}.log") if log_dir else None,
                       state_path=state_path)  # fmt: skip
    kubo = None
    try:
        devs = dev_accounts(accounts)
        client, reused, note = None, False, ""
        if path is not None and path.exists():
            try:
                client = ChainClient.open(node.rpc_url, load_deployment(path), devs[0])
                reused = True
            except ChainError as exc:
                note = (f"not reusing {path} on the kept chain ({exc}); deploying again" if kept_chain else
                        f"replacing {path}: it described a chain that no longer exists (this one starts empty)")  # fmt: skip
                progress(note)
        if client is None:
            client = deploy_protocol(node.rpc_url, devs[0], params, progress=progress)
            progress(f"funding {accounts} accounts with CRU from the local faucet")
            for account in devs:
                client.transact(client.token.functions.faucet(account.address, fund_wei))
        if with_ipfs:
            repo = state_dir / "ipfs" if state_dir else None
            progress("starting Kubo on 127.0.0.1 (private repo, offline, no bootstrap, no MDNS, no telemetry)")
            kubo = KuboNode.start(repo, ports=ipfs_ports, log_path=(log_dir / "kubo.log") if log_dir else None)
        if path is not None and not reused:
            path = save_deployment_to(client.deployment, path)
        if block_time:
            node.set_block_time(block_time)
    except BaseException:
        if kubo is not None:
            kubo.close()
        node.close()  # a failed start leaves nothing running and no deployment file
        raise
    return LocalNetwork(chain=node, client=client, accounts=devs, deployment_file=path, kubo=kubo, reused=reused,
                        note=note, block_time=block_time)  # fmt: skip

