"""Building miners, validators and jobs on the test network (shared by the network tests)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

from crucible.artifacts.store import ArtifactStore
from crucible.chain.client import ChainClient
from crucible.journal import Journal
from crucible.localnet.network import LocalNetwork
from crucible.protocol import ledger
from crucible.protocol.events import RewardClaimed, fetch
from crucible.protocol.plants import Plant
from crucible.protocol.types import JobKind, JobParams, Panel, Windows
from crucible.staking import join_validator_set
from crucible.sponsor import PostedJob, post_job
from miner.daemon import Miner, MinerConfig
from validator.daemon import Validator, ValidatorConfig

CPU = torch.device("cpu")
# Every role's transaction mines a block of its own on the test chain, so windows are sized in transactions too: a
# seat drawn at the draw deadline keeps commit_window / 2 = 8 blocks, while a pass of three miners and three
# validators can send that many transactions before the holder's turn (a tighter window once slashed an honest seat).
FAST = Windows(submit_window=30, seed_delay=1, checkpoint_reveal_window=10, commit_window=16, reveal_window=12,
               unseal_window=4, round_claim_window=60)  # fmt: skip


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
         base: dict[str, torch.Tensor] | None = None, seed: int = 0, plants: list[Plant] | None = None,
         **overrides: Any) -> PostedJob:  # fmt: skip
    params = JobParams(kind=JobKind[kind.upper()], num_rounds=rounds, slots_per_round=slots, intervals_per_slot=4,
                       sampled_intervals=2, audit_bps=10_000, **{"seats_per_audit": 2, "committee_size": 3,
                       "windows": FAST, **overrides})  # fmt: skip
    sponsor = network.client_for(network.accounts[0])
    return post_job(sponsor, store, kind=kind, model="tiny", params=params, compute_cost_wei=10**18, collusion=0.1,
                    dataset_size=256, seed=seed, base=base, steps_per_interval=2, plants=plants)  # fmt: skip


def stake_of(network: LocalNetwork, index: int) -> int:
    client = network.client
    return ledger.stake_of(client, network.accounts[index].address).staked


def earned(network: LocalNetwork, index: int) -> int:
    """Claimable plus already claimed rewards of an account."""
    client = network.client
    address = network.accounts[index].address
    claimed = sum(e.amount for e in fetch(client, RewardClaimed, account=address))
    return claimed + int(client.call(client.vault.functions.claimableOf(address)))


def activate(network: LocalNetwork) -> None:
    """Lets two epochs pass: validator weights change two epochs after a validator joins, leaves or restakes."""
    epoch = int(network.client.call(network.client.stakes.functions.epochBlocks()))
    network.mine(2 * epoch + 1)


def use_validators(network: LocalNetwork, active: list[int]) -> None:
    """Makes exactly `active` (account indices, already staked) the validator set that panels are drawn from: joins
    and leaves, then lets the two epochs pass after which draws see them."""
    for index, account in enumerate(network.accounts):
        client = network.client_for(account)
        is_validator = client.call(client.stakes.functions.isValidator(account.address))
        if index in active and not is_validator:
            join_validator_set(client)
        elif index not in active and is_validator:
            client.transact(client.stakes.functions.deregisterValidator())
    activate(network)


def record_randomness_at(network: LocalNetwork, client: ChainClient, block: int) -> None:
    """Mines up to `block` - 1, then records `block`'s randomness in `block` itself (anvil mines each transaction)."""
    head = client.block_number()
    assert head < block, f"block {block} has passed (head {head})"
    if head < block - 1:
        network.mine(block - 1 - head)
    receipt = ledger.record_randomness(client)
    assert receipt["blockNumber"] == block


def settled_with_seats(network: LocalNetwork, job_id: int, round_: int, slot: int) -> bool:
    """The submission is settled and every seat drawn on it is settled too."""
    client = network.client
    if not ledger.subject_of(client, job_id, round_, slot).outcome.value:
        return False
    return all(seat.settled for panel in (Panel.AUDIT, Panel.COMMITTEE)
               for seat in ledger.seats_of(client, job_id, round_, slot, panel))  # fmt: skip
