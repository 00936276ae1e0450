"""A miner's states leave the device while it trains: the checkpoint files, their digests and the state digests in
the trace are exactly what a validator recomputes from the bytes, run after run, with any attention kernel."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save as st_save

from crucible.engine.checkpoint import checkpoint_digest, checkpoint_to_bytes, from_bytes
from crucible.engine.segment import SegmentSpec, Trainer, checkpoint_spec, run_segment
from crucible.engine.window import serve_states
from crucible.errors import MalformedArtifact

from .conftest import MINER


def test_the_checkpoint_layout_is_what_safetensors_writes_and_parses(cfg, base, datasets, device) -> None:  # type: ignore[no-untyped-def]
    trainer = Trainer(SegmentSpec(1, 0, 0, MINER, "pretrain", cfg), datasets["pretrain"], device)
    trainer.load_model(base)
    trainer.step(0)
    state = {k: v.detach().clone() for k, v in trainer.state_tensors().items()}
    data = checkpoint_to_bytes(state)
    assert data == st_save(dict(sorted(state.items())), metadata={"format": "crucible-checkpoint-v1"})
    parsed = from_bytes(data, checkpoint_spec(cfg), torch.device("cpu"))
    assert all(torch.equal(parsed[k], state[k]) for k in state)


def test_header_tricks_are_refused_with_a_reason(cfg, base) -> None:  # type: ignore[no-untyped-def]
    good = checkpoint_to_bytes({f"model.{k.removeprefix('model.')}": v for k, v in base.items()})
    length = int.from_bytes(good[:8], "little")
    cases = {
        b"\xff" * 8 + good[8:]: "header length",
        good[:8] + b"[" + good[9 : 8 + length] + good[8 + length :]: "header is not JSON",
        good + b"\x00" * 4: "bytes after the last tensor",
    }
    for data, reason in cases.items():
        with pytest.raises(MalformedArtifact, match=reason):
            from_bytes(data, {k: (tuple(v.shape), torch.float32) for k, v in base.items()})


@pytest.mark.parametrize("attention", ["explicit", "math", "flash"])
def test_streamed_digests_match_the_files_and_repeat_bit_for_bit(attention, cfg, base, datasets, device, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = SegmentSpec(4, 0, 1, MINER, "pretrain", cfg, job_seed=5, steps_per_interval=12, intervals=2)
    first = run_segment(spec, base, datasets["pretrain"], tmp_path / "a", device, attention=attention)
    again = run_segment(spec, base, datasets["pretrain"], tmp_path / "b", device, attention=attention)
    assert first.merkle_root == again.merkle_root and first.attention == attention
    for path, committed in zip(first.checkpoint_paths, first.checkpoint_digests, strict=True):
        assert checkpoint_digest(path.read_bytes()) == committed
    # The trace commits the state every min(c, 8) steps and at each interval's end; the last equals the boundary.
    committed_steps = [r["step"] for records in first.traces for r in records if "state_digest" in r]
    assert committed_steps == [7, 11, 19, 23]
    assert first.traces[1][-1]["state_digest"] == first.checkpoint_digests[1].hex()
    served = serve_states(first, [8, 20], datasets["pretrain"], device)  # recomputed from the boundary files
    assert checkpoint_digest(served[8]) == first.state_digest(8)
    assert checkpoint_digest(served[20]) == first.state_digest(20)


def test_a_miner_keeping_few_files_still_serves_every_committed_state(cfg, base, datasets, device, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = SegmentSpec(4, 0, 1, MINER, "sft", cfg, job_seed=6, steps_per_interval=4, intervals=5)
    run = run_segment(spec, base, datasets["sft"], tmp_path, device, keep_every=4)
    assert [run.kept(i) for i in range(6)] == [True, False, False, False, True, True]
    served = serve_states(run, [4, 8, 12], datasets["sft"], device)  # boundaries 1-3, recomputed from boundary 0
    assert [checkpoint_digest(served[n]) for n in (4, 8, 12)] == run.checkpoint_digests[1:4]


def test_an_unknown_or_unavailable_attention_kernel_is_refused(cfg, datasets, device) -> None:  # type: ignore[no-untyped-def]
    spec = SegmentSpec(1, 0, 0, MINER, "pretrain", cfg)
    with pytest.raises(ValueError, match="unknown attention kernel 'fast'"):
        Trainer(spec, datasets["pretrain"], device, attention="fast")
    with pytest.raises(ValueError, match="does not run on cpu in fp32; use one of"):
        Trainer(spec, datasets["pretrain"], device, attention="efficient")
