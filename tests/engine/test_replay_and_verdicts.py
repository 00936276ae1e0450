"""A validator replays sampled intervals: honest work passes (bit for bit on the same device, within the
calibrated tolerance across thread counts), every cheat of the attack catalog fails with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from crucible.chain.merkle import MerkleTree, checkpoint_leaf
from crucible.engine.calibrate import calibrate
from crucible.engine.compare import Tolerance
from crucible.engine.determinism import configure
from crucible.engine.model import GPTConfig
from crucible.engine.replay import replay_interval
from crucible.engine.segment import SegmentSpec, run_segment
from crucible.simulation.adversary import CHEATS, run_cheat

from .conftest import KINDS, MINER


def spec_for(kind: str, cfg: GPTConfig, intervals: int = 2) -> SegmentSpec:
    return SegmentSpec(job_id=3, round=1, slot=2, miner=MINER, kind=kind, model=cfg, job_seed=42, intervals=intervals)


def replay(spec, run, interval, dataset, device, tolerance, *, bitwise, base):  # type: ignore[no-untyped-def]
    return replay_interval(
        spec, interval, run.checkpoint_paths[interval].read_bytes(), run.checkpoint_paths[interval + 1].read_bytes(),
        run.traces[interval + 1], dataset, device, tolerance, bitwise=bitwise,
        reference=base if spec.kind == "dpo" else None,
    )  # fmt: skip


@pytest.fixture(scope="module")
def tolerance() -> Tolerance:
    return calibrate(kind="pretrain", replays=30, miner_threads=1, validator_threads=2)


@pytest.mark.parametrize("kind", KINDS)
def test_honest_work_replays_bit_for_bit_and_commits_the_contract_leaves(kind, cfg, base, datasets, device, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = spec_for(kind, cfg)
    run = run_segment(spec, base, datasets[kind], tmp_path, device, reference=base if kind == "dpo" else None)
    for interval in range(spec.intervals):
        result = replay(spec, run, interval, datasets[kind], device, Tolerance(), bitwise=True, base=base)
        assert result.comparison.passed and result.comparison.bitwise, result.comparison.reason
        assert result.replayed_digest == run.checkpoint_digests[interval + 1]
    leaves = [checkpoint_leaf(3, 1, 2, MINER, i, d, t) for i, (d, t) in
              enumerate(zip(run.checkpoint_digests, run.trace_digests, strict=True))]  # fmt: skip
    assert MerkleTree.build(leaves).root == run.merkle_root
    losses = [r["loss"] for records in run.traces for r in records]
    assert all(torch.isfinite(torch.tensor(losses)))


def test_honest_replays_on_another_thread_count_stay_within_the_calibrated_tolerance(tolerance, cfg, base, datasets, device, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert tolerance.measured["replays"] == 30
    assert tolerance.rel_update_error < 1e-3  # far below any cheat (the smallest seen is ~1e-2)
    for seed in range(5):
        spec = SegmentSpec(3, 1, seed, MINER, "pretrain", cfg, job_seed=100 + seed, intervals=1)
        configure(device, threads=1)
        run = run_segment(spec, base, datasets["pretrain"], tmp_path / str(seed), device)
        configure(device, threads=2)
        result = replay(spec, run, 0, datasets["pretrain"], device, tolerance, bitwise=False, base=base)
        assert result.comparison.passed, result.comparison.reason


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("cheat", list(CHEATS))
def test_every_cheat_is_caught_on_its_interval(cheat, kind, tolerance, cfg, base, datasets, device, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    configure(device, threads=1)
    spec = spec_for(kind, cfg, intervals=1)
    run = run_cheat(cheat, spec, base, datasets[kind], tmp_path, device, reference=base if kind == "dpo" else None)
    for bitwise in (True, False):
        result = replay(spec, run, 0, datasets[kind], device, tolerance, bitwise=bitwise, base=base)
        assert not result.comparison.passed, f"{cheat} on {kind} passed ({'bitwise' if bitwise else 'tolerance'})"
        assert result.comparison.reason
