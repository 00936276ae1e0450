"""Running many roles in one process on a local chain: each pass ticks every node once, then lets a block pass.

On a real network every role is its own process and blocks come on their own; here the demo, the tests and the
network benchmark need the same daemons to share two cores deterministically, so time is a block per pass.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from crucible.chain.client import ChainClient
from crucible.localnet.network import LocalNetwork
from crucible.node import Node
from crucible.protocol import ledger


@dataclass
class DriveStats:
    passes: int = 0
    seconds: float = 0.0
    busy: dict[str, float] = field(default_factory=dict)  # node label -> seconds spent in its ticks


def drive(
    network: LocalNetwork,
    nodes: Sequence[tuple[str, Node]],
    *,
    until: Callable[[], bool],
    max_passes: int = 2_000,
    blocks_per_pass: int = 1,
    on_pass: Callable[[int], None] | None = None,
) -> DriveStats:
    """Ticks `nodes` until `until()` holds; raises TimeoutError after `max_passes` (a stuck protocol, not slowness)."""
    stats = DriveStats()
    started = time.perf_counter()
    while not until():
        if stats.passes >= max_passes:
            raise TimeoutError(f"the network did not reach its goal in {max_passes} passes")
        for label, node in nodes:
            t0 = time.perf_counter()
            node.safe_tick()
            stats.busy[label] = stats.busy.get(label, 0.0) + time.perf_counter() - t0
        network.mine(blocks_per_pass)
        stats.passes += 1
        if on_pass:
            on_pass(stats.passes)
    stats.seconds = time.perf_counter() - started
    return stats


def job_settled(client: ChainClient, validators: Sequence[Node], job_id: int) -> bool:
    """The job is finished (completed or abandoned) and no validator has a submission or seat of it left to settle."""
    done = ledger.job_state(client, job_id).status.finished
    return done and all(not v.journal.entries("subject", exclude_states=("done",)) for v in validators)
