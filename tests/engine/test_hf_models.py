"""A job can train a standard Hugging Face architecture (GPT-2 or Llama style) by config: built from the job seed or
from the sponsor's safetensors weights, never downloaded, and trained, committed and replayed by the same engine as
the built-in GPT, so a validator's bitwise interval check passes honest work and fails a tampered checkpoint. A
config that does not fit the declared precision or memory, or weights that do not fit the config, are refused
naming the field or the tensor."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import save

from crucible.engine import hf
from crucible.engine.architecture import build_job_model, initial_weights, model_config_from_json
from crucible.engine.checkpoint import checkpoint_digest, checkpoint_to_bytes, digest, to_bytes
from crucible.engine.compare import Tolerance
from crucible.engine.data import make_dataset
from crucible.engine.hf import HFModelSpec
from crucible.engine.jobspec import JobSpec
from crucible.engine.model import PRESETS as GPT_PRESETS
from crucible.engine.replay import replay_interval
from crucible.engine.segment import SegmentSpec, load_checkpoint, model_spec, run_segment
from crucible.errors import ModelConfigError
from crucible.simulation.adversary import run_cheat

from .conftest import MINER

GPT2 = hf.PRESETS["hf-gpt2-tiny"]
LLAMA = hf.PRESETS["hf-llama-tiny"]
ARCHS = {"gpt2": GPT2, "llama": LLAMA}
CPU = torch.device("cpu")


def weights_digest(weights: dict[str, torch.Tensor]) -> bytes:
    return digest(to_bytes(weights, metadata={"format": "crucible-weights-v1"}))


def replay(spec: SegmentSpec, run, interval: int, dataset, *, end: bytes | None = None, base=None):  # type: ignore[no-untyped-def]
    """The validator's interval check, bitwise (same device class), of interval `interval` of `run`."""
    return replay_interval(
        spec,
        interval,
        run.checkpoint_paths[interval].read_bytes(),
        end if end is not None else run.checkpoint_paths[interval + 1].read_bytes(),
        run.traces[interval + 1],
        dataset,
        CPU,
        Tolerance(),
        bitwise=True,
        reference=base if spec.kind == "dpo" else None,
    )


# ------------------------------------------------------------------ building


@pytest.mark.parametrize("arch", ARCHS)
def test_the_same_seed_builds_the_same_weights_and_the_config_counts_them(arch: str, device: torch.device) -> None:
    spec = ARCHS[arch]
    first, again, other = initial_weights(spec, 7), initial_weights(spec, 7), initial_weights(spec, 8)
    assert weights_digest(first) == weights_digest(again) != weights_digest(other)
    assert sum(t.numel() for t in first.values()) == hf.parameter_count(spec)
    # Checkpoint names are "model." + transformers' own parameter names; a tied head is one parameter.
    assert set(first) == set(model_spec(spec))
    if arch == "gpt2":
        assert "model.transformer.wte.weight" in first and "model.lm_head.weight" not in first
    else:
        assert {"model.model.embed_tokens.weight", "model.lm_head.weight"} <= set(first)


@pytest.mark.parametrize("arch", ARCHS)
def test_an_empty_model_loaded_with_the_weights_computes_what_the_built_one_does(
    arch: str, device: torch.device
) -> None:
    spec = ARCHS[arch]
    built = build_job_model(spec, 3, CPU)
    loaded = hf.empty_model(spec, CPU)
    loaded.load_state_dict({n: p.detach() for n, p in built.named_parameters()})
    tokens = torch.arange(24).remainder(spec.vocab_size).view(2, 12)
    assert torch.equal(built(tokens), loaded(tokens))  # (B, T, vocab): buffers (rotary) and tying rebuilt
    assert built(tokens).shape == (2, 12, spec.vocab_size)
    if arch == "gpt2":
        assert loaded.net.lm_head.weight is loaded.net.transformer.wte.weight  # tied again after the load


def test_the_job_spec_pins_the_hf_model_and_leaves_gpt_specs_as_they_were() -> None:
    pinned = hf.fit_job(LLAMA, kind="sft", precision="fp32")
    job = JobSpec("sft", pinned, "bafkdata", "00" * 32, job_seed=1)
    again = JobSpec.from_json(json.loads(job.to_bytes()))
    assert again == job and again.digest() == job.digest() and isinstance(again.model, HFModelSpec)
    assert pinned.transformers_version == hf.installed_version() and pinned.memory_gib > 0
    assert replace(job.segment(1, 0, 0, MINER), kind="sft").model == pinned
    # The built-in GPT's entry has no "arch": the digests of existing specs did not change.
    gpt = JobSpec("sft", GPT_PRESETS["tiny"], "bafkdata", "00" * 32, job_seed=1)
    assert json.loads(gpt.to_bytes())["model"] == {"vocab_size": 32, "block_size": 32, "n_layer": 2, "n_head": 2,
                                                   "n_embd": 32}  # fmt: skip
    assert model_config_from_json(gpt.to_json()["model"]) == GPT_PRESETS["tiny"]


# ------------------------------------------------------------------ training and the validator's check


@pytest.mark.parametrize(("arch", "kind"), [("gpt2", "pretrain"), ("llama", "pretrain"), ("gpt2", "dpo"),
                                            ("llama", "grpo")])  # fmt: skip
def test_an_hf_segment_replays_bit_for_bit_and_a_tampered_checkpoint_fails(arch: str, kind: str, device: torch.device, tmp_path: Path) -> None:  # fmt: skip
    spec = SegmentSpec(3, 0, 1, MINER, kind, ARCHS[arch], job_seed=11, intervals=2, steps_per_interval=2)
    base = initial_weights(spec.model, 5)
    dataset = make_dataset(kind, 64, spec.model.block_size, seed=2)
    run = run_segment(spec, base, dataset, tmp_path, CPU, reference=base if kind == "dpo" else None)
    for interval in range(spec.intervals):
        honest = replay(spec, run, interval, dataset, base=base)
        assert honest.comparison.passed and honest.comparison.bitwise, honest.comparison.reason
        assert honest.replayed_digest == run.checkpoint_digests[interval + 1]
    assert run.checkpoint_digests[-1] == checkpoint_digest(run.checkpoint_paths[-1].read_bytes())

    # The end checkpoint with one weight nudged: still a well-formed checkpoint, no longer the replayed state.
    end = load_checkpoint(run.checkpoint_paths[2].read_bytes(), spec.model)
    name = sorted(n for n in end if n.startswith("model."))[0]
    end[name] = end[name].clone()
    end[name].view(-1)[0] += 1e-3
    tampered = replay(spec, run, 1, dataset, end=checkpoint_to_bytes(end), base=base)
    assert not tampered.comparison.passed and tampered.comparison.reason


def test_a_lazy_miner_on_an_hf_model_is_caught(device: torch.device, tmp_path: Path) -> None:
    spec = SegmentSpec(3, 0, 2, MINER, "sft", GPT2, job_seed=12, intervals=1, steps_per_interval=2)
    base = initial_weights(GPT2, 5)
    dataset = make_dataset("sft", 64, GPT2.block_size, seed=2)
    lazy = run_cheat("lazy (skipped step)", spec, base, dataset, tmp_path, CPU)
    result = replay(spec, lazy, 0, dataset)
    assert not result.comparison.passed and result.comparison.reason


# ------------------------------------------------------------------ the sponsor's own weights


def transformers_model(spec: HFModelSpec, seed: int):  # type: ignore[no-untyped-def]
    """What a sponsor has: a transformers model built by transformers itself (not through Crucible)."""
    import transformers

    torch.manual_seed(seed)
    return transformers.AutoModelForCausalLM.from_config(hf.transformers_config(spec), attn_implementation="eager")  # type: ignore[no-untyped-call]


def saved_weights(net) -> bytes:  # type: ignore[no-untyped-def]
    """The model's weights as transformers saves them: a tied head is left out."""
    state = {n: p.detach().contiguous() for n, p in net.named_parameters()}
    return save(state, metadata={"format": "pt"})


@pytest.mark.parametrize("arch", ARCHS)
def test_sponsor_weights_load_into_the_model_that_computes_what_transformers_does(
    arch: str, device: torch.device
) -> None:
    spec = ARCHS[arch]
    net = transformers_model(spec, 21)
    weights = hf.load_weights(saved_weights(net), spec, source="model.safetensors")
    model = hf.empty_model(spec, CPU)
    model.load_state_dict({k.removeprefix("model."): v for k, v in weights.items()})
    tokens = torch.arange(16).remainder(spec.vocab_size).view(2, 8)
    assert torch.equal(model(tokens), net(input_ids=tokens).logits)
    # A file saved from the bare model (names without "transformer."/"model.") loads the same.
    prefix = f"{spec.base_prefix}."
    bare = {n.removeprefix(prefix): p.detach().contiguous() for n, p in net.named_parameters()}
    assert hf.load_weights(save(bare), spec, source="bare.safetensors").keys() == weights.keys()


def test_weights_that_do_not_fit_the_config_are_refused_naming_the_tensor(device: torch.device) -> None:
    net = transformers_model(GPT2, 1)
    state = {n: p.detach().contiguous() for n, p in net.named_parameters()}
    wider = transformers_model(replace(GPT2, n_embd=64, intermediate_size=256), 1)
    cases = {
        "wrong shape": ({**state, "transformer.wpe.weight": torch.zeros(16, 32)}, "transformer.wpe.weight"),
        "missing": ({k: v for k, v in state.items() if k != "transformer.ln_f.bias"}, "transformer.ln_f.bias"),
        "stranger": ({**state, "transformer.h.9.mlp.c_fc.weight": torch.zeros(2)}, "transformer.h.9.mlp.c_fc.weight"),
        "another config": ({n: p.detach().contiguous() for n, p in wider.named_parameters()}, "transformer.h.0"),
        "not finite": ({**state, "transformer.ln_f.bias": torch.full((32,), float("nan"))}, "transformer.ln_f.bias"),
        "untied head": ({**state, "lm_head.weight": torch.zeros(32, 32)}, "lm_head.weight"),
    }
    for case, (tensors, name) in cases.items():
        with pytest.raises(ModelConfigError) as refused:
            hf.load_weights(save(tensors), GPT2, source="w.safetensors")
        assert name in str(refused.value) and refused.value.field.startswith(name), case
    pickled = Path(__file__)  # any non-safetensors bytes, e.g. a torch.save pickle, is refused before parsing
    with pytest.raises(ModelConfigError) as refused:
        hf.load_weights(b"\x80\x04\x95" + pickled.read_bytes()[:64], GPT2, source="model.bin")
    assert "not a safetensors file" in str(refused.value) and "never loaded" in str(refused.value)


# ------------------------------------------------------------------ configs that do not fit


def test_configs_that_do_not_fit_are_refused_naming_the_field() -> None:
    base = {"arch": "gpt2", "vocab_size": 32, "block_size": 32, "n_layer": 2, "n_head": 2, "n_embd": 32}
    assert hf.parse_model_config(base) == GPT2
    cases = [
        ({**base, "arch": "mamba"}, "arch"),
        ({**base, "dtype": "float16"}, "dtype"),
        ({**base, "dtype": "int8"}, "dtype"),
        ({**base, "n_head": 3}, "n_head"),
        ({**base, "n_layer": 0}, "n_layer"),
        ({**base, "vocab_size": "32"}, "vocab_size"),
        ({**base, "n_embd": 1 << 20}, "n_embd"),
        ({**base, "memory_gib": 1e-6}, "memory_gib"),
        ({**base, "hidden_size": 64}, "hidden_size"),
        ({**base, "init": "weights"}, "init"),
        ({k: v for k, v in base.items() if k != "n_layer"}, "n_layer"),
        ({**base, "arch": "llama", "n_kv_head": 3}, "n_kv_head"),
    ]
    for config, field in cases:
        with pytest.raises(ModelConfigError) as refused:
            hf.parse_model_config(config)
        assert refused.value.field == field and repr(field) in str(refused.value), (config, str(refused.value))


def test_a_config_that_does_not_fit_the_declared_precision_or_memory_is_refused() -> None:
    with pytest.raises(ModelConfigError) as refused:
        hf.fit_job(replace(GPT2, dtype="bfloat16"), kind="pretrain", precision="fp32")
    assert refused.value.field == "dtype" and "declared precision fp32" in str(refused.value)
    need = hf.train_bytes(GPT2, "dpo")
    assert need == hf.parameter_count(GPT2) * 4 * 5  # weights, gradients, two AdamW moments and the DPO reference
    with pytest.raises(ModelConfigError) as refused:
        hf.fit_job(replace(GPT2, memory_gib=need / 2**30 * 0.9), kind="dpo", precision="fp32")
    assert refused.value.field == "memory_gib" and "declared" in str(refused.value)
    huge = replace(LLAMA, n_layer=1000, n_embd=16384, n_head=128, n_kv_head=128, intermediate_size=65536)
    with pytest.raises(ModelConfigError) as refused:
        hf.fit_job(huge, kind="pretrain", precision="fp32")  # ~3e12 parameters: no machine here holds that
    assert refused.value.field == "memory_gib" and "this machine's" in str(refused.value)
    fitted = hf.fit_job(GPT2, kind="dpo", precision="fp32")
    assert fitted.memory_gib * 2**30 >= need and fitted.transformers_version == hf.installed_version()


def test_a_model_pinned_to_another_transformers_release_is_not_built() -> None:
    with pytest.raises(ModelConfigError) as refused:
        build_job_model(replace(GPT2, transformers_version="0.0.1"), 0, CPU)
    assert refused.value.field == "transformers_version" and "transformers==0.0.1" in str(refused.value)


def test_a_transformers_config_json_is_read_and_settings_crucible_does_not_build_are_refused() -> None:
    import transformers

    gpt2 = transformers.GPT2Config(vocab_size=32, n_positions=32, n_embd=32, n_layer=2, n_head=2)
    config = json.loads(json.dumps(gpt2.to_dict()))  # what config.json holds, every setting written out
    assert config["resid_pdrop"] == 0.1  # dropout is overridden (a replay draws no masks), not refused
    assert hf.parse_model_config(config) == GPT2
    llama = json.loads(LLAMA_CONFIG)
    assert hf.parse_model_config(llama) == LLAMA
    for key, value in [("activation_function", "relu"), ("scale_attn_by_inverse_layer_idx", True),
                       ("initializer_range", 0.01), ("model_type", "bert")]:  # fmt: skip
        with pytest.raises(ModelConfigError) as refused:
            hf.parse_model_config({**config, key: value})
        assert refused.value.field == key, key
    with pytest.raises(ModelConfigError) as refused:
        hf.parse_model_config({**llama, "rope_scaling": {"rope_type": "linear", "factor": 2.0}})
    assert refused.value.field == "rope_scaling"


LLAMA_CONFIG = """{"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 32, "hidden_size": 32,
 "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
 "max_position_embeddings": 32, "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "hidden_act": "silu",
 "tie_word_embeddings": false, "torch_dtype": "float32", "bos_token_id": 1, "eos_token_id": 2}"""
