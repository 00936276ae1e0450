"""A cast of roles on one local network (demo, network benchmark, soak, the multi-process test): honest and cheating
miners, honest, lazy and accusing validators, each its own OS process with its own keystore, data dir (journal, work
files, log) and console log, started by the supervisor. Honest roles run the shipped commands (`crucible miner run`,
`crucible validator run`); dishonest ones run the same code with the simulation's nodes (`python -m crucible.simulation.process`).

Dev account 0 is the sponsor; roles take accounts 1.. in plan order.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account

from crucible.chain.client import ChainClient
from crucible.localnet.network import LocalNetwork
from crucible.paths import REPO_ROOT
from crucible.protocol import ledger
from crucible.simulation.supervisor import RoleSpec

KEYSTORE_PASSWORD = "crucible-local-cast"  # throwaway dev keys on a local chain
# A light scrypt cost for the cast's keystores (the default takes a second and 256 MiB per start, times 25 roles).
KEYSTORE_SCRYPT_N = 2**14
ACCUSER = "false accuser"


@dataclass(frozen=True)
class Role:
    """One member of the cast: what it is, which dev account it signs with, where its files live."""

    label: str
    kind: str  # "miner" | "validator"
    behaviour: str  # "honest", a cheat's name (crucible.simulation.adversary.CHEATS), "lazy", "false accuser"
    index: int  # dev account index
    address: str
    data_dir: Path

    @property
    def honest(self) -> bool:
        return self.behaviour == "honest"


def plan(*, honest_miners: int, cheats: list[str], validators: int, lazy: int = 0,
         accusers: int = 0) -> list[tuple[str, str, str]]:  # fmt: skip
    """(kind, behaviour, label) in account order: honest miners, cheaters, validators, lazy, accusers."""
    out = [("miner", "honest", f"miner-{i + 1}") for i in range(honest_miners)]
    out += [("miner", cheat, f"cheater-{i + 1}") for i, cheat in enumerate(cheats)]
    out += [("validator", "honest", f"validator-{i + 1}") for i in range(validators)]
    out += [("validator", "lazy", f"lazy-{i + 1}") for i in range(lazy)]
    out += [("validator", ACCUSER, f"accuser-{i + 1}") for i in range(accusers)]
    return out


def cast(net: LocalNetwork, root: Path, members: list[tuple[str, str, str]]) -> list[Role]:
    if len(members) >= len(net.accounts):
        raise ValueError(f"the cast needs {len(members) + 1} accounts, the network has {len(net.accounts)}")
    return [Role(label, kind, behaviour, index, net.accounts[index].address, root / "roles" / label)
            for index, (kind, behaviour, label) in enumerate(members, start=1)]  # fmt: skip


def write_keystore(net: LocalNetwork, role: Role, root: Path) -> Path:
    """The role's encrypted keystore (its dev account's key), mode 0600."""
    path = root / "keys" / f"{role.label}.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        encrypted = Account.encrypt(net.accounts[role.index].key, KEYSTORE_PASSWORD, iterations=KEYSTORE_SCRYPT_N)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(encrypted, handle)
    return path


def role_env(*, rpc_url: str, deployment: Path, keystore: Path, ipfs_api: str) -> dict[str, str]:
    """A role process's environment: this checkout, its own key and endpoints, one torch thread (roles share the
    machine's cores), nothing inherited that would point it elsewhere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRUCIBLE_") or k in ("CRUCIBLE_CACHE",
                                                                                        "CRUCIBLE_IPFS_BIN")}  # fmt: skip
    env["PYTHONPATH"] = str(REPO_ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update({"CRUCIBLE_RPC_URL": rpc_url, "CRUCIBLE_DEPLOYMENT": str(deployment), "CRUCIBLE_KEYSTORE": str(keystore),
                "CRUCIBLE_KEYSTORE_PASSWORD": KEYSTORE_PASSWORD, "CRUCIBLE_IPFS_API": ipfs_api,
                "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"})  # fmt: skip
    return env


def command(role: Role, *, poll: float, miner_stake_cru: int = 300, validator_stake_cru: int = 200,
            aggregate: bool = True) -> list[str]:  # fmt: skip
    """The role's command line: the shipped command for honest roles, crucible.simulation.process for the others."""
    common = ["--data-dir", str(role.data_dir), "--poll", f"{poll:g}"]
    if role.kind == "miner":
        common += ["--stake", str(miner_stake_cru), "--slots-per-round", "1"]
        if role.honest:
            return [sys.executable, "-m", "crucible", "miner", "run", *common,
                    *([] if aggregate else ["--no-aggregate"])]  # fmt: skip
        # A cheater never aggregates here: a cheating aggregate would only delay each round by a dispute.
        return [sys.executable, "-m", "crucible.simulation.process", "miner", "--cheat", role.behaviour, "--no-aggregate", *common]
    common += ["--stake", str(validator_stake_cru)]
    if role.honest:
        return [sys.executable, "-m", "crucible", "validator", "run", *common]
    behaviour = "false-accuser" if role.behaviour == ACCUSER else role.behaviour
    return [sys.executable, "-m", "crucible.simulation.process", "validator", "--behaviour", behaviour, *common]


def specs(net: LocalNetwork, roles: list[Role], root: Path, *, poll: float,
          rpc_url_of: Callable[[Role], str] | None = None) -> list[RoleSpec]:  # fmt: skip
    """What the supervisor needs to run the cast (`rpc_url_of` gives a role its own RPC endpoint, e.g. a relay)."""
    assert net.kubo is not None and net.deployment_file is not None
    out = []
    for role in roles:
        env = role_env(rpc_url=rpc_url_of(role) if rpc_url_of else net.rpc_url, deployment=net.deployment_file,
                       keystore=write_keystore(net, role, root), ipfs_api=net.kubo.api_multiaddr)  # fmt: skip
        out.append(RoleSpec(label=role.label, argv=command(role, poll=poll), env=env,
                            log=root / "roles" / f"{role.label}.console.log", kind=role.kind,
                            behaviour=role.behaviour, address=role.address, data_dir=role.data_dir))  # fmt: skip
    return out


def ready(client: ChainClient, roles: list[Role], *, miner_stake: int = 300 * 10**18,
          validator_stake: int = 200 * 10**18) -> bool:  # fmt: skip
    """Every role has staked what its command asks for, and every validator is in the validator set."""
    for role in roles:
        info = ledger.stake_of(client, role.address)
        if info.staked < (miner_stake if role.kind == "miner" else validator_stake):
            return False
        if role.kind == "validator" and not info.registered:
            return False
    return True


def wait_ready(client: ChainClient, roles: list[Role], watch: Callable[[], object], timeout: float) -> None:
    """Watches the processes (restarts included) until the cast has staked and joined."""
    deadline = time.monotonic() + timeout
    while not ready(client, roles):
        if time.monotonic() > deadline:
            missing = [r.label for r in roles if ledger.stake_of(client, r.address).staked == 0]
            raise TimeoutError(f"the cast did not stake within {timeout:g} s (not staked: {missing or 'none'}; "
                               "see each role's console log)")  # fmt: skip
        watch()
        time.sleep(1.0)
