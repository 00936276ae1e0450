"""Long intervals are audited through short windows: the audit seed places a block of w steps, the miner serves its
committed end states, the validator replays only those steps, across device classes within a tight tolerance.
Every failure is a verdict with its reason; a disputed window narrows by bisection to the cheating step."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from crucible.artifacts.store import ArtifactStore
from crucible.engine.compare import Tolerance
from crucible.engine.determinism import configure, device_class, replay_plan
from crucible.engine.segment import SegmentRun, SegmentSpec, StepPolicy, run_segment
from crucible.engine.window import bisect_window, replay_window, serve_states, window_bounds, window_start
from miner.windows import WindowSource, audit_states
from validator.windows import judge_interval

from .conftest import MINER

SEED = bytes(range(32))
LOOSE_ENOUGH = Tolerance(rel_update_error=1e-3, rel_update_error_tensor=5e-3, norm_ratio=1e-3, loss_rel=1e-3)


class SkipsStep13(StepPolicy):
    def skip_update(self, step: int) -> bool:
        return step == 13


def known(run: SegmentRun) -> dict[int, bytes]:
    c = run.spec.steps_per_interval
    return {i * c: d for i, d in enumerate(run.checkpoint_digests)}


def test_the_window_follows_the_audit_seed_in_blocks_of_w() -> None:
    assert window_start(SEED, 0, 4) == 0 and window_bounds(SEED, 3, 4) == (12, 16)  # c <= w: the whole interval
    starts = {window_start(bytes([s]) * 32, 2, 64) for s in range(64)}
    assert starts <= set(range(128, 192, 8)) and len(starts) == 8  # every block of the interval gets drawn
    assert window_start(SEED, 5, 256) == window_start(SEED, 5, 256)
    assert window_start(SEED, 5, 256) == 5 * 256 + 208  # a fixed vector for the contracts' mirror
    assert window_bounds(bytes([7]) * 32, 0, 12) in ((0, 8), (8, 12))  # a short last block
    with pytest.raises(ValueError, match="32 bytes"):
        window_start(b"short", 0, 64)


@pytest.fixture(scope="module")
def honest(cfg, base, datasets, device, tmp_path_factory) -> SegmentRun:  # type: ignore[no-untyped-def]
    configure(device, threads=1)
    spec = SegmentSpec(6, 0, 2, MINER, "pretrain", cfg, job_seed=17, steps_per_interval=32, intervals=1)
    return run_segment(spec, base, datasets["pretrain"], tmp_path_factory.mktemp("honest"), device)


def test_an_honest_window_replays_bitwise_in_class_and_within_tolerance_across(honest, datasets, device) -> None:  # type: ignore[no-untyped-def]
    served = serve_states(honest, [8, 16], datasets["pretrain"], device)
    for threads, bitwise in ((1, True), (2, False)):
        configure(device, threads=threads)
        verdict = replay_window(honest.spec, 8, 16, served[8], served[16], honest.traces, known(honest),
                                datasets["pretrain"], device, LOOSE_ENOUGH, bitwise=bitwise)  # fmt: skip
        assert verdict.comparison.passed, verdict.comparison.reason
        assert verdict.comparison.bitwise == bitwise
    configure(device, threads=1)


def test_a_wrong_unserved_or_uncommitted_state_is_a_verdict_with_its_reason(honest, datasets, device) -> None:  # type: ignore[no-untyped-def]
    served = serve_states(honest, [8, 16], datasets["pretrain"], device)
    args = (honest.traces, known(honest), datasets["pretrain"], device, LOOSE_ENOUGH)
    other = serve_states(honest, [24], datasets["pretrain"], device)[24]
    cases = [
        ((8, 16, other, served[16]), "served checkpoint of state 8 does not match the committed per-step state digest"),
        ((8, 16, served[8], other), "served checkpoint of state 16 does not match the committed per-step state digest"),
        ((8, 16, None, served[16]), "the miner did not serve state 8 in time"),
        ((8, 13, served[8], served[16]), "the commitment holds no state digest for state 13"),
    ]
    for (a, b, start, end), reason in cases:
        verdict = replay_window(honest.spec, a, b, start, end, *args, bitwise=False)
        assert not verdict.comparison.passed and verdict.comparison.reason == reason


@pytest.mark.parametrize("bitwise", [True, False])
def test_a_disputed_window_narrows_to_the_cheating_step(bitwise, cfg, base, datasets, device, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    configure(device, threads=1)
    spec = SegmentSpec(6, 0, 3, MINER, "pretrain", cfg, job_seed=18, steps_per_interval=32, intervals=1)
    lazy = SkipsStep13()
    run = run_segment(spec, base, datasets["pretrain"], tmp_path, device, policy=lazy)
    served = serve_states(run, [8, 16], datasets["pretrain"], device, policy=lazy)
    configure(device, threads=1 if bitwise else 2)
    failing = replay_window(spec, 8, 16, served[8], served[16], run.traces, known(run), datasets["pretrain"], device,
                            LOOSE_ENOUGH, bitwise=bitwise)  # fmt: skip
    assert not failing.comparison.passed

    def serve(n: int) -> bytes:  # the miner answers each midpoint with the state it really had
        return serve_states(run, [n], datasets["pretrain"], device, policy=lazy)[n]

    found = bisect_window(spec, failing, serve, run.traces, known(run), datasets["pretrain"], device, LOOSE_ENOUGH,
                          bitwise=bitwise, start_bytes=served[8], end_bytes=served[16])  # fmt: skip
    assert found.single_step and found.start == 13, found.evidence()
    assert found.evidence()["disputed_steps"] == [13]
    assert [(v.start, v.end) for v in found.steps][1:] == [(8, 12), (12, 16), (12, 14), (12, 13), (13, 14)]
    configure(device, threads=1)


def test_a_validator_of_another_class_judges_the_served_window_on_ipfs(store: ArtifactStore, honest, cfg, base, datasets, device, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = honest.spec
    source = WindowSource(datasets["pretrain"], device)
    boundaries, window = audit_states(honest, SEED, [0], source)
    cids = [store.add(data) for data in boundaries + window]
    a, b = window_bounds(SEED, 0, spec.steps_per_interval)
    assert (a, b) != (0, 32)  # a window inside the interval, not the interval itself
    configure(device, threads=2)
    own = device_class(device, "fp32")
    plan = replay_plan({"device_class": own.describe().replace("threads=2", "threads=3").replace(
        "x86_64", "aarch64")}, device, "fp32")  # a miner of another kind of machine  # fmt: skip
    assert not plan.bitwise
    outcome = judge_interval(store, spec, 0, SEED, honest.traces, boundaries[0], boundaries[1], cids[2:], datasets["pretrain"],
                             device, LOOSE_ENOUGH, plan, 1 << 24)  # fmt: skip
    assert outcome["passed"] and outcome["window"] == [a, b] and outcome["mode"] == "tolerance", outcome
    missing = judge_interval(store, spec, 0, SEED, honest.traces, boundaries[0], boundaries[1],
                             [cids[2], "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"],
                             datasets["pretrain"], device, LOOSE_ENOUGH, plan, 1 << 24)  # fmt: skip
    assert not missing["passed"] and f"did not serve state {b} in time" in missing["reason"]
    configure(device, threads=1)
    assert torch.get_num_threads() == 1
