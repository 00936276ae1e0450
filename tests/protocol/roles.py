"""Building miners, validators and jobs on the test network (shared by the network tests)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

from crucible.artifacts.store import ArtifactStore
from crucible.journal import Journal
from crucible.localnet.network import LocalNetwork
from crucible.protocol import ledger
from crucible.protocol.types import JobKind, JobParams, Windows
from crucible.sponsor import PostedJob, post_job
from miner.daemon import Miner, MinerConfig
from validator.daemon import Validator, ValidatorConfig

CPU = torch.device("cpu")
FAST = Windows(submit_window=40, seed_delay=2, checkpoint_reveal_window=8, commit_window=8, reveal_window=8,
               unseal_window=4, round_claim_window=200)  # fmt: skip


def make_miner(network: LocalNetwork, store: ArtifactStore, index: int, root: Path, cls: type = Miner, *,
               aggregates: bool = True, **kw: Any) -> Any:  # fmt: skip
    account = network.accounts[index]
    config = MinerConfig(work_dir=root / f"miner-{index}", slots_per_round=1, stake_wei=300 * 10**18,
                         aggregate=aggregates)  # fmt: skip
    node = cls(network.client_for(account), store, Journal(root / f"miner-{index}.sqlite"), device=CPU,
               config=config, logger=logging.getLogger(f"crucible.miner.{index}"), **kw)  # fmt: skip
    node.start()
    return node


def make_validator(network: LocalNetwork, store: ArtifactStore, index: int, root: Path, cls: type = Validator) -> Any:
    account = network.accounts[index]
    node = cls(network.client_for(account), store, Journal(root / f"validator-{index}.sqlite"), device=CPU,
               config=ValidatorConfig(stake_wei=200 * 10**18), logger=logging.getLogger(f"crucible.validator.{index}"))  # fmt: skip
    node.start()
    return node


def post(network: LocalNetwork, store: ArtifactStore, *, kind: str = "pretrain", rounds: int = 1, slots: int = 3,
         base: dict[str, torch.Tensor] | None = None, seed: int = 0, **overrides: Any) -> PostedJob:  # fmt: skip
    params = JobParams(kind=JobKind[kind.upper()], num_rounds=rounds, slots_per_round=slots, intervals_per_slot=4,
                       sampled_intervals=2, audit_bps=10_000, seats_per_audit=2, committee_size=3, windows=FAST,
                       **overrides)  # fmt: skip
    sponsor = network.client_for(network.accounts[0])
    return post_job(sponsor, store, kind=kind, model="tiny", params=params, compute_cost_wei=10**18, collusion=0.1,
                    dataset_size=256, seed=seed, base=base, steps_per_interval=2)  # fmt: skip


def stake_of(network: LocalNetwork, index: int) -> int:
    client = network.client
    return int(client.call(client.stakes.functions.stakeOf(network.accounts[index].address))[0])


def earned(network: LocalNetwork, index: int) -> int:
    """Claimable plus already claimed rewards of an account."""
    client = network.client
    address = network.accounts[index].address
    claimed = sum(int(log["args"]["amount"]) for log in client.vault.events.RewardClaimed().get_logs(
        from_block=0, argument_filters={"account": address}))  # fmt: skip
    return claimed + int(client.call(client.vault.functions.claimableOf(address)))


def use_validators(network: LocalNetwork, active: list[int]) -> None:
    """Makes exactly `active` (account indices, already staked) the validator set: how the tests decide who can be
    drawn, since seats are drawn from the set as it is at commit time."""
    for index, account in enumerate(network.accounts):
        client = network.client_for(account)
        is_validator = client.call(client.stakes.functions.isValidator(account.address))
        if index in active and not is_validator:
            client.transact(client.stakes.functions.registerValidator())
        elif index not in active and is_validator:
            client.transact(client.stakes.functions.deregisterValidator())


def settled_with_seats(network: LocalNetwork, job_id: int, round_: int, slot: int) -> bool:
    """The submission is settled and every seat that committed on it is settled too."""
    client = network.client
    view = ledger.subject_of(client, job_id, round_, slot)
    if not view.outcome.value:
        return False
    logs = client.ledger.events.VerdictCommitted().get_logs(from_block=0, argument_filters={"subject": view.key})
    return all(int(client.call(client.ledger.functions.seatOf(view.key, log["args"]["panel"], log["args"]["seat"]))[1]) & 8
               for log in logs)  # fmt: skip
