"""A sponsor brings its own data: `crucible data add` checks every row against its kind's schema, tokenizes it with a
tokenizer pinned by digest, writes the dataset in the engine's layout, pins it with a held-out split and prints the
CID that `crucible job create --dataset` takes. Bad rows are named by line and nothing is written or pinned."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from crucible.artifacts.store import ArtifactStore
from crucible.cli.main import cli
from crucible.engine.architecture import initial_weights
from crucible.engine.data import ALPHABET
from crucible.engine.jobspec import JobSpec
from crucible.engine.replay import replay_interval
from crucible.engine.segment import run_segment
from crucible.engine.tasks import exact_answer_reward
from crucible.engine.tokenizers import ARITH_SYMBOLS, get_tokenizer
from crucible.engine.userdata import describe_dataset, parse_rows, prepare, source_digest
from crucible.errors import DatasetError
from crucible.localnet.kubo import KuboNode
from crucible.localnet.network import LocalNetwork
from crucible.protocol.jobs import load_job

SFT_ROWS = [{"prompt": f"double {i}:", "response": f" {2 * i}"} for i in range(24)]


@pytest.fixture
def env(network: LocalNetwork, kubo: KuboNode) -> dict[str, str]:
    return {"CRUCIBLE_RPC_URL": network.rpc_url, "CRUCIBLE_DEPLOYMENT": str(network.deployment_file),
            "CRUCIBLE_PRIVATE_KEY": network.accounts[0].key.hex(), "CRUCIBLE_IPFS_API": kubo.api_multiaddr}  # fmt: skip


def _jsonl(path: Path, rows: Sequence[object]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def _pins(store: ArtifactStore) -> set[str]:
    return set(store.client().pin.ls(type="recursive")["Keys"])


# ------------------------------------------------------------------ schemas and layouts, no daemons


def test_bad_rows_are_reported_with_their_line_numbers(tmp_path: Path) -> None:
    rows = [SFT_ROWS[0], "{not json", {"prompt": "p"}, SFT_ROWS[1], {"prompt": "p", "response": "r", "reponse": "x"},
            {"prompt": "", "response": "r"}]  # fmt: skip
    with pytest.raises(DatasetError) as caught:
        parse_rows(_jsonl(tmp_path / "bad.jsonl", rows).read_bytes(), "sft", source="bad.jsonl")
    assert caught.value.lines == [2, 3, 5, 6]
    text = str(caught.value)
    assert "bad.jsonl:2: not a JSON object" in text and "bad.jsonl:3: missing 'response'" in text
    assert "bad.jsonl:5: unexpected 'reponse'" in text and "bad.jsonl:6: 'prompt' must be a non-empty string" in text


def test_a_row_longer_than_the_block_is_an_error_not_a_silent_cut(tmp_path: Path) -> None:
    rows = parse_rows(_jsonl(tmp_path / "long.jsonl", [SFT_ROWS[0], {"prompt": "x" * 40, "response": "y"}]).read_bytes(),
                      "sft", source="long.jsonl")  # fmt: skip
    with pytest.raises(
        DatasetError, match=r"long.jsonl:2: 42 tokens of prompt and response, the model's block holds 33"
    ):
        prepare(rows, "sft", get_tokenizer("bytes-v1"), block_size=32, holdout=0.1, source_sha256="0" * 64,
                source="long.jsonl")  # fmt: skip


def test_every_kind_is_laid_out_as_the_engine_reads_it(tmp_path: Path) -> None:
    tok = get_tokenizer("bytes-v1")
    cases = {
        "pretrain": "\n".join(f"line {i} of some plain text to learn from" for i in range(20)),
        "sft": SFT_ROWS, "dpo": [{"prompt": f"2+{i}=", "chosen": str(2 + i), "rejected": str(3 + i)} for i in range(10)],
        "grpo": [{"prompt": f"Q:{i}+1=", "answer": i + 1} for i in range(10)],
    }  # fmt: skip
    for kind, rows in cases.items():
        path = tmp_path / f"{kind}.txt"
        path.write_text(rows) if isinstance(rows, str) else _jsonl(path, rows)  # type: ignore[func-returns-value]
        raw = path.read_bytes()
        prepared = prepare(
            parse_rows(raw, kind), kind, tok, block_size=32, holdout=0.2, source_sha256=source_digest(raw)
        )
        train, held = prepared.train, prepared.heldout
        if kind != "pretrain":  # pretraining text is cut into blocks, so its row count is the blocks'
            assert prepared.rows + prepared.heldout_rows == len(rows) and prepared.heldout_rows == round(
                len(rows) * 0.2
            )
        for tensors in (train, held):
            ids = [t for k, t in tensors.items() if k in ("tokens", "chosen", "rejected", "prompts")]
            assert all(t.dtype == torch.int64 and int(t.max()) < tok.vocab_size for t in ids)
        if kind in ("pretrain", "sft"):
            assert train["tokens"].shape[1] == 33
        if kind == "sft":
            assert train["loss_mask"].shape == (train["tokens"].shape[0], 32) and float(train["loss_mask"].sum()) > 0
        if kind == "dpo":
            assert set(train) == {"chosen", "rejected", "chosen_mask", "rejected_mask"}
        if kind == "grpo":
            assert train["answers"].dtype == torch.int64 and train["prompts"].shape[0] == train["answers"].shape[0]
        info = describe_dataset(prepared.train_bytes("bafkheldout", "0" * 64))
        assert (info.kind, info.tokenizer, info.block_size, info.vocab_size) == (kind, "bytes-v1", 32, 258)


def test_byte_level_ids_read_the_same_as_the_arithmetic_alphabet_so_grpo_rewards_check_out() -> None:
    tok = get_tokenizer("bytes-v1")
    assert ARITH_SYMBOLS == ALPHABET
    assert exact_answer_reward(tok.encode("42;"), 42) == 1.0
    assert exact_answer_reward(tok.encode("41;"), 42) == 0.25
    assert exact_answer_reward(tok.encode("x;"), 42) == 0.0
    assert tok.decode(tok.encode("héllo wörld\n")) == "héllo wörld\n"
    assert len(set(tok.encode(bytes(range(256)).decode("latin-1")))) > 128  # every byte has its own id


def test_the_gpt2_bpe_comes_from_a_package_that_ships_its_vocabulary() -> None:
    tok = get_tokenizer("gpt2-bpe")
    assert tok.vocab_size == 50257 and tok.end_id == 50256
    assert tok.encode("Hello world") == [15496, 995]  # GPT-2's ids, no download involved
    assert tok.digest == get_tokenizer("gpt2-bpe").digest and tok.digest != get_tokenizer("bytes-v1").digest


# ------------------------------------------------------------------ the command, Kubo and a job


def test_a_bad_file_writes_nothing_and_pins_nothing(tmp_path: Path, kubo: KuboNode) -> None:
    store = ArtifactStore(kubo.api_multiaddr)
    before = _pins(store)
    bad = _jsonl(tmp_path / "bad.jsonl", [SFT_ROWS[0], {"prompt": "only"}])
    result = CliRunner().invoke(cli, ["data", "add", str(bad), "--kind", "sft", "--ipfs-api", kubo.api_multiaddr])
    assert result.exit_code == 1
    assert "bad.jsonl:2: missing 'response'" in result.output and "nothing was written or pinned" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl"]
    assert _pins(store) == before
    wrong_kind = CliRunner().invoke(cli, ["data", "add", str(bad), "--kind", "rlhf"])
    assert wrong_kind.exit_code == 2 and "'rlhf' is not one of 'pretrain', 'sft', 'dpo', 'grpo'" in wrong_kind.output


def test_own_data_is_pinned_and_a_job_trains_and_replays_on_it(tmp_path: Path, env: dict[str, str],
                                                                network: LocalNetwork, kubo: KuboNode) -> None:  # fmt: skip
    source = _jsonl(tmp_path / "qa.jsonl", SFT_ROWS)
    added = CliRunner().invoke(
        cli, ["--json", "data", "add", str(source), "--kind", "sft", "--holdout", "0.25"], env=env
    )
    assert added.exit_code == 0, added.output
    pinned = json.loads(added.stdout)
    store = ArtifactStore(kubo.api_multiaddr)
    assert {pinned["dataset_cid"], pinned["heldout_cid"]} <= _pins(store)
    assert Path(pinned["file"]).read_bytes() == store.fetch(pinned["dataset_cid"], max_bytes=1 << 20,
                                                             sha256_digest=bytes.fromhex(pinned["dataset_sha256"]))  # fmt: skip
    assert (pinned["rows"], pinned["heldout_rows"]) == (18, 6)

    refused = CliRunner().invoke(cli, ["job", "create", "--kind", "pretrain", "--compute-cost", "5", "--dataset",
                                       pinned["dataset_cid"]], env=env)  # fmt: skip
    assert refused.exit_code == 1 and "holds sft rows, the job is --kind pretrain" in refused.output
    created = CliRunner().invoke(cli, ["--json", "job", "create", "--kind", "sft", "--compute-cost", "5", "--dataset",
                                       pinned["dataset_cid"]], env=env)  # fmt: skip
    assert created.exit_code == 0, created.output
    job_id = json.loads(created.stdout)["job_id"]

    job = load_job(network.client, store, job_id)  # what a miner and a validator load, through the on-chain digests
    spec: JobSpec = job.spec
    assert spec.dataset_cid == pinned["dataset_cid"] and spec.heldout_cid == pinned["heldout_cid"]
    assert (spec.tokenizer, spec.tokenizer_digest) == ("bytes-v1", get_tokenizer("bytes-v1").digest)
    assert spec.model.vocab_size >= 258  # the model covers the tokenizer's ids
    segment = replace(spec.segment(job_id, 0, 0, network.accounts[1].address), intervals=2, steps_per_interval=2)
    base = initial_weights(spec.model, 0)
    run = run_segment(segment, base, job.dataset, tmp_path / "work", torch.device("cpu"))
    assert all(r["loss"] > 0 for trace in run.traces[1:] for r in trace)
    replayed = replay_interval(segment, 1, run.checkpoint_paths[1].read_bytes(), run.checkpoint_paths[2].read_bytes(),
                               run.traces[2], job.dataset, torch.device("cpu"), job.tolerance, bitwise=True)  # fmt: skip
    assert replayed.comparison.passed, replayed.comparison
