"""Short replay windows on long intervals, and bisection of a disputed window down to one step.

Honest drift between device classes grows with the number of steps replayed (CPU vs H100: relative update error
2e-5 after 4 steps, 0.11 after 64), so a long checkpoint interval cannot be compared as a whole within any tolerance
that still tells a 1% cheat from honest work. The trace binds the state every w = min(c, 8) steps instead (those
records' `state_digest` is the checkpoint digest of the state after the step), so an audit cuts one block of w
steps out of any interval:

  1. the block comes from the on-chain audit seed (`window_start`, a pure function the contracts can mirror:
     sha256(seed || uint256(interval) || "crucible-window"));
  2. the miner recomputes the states at both ends bit for bit on its own device from its last boundary checkpoint
     (`serve_states`) and pins them;
  3. the validator checks each served state against the committed state digest, replays the w steps and compares
     at the tight tolerance a short window allows (`replay_window`);
  4. a disputed window narrows by bisection (`bisect_window`): the miner serves the midpoint state, each half is
     replayed, the failing half is kept, down to a single step, which is the evidence. Midpoints need no earlier
     commitment: the window's ends are committed, so whatever midpoint the miner serves, a wrong window leaves at
     least one half wrong (the refutation game of Truebit and Verde).

State n is the training state after n steps (state 0 is the round base); the window [a, b] replays steps a .. b-1.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from crucible.engine import tasks
from crucible.engine.checkpoint import checkpoint_digest
from crucible.engine.compare import Comparison, Tolerance
from crucible.engine.replay import ReplayResult, replay_steps
from crucible.engine.segment import (
    HONEST,
    WINDOW_STEPS,
    SegmentRun,
    SegmentSpec,
    StepPolicy,
    Trainer,
    load_checkpoint,
    state_digest,
)
from crucible.errors import ArtifactError


def window_start(seed: bytes, interval: int, steps_per_interval: int, w: int = WINDOW_STEPS) -> int:
    """The first state of the audit's window inside interval `interval` (an absolute state index).

    The interval's steps form ceil(c / w) blocks of w (the last may be shorter); the seed picks one uniformly, so
    every step is audited with the same probability. Mirrors on-chain as
    `interval * c + w * (uint256(sha256(abi.encodePacked(seed, uint256(interval), "crucible-window"))) % blocks)`.
    """
    if len(seed) != 32:
        raise ValueError(f"the audit seed is 32 bytes, got {len(seed)}")
    if steps_per_interval < 1 or w < 1 or interval < 0:
        raise ValueError("steps_per_interval and w must be positive and interval non-negative")
    stride = min(w, steps_per_interval)
    blocks = -(-steps_per_interval // stride)
    material = seed + interval.to_bytes(32, "big") + b"crucible-window"
    block = int.from_bytes(hashlib.sha256(material).digest(), "big") % blocks
    return interval * steps_per_interval + stride * block


def window_bounds(seed: bytes, interval: int, steps_per_interval: int, w: int = WINDOW_STEPS) -> tuple[int, int]:
    """(first state, last state) of the audit's window in `interval`: a block between two committed states."""
    start = window_start(seed, interval, steps_per_interval, w)
    return start, min(start + min(w, steps_per_interval), (interval + 1) * steps_per_interval)


def records_between(traces: list[list[dict[str, Any]]], a: int, b: int) -> list[dict[str, Any]]:
    """The claimed trace records of steps a .. b-1 (empty ones missing: the caller compares lengths)."""
    by_step = {r.get("step"): r for records in traces for r in records if isinstance(r, dict)}
    return [by_step[s] for s in range(a, b) if s in by_step]


# ---------------------------------------------------------------- the miner's side


def serve_states(
    run: SegmentRun,
    states: list[int],
    dataset: dict[str, torch.Tensor],
    device: torch.device,
    *,
    reference: dict[str, torch.Tensor] | None = None,
    policy: StepPolicy = HONEST,
) -> dict[int, bytes]:
    """The checkpoint bytes of each named state, recomputed bit for bit from the nearest checkpoint file at or before
    it with the engine settings the run used (same device class), and checked against the run's own committed
    digests where the trace commits one: a miner never serves what it did not commit. Raises ArtifactError if a
    state cannot be reproduced."""
    spec, c = run.spec, run.spec.steps_per_interval
    total = spec.intervals * c
    for n in states:
        if not 0 <= n <= total:
            raise ArtifactError(f"state {n} is outside the segment (0..{total})")
    out: dict[int, bytes] = {}
    trainer: Trainer | None = None
    state = -1
    for n in sorted(set(states)):
        if n % c == 0 and run.kept(n // c):
            out[n] = Path(run.checkpoint_paths[n // c]).read_bytes()
            continue
        kept = max(b for b in range(n // c + 1) if run.kept(b))
        if trainer is None or not kept * c <= state <= n:  # walk on from where the last state was, if it can
            trainer = Trainer(spec, dataset, device, reference, attention=run.attention or None,
                              optimizer=run.optimizer or None)  # fmt: skip
            trainer.load(load_checkpoint(Path(run.checkpoint_paths[kept]).read_bytes(), spec.model, device))
            state = kept * c
        while state < n:
            trainer.step(state, policy, rollouts=_recorded_rollouts(run, state))
            state += 1
            if state % c == 0:
                policy.after_interval(trainer, state // c - 1)
        data = trainer.checkpoint_bytes()
        committed = committed_digest(n, run.traces, {0: run.checkpoint_digests[0]})
        if committed is not None and checkpoint_digest(data) != committed:  # a bisection midpoint has none
            raise ArtifactError(f"state {n} recomputed on this device does not match its committed digest "
                                "(another device class than the one that trained?)")  # fmt: skip
        out[n] = data
    return out


def _recorded_rollouts(run: SegmentRun, step: int) -> tasks.Rollouts | None:
    if run.spec.kind != "grpo":
        return None
    for record in records_between(run.traces, step, step + 1):
        return tasks.Rollouts.from_json(record["rollouts"])
    return None


# ---------------------------------------------------------------- the validator's side


@dataclass(frozen=True)
class WindowVerdict:
    start: int  # first state
    end: int  # last state
    comparison: Comparison
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"window": [self.start, self.end], **self.comparison.to_json()}


def committed_digest(n: int, traces: list[list[dict[str, Any]]], boundary_digests: dict[int, bytes]) -> bytes | None:
    """The digest the miner committed for state n: a boundary's (revealed on-chain) or the trace's record of step
    n-1; None if neither holds it."""
    if n in boundary_digests:
        return boundary_digests[n]
    if n == 0:
        return None
    try:
        return state_digest(traces, b"", n)
    except (IndexError, KeyError, ValueError, TypeError):
        return None


def check_served(data: bytes, n: int, traces: list[list[dict[str, Any]]], boundary_digests: dict[int, bytes]) -> str | None:
    """None if the served bytes are the committed state n, else the reason they are not."""
    committed = committed_digest(n, traces, boundary_digests)
    if committed is None:
        return f"the commitment holds no state digest for state {n}"
    if checkpoint_digest(data) != committed:
        return f"served checkpoint of state {n} does not match the committed per-step state digest"
    return None


def replay_window(
    spec: SegmentSpec,
    start: int,
    end: int,
    start_bytes: bytes | None,
    end_bytes: bytes | None,
    traces: list[list[dict[str, Any]]],
    boundary_digests: dict[int, bytes],
    dataset: dict[str, torch.Tensor],
    device: torch.device,
    tolerance: Tolerance,
    *,
    bitwise: bool,
    reference: dict[str, torch.Tensor] | None = None,
    attention: str | None = None,
    optimizer: str | None = None,
) -> WindowVerdict:
    """Replays the window [start, end] from the served start state and compares it with the served end state.

    A state the miner did not serve (None) or served wrong (not its committed digest) is a failing verdict that
    says so; nothing here raises on the miner's bad input except MalformedArtifact from parsing, which callers
    record the same way.
    """
    for n, data in ((start, start_bytes), (end, end_bytes)):
        if data is None:
            return WindowVerdict(start, end, Comparison(False, f"the miner did not serve state {n} in time"))
        if committed_digest(n, traces, boundary_digests) is None:
            return WindowVerdict(start, end, Comparison(False, f"the commitment holds no state digest for state {n}"))
    assert start_bytes is not None and end_bytes is not None
    problem = check_served(start_bytes, start, traces, boundary_digests)
    if problem:
        return WindowVerdict(start, end, Comparison(False, problem))
    claimed = records_between(traces, start, end)
    if len(claimed) != end - start:
        return WindowVerdict(start, end, Comparison(False, f"the trace lacks records of steps {start}..{end - 1}"))
    # The end state's digest is checked in the background of the replay (replay_steps), as it is moved to the device.
    result: ReplayResult = replay_steps(
        spec, start, end - start, start_bytes, end_bytes, claimed, dataset, device, tolerance, bitwise=bitwise,
        reference=reference, attention=attention, optimizer=optimizer,
        expected_end_digest=committed_digest(end, traces, boundary_digests),
    )  # fmt: skip
    return WindowVerdict(start, end, result.comparison)


@dataclass
class Bisection:
    """How a failing window narrowed: every replayed sub-window, and where it ended."""

    start: int
    end: int
    steps: list[WindowVerdict] = field(default_factory=list)
    reason: str = ""

    @property
    def single_step(self) -> bool:
        return self.end - self.start == 1

    def evidence(self) -> dict[str, Any]:
        return {"disputed_steps": [self.start, self.end - 1] if not self.single_step else [self.start],
                "window": [self.start, self.end], "reason": self.reason,
                "replays": [v.to_json() for v in self.steps]}  # fmt: skip


def bisect_window(
    spec: SegmentSpec,
    failing: WindowVerdict,
    serve: Callable[[int], bytes | None],
    traces: list[list[dict[str, Any]]],
    boundary_digests: dict[int, bytes],
    dataset: dict[str, torch.Tensor],
    device: torch.device,
    tolerance: Tolerance,
    *,
    bitwise: bool,
    start_bytes: bytes,
    end_bytes: bytes,
    reference: dict[str, torch.Tensor] | None = None,
    attention: str | None = None,
    optimizer: str | None = None,
) -> Bisection:
    """Narrows a failing window to one step (or to the smallest window whose halves each pass: a deviation spread
    too thinly to pin on one step, still evidence). `serve(n)` asks the miner for state n (None: not served in
    time); a served state the trace commits must match its digest, a midpoint it does not is taken as served."""
    a, b = failing.start, failing.end
    bytes_at = {a: start_bytes, b: end_bytes}
    out = Bisection(a, b, [failing], failing.comparison.reason)
    while b - a > 1:
        m = (a + b) // 2
        served = serve(m)
        if served is None:
            out.reason = f"the miner did not serve state {m} in time"
            out.steps.append(WindowVerdict(a, b, Comparison(False, out.reason)))
            break
        committed = committed_digest(m, traces, boundary_digests)
        if committed is not None and checkpoint_digest(served) != committed:
            out.reason = f"served checkpoint of state {m} does not match the committed per-step state digest"
            out.steps.append(WindowVerdict(a, b, Comparison(False, out.reason)))
            break
        bytes_at[m] = served
        failed: WindowVerdict | None = None
        for lo, hi in ((a, m), (m, b)):
            claimed = records_between(traces, lo, hi)
            result = replay_steps(spec, lo, hi - lo, bytes_at[lo], bytes_at[hi], claimed, dataset, device, tolerance,
                                  bitwise=bitwise, reference=reference, attention=attention, optimizer=optimizer)  # fmt: skip
            verdict = WindowVerdict(lo, hi, result.comparison)
            out.steps.append(verdict)
            if not verdict.comparison.passed:
                failed = verdict
                break
        if failed is None:
            out.reason = f"each half of [{a}, {b}] passes: the deviation is spread over the window"
            break
        a, b = failed.start, failed.end
        out.start, out.end, out.reason = a, b, failed.comparison.reason
    return out
