"""Serving an audit's replay windows: the states the validators need besides the boundary checkpoints.

For each sampled interval the window's place follows from the on-chain audit seed; the miner recomputes the states
at both ends bit for bit on its own device from its last boundary checkpoint (crucible.engine.window.serve_states),
pins them and passes their CIDs in revealCheckpoints after the 2m boundary CIDs, two per sampled interval, in the
order of the sampled intervals.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from crucible.artifacts.store import ArtifactStore
from crucible.engine.bundle import pin_states
from crucible.engine.segment import HONEST, SegmentRun, StepPolicy
from crucible.engine.window import serve_states, window_bounds


@dataclass
class WindowSource:
    """What the miner needs to recompute window states: its data and device (and the DPO reference)."""

    dataset: dict[str, torch.Tensor]
    device: torch.device
    reference: dict[str, torch.Tensor] | None = None
    policy: StepPolicy = HONEST  # the adversary harness serves its own (cheated) states


def audit_states(
    run: SegmentRun, audit_seed: bytes, intervals: list[int], source: WindowSource
) -> tuple[list[bytes], list[bytes]]:
    """The checkpoint bytes an audit of `intervals` needs, in reveal order: both boundaries of each sampled interval,
    then the two ends of its window. Boundaries whose files the miner did not keep are recomputed too."""
    c = run.spec.steps_per_interval
    boundaries = [b * c for i in intervals for b in (i, i + 1)]
    windows = [n for i in intervals for n in window_bounds(audit_seed, i, c)]
    served = serve_states(run, boundaries + windows, source.dataset, source.device, reference=source.reference,
                          policy=source.policy)  # fmt: skip
    return [served[n] for n in boundaries], [served[n] for n in windows]


def audit_cids(
    store: ArtifactStore, run: SegmentRun, audit_seed: bytes, intervals: list[int], source: WindowSource
) -> list[str]:
    """Pins what the audit needs and returns the CIDs for revealCheckpoints: the 2m boundary CIDs, then two window
    CIDs per sampled interval."""
    boundary_states, window_states = audit_states(run, audit_seed, intervals, source)
    return pin_states(store, boundary_states) + pin_states(store, window_states)
