"""Brings up a local Crucible network: anvil on loopback, the protocol deployed, dev accounts funded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from crucible.chain.client import ChainClient
from crucible.chain.deploy import deploy_protocol
from crucible.chain.deployment import ProtocolParams, save_deployment
from crucible.localnet.anvil import DEV_MNEMONIC, AnvilNode
from crucible.localnet.kubo import KuboNode
from crucible.paths import DEPLOYMENTS_DIR

Account.enable_unaudited_hdwallet_features()


def dev_accounts(count: int) -> list[LocalAccount]:
    """anvil's development accounts (public keys of a public mnemonic: local use only)."""
    return [Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}") for i in range(count)]


@dataclass
class LocalNetwork:
    """A running local network. close() stops everything it started."""

    anvil: AnvilNode
    client: ChainClient
    accounts: list[LocalAccount]
    deployment_file: Path | None
    kubo: KuboNode | None = None
    _closers: list[Callable[[], None]] = field(default_factory=list, repr=False)

    @property
    def rpc_url(self) -> str:
        return self.anvil.rpc_url

    def client_for(self, account: LocalAccount) -> ChainClient:
        return ChainClient(w3=self.client.w3, deployment=self.client.deployment, account=account,
                           compiled=self.client.compiled)  # fmt: skip

    def mine(self, blocks: int) -> None:
        """Local only: lets `blocks` blocks pass (anvil_mine), standing in for waiting."""
        self.client.w3.provider.make_request("anvil_mine", [hex(blocks)])  # type: ignore[arg-type]

    def close(self) -> None:
        for closer in reversed(self._closers):
            closer()
        if self.kubo is not None:
            self.kubo.close()
        self.anvil.close()

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
    log_dir: Path | None = None,
    with_ipfs: bool = False,
    progress: Callable[[str], None] = lambda _: None,
) -> LocalNetwork:
    """Starts anvil (and Kubo, with `with_ipfs`), deploys, funds `accounts` dev accounts with `fund_wei` CRU, and
    saves the deployment file."""
    progress("starting anvil on 127.0.0.1")
    anvil = AnvilNode.start(port=port, accounts=accounts, log_path=(log_dir / "anvil.log") if log_dir else None)
    try:
        devs = dev_accounts(accounts)
        client = deploy_protocol(anvil.rpc_url, devs[0], params, progress=progress)
        progress(f"funding {accounts} accounts with CRU from the local faucet")
        for account in devs:
            client.transact(client.token.functions.faucet(account.address, fund_wei))
        path = save_deployment(client.deployment, deployments_dir) if deployments_dir else None
        kubo = None
        if with_ipfs:
            progress("starting Kubo on 127.0.0.1 (private repo, offline, no bootstrap, no MDNS, no telemetry)")
            kubo = KuboNode.start(log_path=(log_dir / "kubo.log") if log_dir else None)
    except BaseException:
        anvil.close()  # a failed start leaves nothing running and no deployment file
        raise
    return LocalNetwork(anvil=anvil, client=client, accounts=devs, deployment_file=path, kubo=kubo)
