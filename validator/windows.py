"""Judging one sampled interval through its audit window: what `audit.py` calls for each revealed interval.

The window's place comes from the on-chain audit seed (crucible.engine.window.window_bounds). Its end states come
from the miner: the interval's boundary checkpoints where the window reaches them (digests revealed on-chain), else
the states the miner served after the boundary CIDs of revealCheckpoints (two per sampled interval, in order),
checked against the per-step state digests its trace commits. A state not served in time, or not the committed one,
is a failing verdict that says which. With no window states at all (a ledger that takes only the boundary CIDs) the
whole interval is replayed, as before windows existed.
"""

from __future__ import annotations

from typing import Any

import torch

from crucible.artifacts.store import ArtifactStore
from crucible.engine.checkpoint import checkpoint_digest
from crucible.engine.compare import Tolerance
from crucible.engine.determinism import ReplayPlan
from crucible.engine.replay import replay_interval
from crucible.engine.segment import SegmentSpec
from crucible.engine.window import replay_window, window_bounds
from crucible.errors import ArtifactError, IpfsUnavailable


def judge_interval(
    store: ArtifactStore,
    spec: SegmentSpec,
    interval: int,
    audit_seed: bytes,
    traces: list[list[dict[str, Any]]],
    start_bytes: bytes,
    end_bytes: bytes,
    window_cids: list[str] | None,
    dataset: dict[str, torch.Tensor],
    device: torch.device,
    tolerance: Tolerance,
    plan: ReplayPlan,
    max_bytes: int,
    *,
    reference: dict[str, torch.Tensor] | None = None,
) -> dict[str, Any]:
    """The interval's verdict as evidence: {"passed", "reason", "window", "mode", numbers...}. Raises only
    IpfsUnavailable (the validator's own Kubo) and MalformedArtifact-style ArtifactErrors of boundary bytes."""
    c = spec.steps_per_interval
    first, last = interval * c, (interval + 1) * c
    a, b = window_bounds(audit_seed, interval, c)
    mode = "bitwise" if plan.bitwise else "tolerance"
    settings = {"attention": plan.replay_class.attention, "optimizer": plan.replay_class.optimizer}
    if (a, b) != (first, last) and window_cids is None:
        result = replay_interval(spec, interval, start_bytes, end_bytes, traces[interval + 1], dataset, device,
                                 tolerance, bitwise=plan.bitwise, reference=reference, **settings)  # fmt: skip
        return {"window": [first, last], "mode": mode, "note": "no window states served: the whole interval",
                **result.comparison.to_json()}  # fmt: skip
    served: dict[int, bytes | None] = {first: start_bytes, last: end_bytes}
    for n, cid in zip((a, b), window_cids or [], strict=False):
        if n in served:
            continue
        try:
            served[n] = store.fetch(cid, max_bytes=max_bytes)
        except IpfsUnavailable:
            raise
        except ArtifactError as exc:
            served[n] = None
            return {"window": [a, b], "mode": mode, "passed": False,
                    "reason": f"the miner did not serve state {n} in time ({exc})"}  # fmt: skip
    # Only this interval's records and its two revealed boundaries bind the window's states.
    boundary_digests = {first: checkpoint_digest(start_bytes), last: checkpoint_digest(end_bytes)}
    verdict = replay_window(spec, a, b, served.get(a), served.get(b), [traces[interval + 1]], boundary_digests,
                            dataset, device, tolerance, bitwise=plan.bitwise, reference=reference,
                            **settings)  # fmt: skip
    return {"mode": mode, **verdict.to_json()}
