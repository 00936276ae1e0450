"""Device classes name what decides the bits, not the product: a validator of the miner's class replays bit for bit
in the miner's settings, one of another class says so in its plan, and a malformed declaration never crashes it."""

from __future__ import annotations

from dataclasses import replace

import torch

from crucible.engine.determinism import DeviceClass, declared_classes, device_class, fingerprint, replay_plan, replaying_in

H100 = DeviceClass("cuda", "sm_90/132sm", "2.11.0+cu130", "13.0", True, "bf16", "flash", "fused", 0)


def test_a_class_is_its_description_and_a_stable_32_bit_id() -> None:
    text = H100.describe()
    assert text == ("cuda sm_90/132sm torch=2.11.0+cu130 cuda=13.0 deterministic=1 precision=bf16 attention=flash "
                    "optimizer=fused threads=0")  # fmt: skip
    assert DeviceClass.parse(text) == H100
    assert H100.class_id == 0x7CA0C594  # as an H100 reported it (docs/bench/gpu.md): ids must not drift
    assert replace(H100, attention="efficient").class_id != H100.class_id


def test_the_product_name_is_not_part_of_the_class(device) -> None:  # type: ignore[no-untyped-def]
    # An H200 has the H100's architecture and multiprocessor count: the same description, so the same class.
    h200 = DeviceClass.parse(H100.describe())
    assert h200 == H100 and h200.class_id == H100.class_id
    fp = fingerprint(device, "fp32")
    assert fp.device_class == device_class(device, "fp32").describe() and fp.class_id == device_class(device, "fp32").class_id
    assert "H100" not in H100.describe()


def test_a_validator_replays_in_the_miners_class_when_it_can(device) -> None:  # type: ignore[no-untyped-def]
    torch.set_num_threads(2)
    miner = replace(device_class(device, "fp32"), threads=1)
    plan = replay_plan({"device_class": miner.describe()}, device, "fp32")
    assert plan.bitwise and plan.replay_class == miner
    with replaying_in(plan.replay_class):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2


def test_another_class_or_a_bad_declaration_means_tolerance_with_a_reason(device) -> None:  # type: ignore[no-untyped-def]
    cases = {
        replace(H100, precision="fp32").describe(): "differs from the miner's",
        "a gpu, trust me": "not a class description",
        replace(device_class(device, "bf16")).describe(): "declared precision bf16",
        replace(device_class(device, "fp32"), threads=10**6).describe(): "CPU threads",
        replace(device_class(device, "fp32"), attention="flash-v9").describe(): "does not run here",
    }
    for declared, reason in cases.items():
        plan = replay_plan({"device_class": declared}, device, "fp32")
        assert not plan.bitwise and reason in plan.reason, (declared, plan.reason)
        assert plan.replay_class == device_class(device, "fp32")


def test_a_validator_declares_every_class_it_can_replay_in(device) -> None:  # type: ignore[no-untyped-def]
    classes = declared_classes(device, max_threads=2)
    ids = {c.class_id for c in classes}
    assert len(ids) == len(classes)  # distinct ids
    assert device_class(device, "fp32").class_id in ids
    assert {c.attention for c in classes} == {"explicit", "math", "flash"}  # what a CPU runs; no "efficient"
