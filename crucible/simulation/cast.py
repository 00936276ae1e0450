"""A cast of roles on one local network (demo and network benchmark): honest and cheating miners, honest, lazy and
accusing validators, each a real daemon with its own account, journal and work folder."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch

from crucible.artifacts.store import ArtifactStore
from crucible.journal import Journal
from crucible.localnet.network import LocalNetwork
from crucible.node import Node
from crucible.simulation.actors import CheatingMiner, FalseAccuser, LazyValidator, Sentinel
from miner.daemon import Miner, MinerConfig
from validator.daemon import Validator, ValidatorConfig


@dataclass
class Role:
    label: str
    kind: str  # "miner" | "validator"
    behaviour: str  # "honest", a cheat's name, "lazy", "false accuser", "sentinel"
    index: int  # dev account index
    node: Node

    @property
    def address(self) -> str:
        return self.node.address

    @property
    def honest(self) -> bool:
        return self.behaviour == "honest"


def build_cast(
    net: LocalNetwork,
    store: ArtifactStore,
    root: Path,
    *,
    honest_miners: int,
    cheats: list[str],
    validators: int,
    lazy: int = 0,
    accusers: int = 0,
    sentinel: bool = False,
    miner_stake: int = 300 * 10**18,
    validator_stake: int = 200 * 10**18,
    device: torch.device | None = None,
) -> list[Role]:
    """Accounts 1.. in order: honest miners, cheaters, [sentinel], validators, lazy, accusers (0 is the sponsor)."""
    device = device or torch.device("cpu")
    plan: list[tuple[str, str, str]] = [("miner", "honest", f"miner-{i + 1}") for i in range(honest_miners)]
    plan += [("miner", cheat, f"cheater-{i + 1}") for i, cheat in enumerate(cheats)]
    plan += [("miner", "sentinel", "sentinel")] if sentinel else []
    plan += [("validator", "honest", f"validator-{i + 1}") for i in range(validators)]
    plan += [("validator", "lazy", f"lazy-{i + 1}") for i in range(lazy)]
    plan += [("validator", "false accuser", f"accuser-{i + 1}") for i in range(accusers)]
    if len(plan) >= len(net.accounts):
        raise ValueError(f"the cast needs {len(plan) + 1} accounts, the network has {len(net.accounts)}")
    roles = []
    for index, (kind, behaviour, label) in enumerate(plan, start=1):
        client = net.client_for(net.accounts[index])
        journal = Journal(root / "journals" / f"{label}.sqlite")
        logger = logging.getLogger(f"crucible.{label}")
        node: Node
        if kind == "miner":
            config = MinerConfig(work_dir=root / "work" / label, slots_per_round=1, stake_wei=miner_stake,
                                 aggregate=behaviour == "honest")  # fmt: skip
            common = dict(device=device, config=config, logger=logger)
            if behaviour == "honest":
                node = Miner(client, store, journal, **common)  # type: ignore[arg-type]
            elif behaviour == "sentinel":
                node = Sentinel(client, store, journal, **common)  # type: ignore[arg-type]
            else:
                node = CheatingMiner(client, store, journal, cheat=behaviour, **common)  # type: ignore[arg-type]
        else:
            cls = {"honest": Validator, "lazy": LazyValidator, "false accuser": FalseAccuser}[behaviour]
            node = cls(client, store, journal, device=device, config=ValidatorConfig(stake_wei=validator_stake),
                       logger=logger)  # fmt: skip
        node.start()  # type: ignore[attr-defined]
        roles.append(Role(label, kind, behaviour, index, node))
    return roles
