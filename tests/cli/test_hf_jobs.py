"""A sponsor posts a job on a standard Hugging Face architecture: a preset (`--model hf-gpt2-tiny`), a config file
(`--model-config`, Crucible's form or a transformers config.json) and optionally its own weights
(`--base-weights FILE.safetensors`, pinned on Kubo with their digest in the spec). Miners and validators load the
same model through the on-chain digests (the daemons on an HF job: tests/protocol/test_hf_job.py). A config
or weights that do not fit is one line naming the field or tensor, with nothing pinned and nothing sent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import save

from crucible.artifacts.store import ArtifactStore, sha256
from crucible.cli.job import HF_MODEL_PRESETS
from crucible.cli.main import cli
from crucible.engine import hf
from crucible.engine.architecture import initial_weights
from crucible.engine.hf import HFModelSpec
from crucible.localnet.kubo import KuboNode
from crucible.localnet.network import LocalNetwork
from crucible.protocol.jobs import load_job, round_base

TINY_GPT2: dict[str, Any] = {"vocab_size": 32, "n_positions": 32, "n_embd": 32, "n_layer": 2, "n_head": 2}


@pytest.fixture
def env(network: LocalNetwork, kubo: KuboNode) -> dict[str, str]:
    return {"CRUCIBLE_RPC_URL": network.rpc_url, "CRUCIBLE_DEPLOYMENT": str(network.deployment_file),
            "CRUCIBLE_PRIVATE_KEY": network.accounts[0].key.hex(), "CRUCIBLE_IPFS_API": kubo.api_multiaddr}  # fmt: skip


def _pins(store: ArtifactStore) -> set[str]:
    return set(store.client().pin.ls(type="recursive")["Keys"])


def _sponsor_model(tmp_path: Path, seed: int = 4) -> tuple[Path, Path, torch.nn.Module]:
    """What a sponsor brings: the config.json and model.safetensors that transformers' save_pretrained writes (the
    README's "Bring your own model" commands)."""
    import transformers

    config = transformers.GPT2Config(**TINY_GPT2)
    torch.manual_seed(seed)
    net = transformers.AutoModelForCausalLM.from_config(config, attn_implementation="eager")  # type: ignore[no-untyped-call]
    net.eval()  # dropout off
    net.save_pretrained(tmp_path / "my-model")  # safetensors, the tied head left out
    return tmp_path / "my-model" / "config.json", tmp_path / "my-model" / "model.safetensors", net


def test_the_cli_offers_exactly_the_engines_hf_presets() -> None:
    assert list(hf.PRESETS) == HF_MODEL_PRESETS


def test_an_hf_preset_job_is_pinned_and_round_0_is_the_seeded_model(
    env: dict[str, str], network: LocalNetwork, kubo: KuboNode, tmp_path: Path
) -> None:
    # The sponsor calibrates the architecture first; the profile names it "hf-llama" and the job accepts it.
    profile = tmp_path / "hf-llama.json"
    calibrated = CliRunner().invoke(cli, ["engine", "calibrate", "--kind", "sft", "--model", "hf-llama-tiny",
                                          "--replays", "2", "--out", str(profile)], env=env)  # fmt: skip
    assert calibrated.exit_code == 0, calibrated.output
    assert json.loads(profile.read_text())["model"] == "hf-llama"
    created = CliRunner().invoke(cli, ["--json", "job", "create", "--kind", "sft", "--model", "hf-llama-tiny",
                                       "--tolerance", str(profile), "--compute-cost", "5"], env=env)  # fmt: skip
    assert created.exit_code == 0, created.output
    posted = json.loads(created.stdout)
    assert posted["tolerance"] == str(profile)
    store = ArtifactStore(kubo.api_multiaddr)
    job = load_job(network.client, store, posted["job_id"])  # what every miner and validator loads
    model = job.spec.model
    assert isinstance(model, HFModelSpec) and model.arch == "llama" and model.init == "seed"
    assert model.transformers_version == hf.installed_version() and model.memory_gib > 0
    assert job.tolerance.model == posted["model"] == "hf-llama"
    base = round_base(network.client, store, job, 0)
    seeded = initial_weights(model, job.spec.job_seed)
    assert base.keys() == seeded.keys() and all(torch.equal(base[k], seeded[k]) for k in base)


def test_sponsor_weights_are_pinned_and_round_0_starts_from_them(
    env: dict[str, str], network: LocalNetwork, kubo: KuboNode, tmp_path: Path
) -> None:
    config_path, weights_path, net = _sponsor_model(tmp_path)
    created = CliRunner().invoke(cli, ["--json", "job", "create", "--kind", "pretrain", "--model-config",
                                       str(config_path), "--base-weights", str(weights_path), "--compute-cost", "5"],
                                 env=env)  # fmt: skip
    assert created.exit_code == 0, created.output
    posted = json.loads(created.stdout)
    store = ArtifactStore(kubo.api_multiaddr)
    job = load_job(network.client, store, posted["job_id"])
    model = job.spec.model
    assert isinstance(model, HFModelSpec) and model.arch == "gpt2" and model.init == "weights"
    assert model.weights_cid == posted["weights_cid"] and posted["weights_cid"] in _pins(store)
    assert model.weights_sha256 == sha256(weights_path.read_bytes()).hex()
    # Anyone can check round 0 against the sponsor's file: fetched from Kubo through its sha256, it is the base.
    pinned = hf.fetch_weights(store, model)
    base = round_base(network.client, store, job, 0)
    assert pinned.keys() == base.keys() and all(torch.equal(pinned[k], base[k]) for k in base)
    built = hf.empty_model(model, torch.device("cpu"))
    built.load_state_dict({k.removeprefix("model."): v for k, v in base.items()})
    tokens = torch.arange(20).remainder(32).view(2, 10)
    assert torch.equal(built(tokens), net(input_ids=tokens).logits)  # the sponsor's model, computed by Crucible


def test_own_data_is_laid_out_for_the_config_and_the_model_grows_to_its_tokenizer(
    env: dict[str, str], network: LocalNetwork, kubo: KuboNode, tmp_path: Path
) -> None:
    config_path, weights_path, _ = _sponsor_model(tmp_path)
    source = tmp_path / "qa.jsonl"
    source.write_text("".join(json.dumps({"prompt": f"double {i}:", "response": f" {2 * i}"}) + "\n" for i in range(8)))
    added = CliRunner().invoke(cli, ["--json", "data", "add", str(source), "--kind", "sft", "--model-config",
                                     str(config_path), "--holdout", "0.25"], env=env)  # fmt: skip
    assert added.exit_code == 0, added.output
    pinned = json.loads(added.stdout)
    assert pinned["block_size"] == TINY_GPT2["n_positions"] and f"--model-config {config_path}" in pinned["next"]
    created = CliRunner().invoke(cli, ["--json", "job", "create", "--kind", "sft", "--model-config", str(config_path),
                                       "--dataset", pinned["dataset_cid"], "--compute-cost", "5"], env=env)  # fmt: skip
    assert created.exit_code == 0, created.output
    model = load_job(network.client, ArtifactStore(kubo.api_multiaddr), json.loads(created.stdout)["job_id"]).spec.model
    assert isinstance(model, HFModelSpec) and model.vocab_size >= 258 and model.block_size == 32  # bytes-v1 covered
    # The sponsor's weights fix the vocabulary (32 ids): they cannot train on 258 byte-level ids.
    refused = CliRunner().invoke(cli, ["job", "create", "--kind", "sft", "--model-config", str(config_path),
                                       "--base-weights", str(weights_path), "--dataset", pinned["dataset_cid"],
                                       "--compute-cost", "5"], env=env)  # fmt: skip
    assert refused.exit_code == 1 and "'vocab_size'" in refused.output, refused.output


def test_a_model_or_weights_that_do_not_fit_are_one_line_with_nothing_pinned_or_sent(
    env: dict[str, str], network: LocalNetwork, kubo: KuboNode, tmp_path: Path
) -> None:
    config_path, weights_path, net = _sponsor_model(tmp_path)

    def write(name: str, data: object) -> str:
        path = tmp_path / name
        path.write_bytes(data if isinstance(data, bytes) else json.dumps(data).encode())
        return str(path)

    state = {n: p.detach().contiguous() for n, p in net.named_parameters()}
    narrow = {**state, "transformer.h.1.mlp.c_fc.weight": torch.zeros(32, 64)}
    cases = [
        (
            [
                "--model-config",
                write(
                    "fp16.json",
                    {"arch": "gpt2", "vocab_size": 32, "n_layer": 2, "n_head": 2, "n_embd": 32, "dtype": "float16"},
                ),
            ],
            1,
            "'dtype'",
        ),
        (
            [
                "--model-config",
                write(
                    "bf16.json",
                    {"arch": "llama", "vocab_size": 32, "n_layer": 2, "n_head": 2, "n_embd": 32, "dtype": "bfloat16"},
                ),
            ],
            1,
            "declared precision fp32",
        ),
        (["--model-config", write("rnn.json", {"arch": "rwkv", "vocab_size": 32})], 1, "'arch'"),
        (
            ["--model-config", write("gqa.json", {"model_type": "gpt2", **TINY_GPT2, "activation_function": "relu"})],
            1,
            "'activation_function'",
        ),
        (
            [
                "--model-config",
                write(
                    "big.json", {"arch": "llama", "vocab_size": 32000, "n_layer": 1024, "n_head": 64, "n_embd": 16384}
                ),
            ],
            1,
            "'memory_gib'",
        ),
        (["--model", "hf-gpt2-tiny", "--memory-gib", "0.00001"], 1, "'memory_gib'"),
        (
            ["--model-config", str(config_path), "--base-weights", write("narrow.safetensors", save(narrow))],
            1,
            "tensor 'transformer.h.1.mlp.c_fc.weight' has shape (32, 64)",
        ),
        (
            ["--model-config", str(config_path), "--base-weights", write("model.bin", b"\x80\x04\x95" + b"\0" * 64)],
            1,
            "not a safetensors file",
        ),
        (["--model-config", write("notjson.json", b"{arch: gpt2")], 1, "is not JSON"),
        (["--model", "tiny", "--base-weights", str(weights_path)], 2, "--base-weights"),
        (["--model", "hf-gpt2-tiny", "--model-config", str(config_path)], 2, "give the model once"),
    ]
    store = ArtifactStore(kubo.api_multiaddr)
    count = network.client.registry.functions.jobCount()
    jobs, pins = network.client.call(count), _pins(store)
    for args, code, message in cases:
        result = CliRunner().invoke(cli, ["job", "create", "--kind", "pretrain", "--compute-cost", "5", *args], env=env)
        assert result.exit_code == code and message in result.output, (args, result.output)
        assert "Traceback" not in result.output and len(result.output.strip().splitlines()) <= 4, result.output
    assert network.client.call(count) == jobs and _pins(store) == pins  # nothing sent, nothing pinned
