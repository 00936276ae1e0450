"""`crucible data add`: a sponsor's own text or JSONL, checked row by row, tokenized, written as a job dataset and
pinned on IPFS; it prints the CID that `crucible job create --dataset CID` takes.

Order, so that a bad file or an unreachable Kubo leaves nothing behind: parse and check every row, tokenize and lay
out both splits, reach Kubo, write the files (atomically), pin the held-out split, pin the training split (the
held-out pin is undone if that fails).
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from crucible.cli.context import Settings
from crucible.cli.job import HF_MODEL_PRESETS, MODEL_PRESETS
from crucible.cli.output import emit
from crucible.cli.params import DEFAULT_IPFS_API, IPFS_API, Finite

KINDS = ["pretrain", "sft", "dpo", "grpo"]  # crucible.engine.userdata.KINDS
TOKENIZERS = ["bytes-v1", "gpt2-bpe"]  # crucible.engine.tokenizers (arith-v1 is the generated data's)


@click.group()
def data() -> None:
    """Bring your own data: turn text or JSONL into a job dataset pinned on IPFS."""


@data.command("add")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(KINDS), required=True, help="pretrain: text lines or {\"text\"}; sft: "
              "{\"prompt\",\"response\"}; dpo: {\"prompt\",\"chosen\",\"rejected\"}; grpo: {\"prompt\",\"answer\": int}.")  # fmt: skip
@click.option("--tokenizer", type=click.Choice(TOKENIZERS), default="bytes-v1", show_default=True,
              help="bytes-v1: every UTF-8 byte a token; gpt2-bpe: GPT-2's BPE (pip install 'crucible[hf]').")  # fmt: skip
@click.option("--model", type=click.Choice(MODEL_PRESETS + HF_MODEL_PRESETS), default="tiny", show_default=True,
              help="The job's model preset: rows are laid out for its block size.")  # fmt: skip
@click.option("--model-config", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="FILE.json",
              help="The job's Hugging Face model config instead of --model (`job create --model-config`).")  # fmt: skip
@click.option("--holdout", type=Finite(0, 0.5, min_open=True), default=0.05, show_default=True,
              help="Share of rows held out of training to measure each round's model (at least one row).")  # fmt: skip
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False),
              help="Where to write the dataset [default: FILE with .<kind>.safetensors; the held-out split beside "
                   "it, .heldout.safetensors].")  # fmt: skip
@click.option(
    "--ipfs-api",
    envvar="CRUCIBLE_IPFS_API",
    type=IPFS_API,
    default=DEFAULT_IPFS_API,
    show_default=True,
    help="Kubo RPC API (multiaddr or http://host:port).",
)
@click.pass_obj
def add(settings: Settings, file: Path, kind: str, tokenizer: str, model: str, model_config: Path | None,
        holdout: float, out: Path | None, ipfs_api: str) -> None:  # fmt: skip
    """Check, tokenize, write and pin FILE as a KIND dataset; prints its CID and digest for `job create --dataset`.

    Bad rows are listed with their line numbers and nothing is written or pinned.
    """
    from crucible.artifacts.store import ArtifactStore, sha256  # noqa: PLC0415 - torch and IPFS load only here
    from crucible.engine.architecture import resolve_model  # noqa: PLC0415
    from crucible.engine.hf import read_model_config  # noqa: PLC0415
    from crucible.engine.tokenizers import get_tokenizer  # noqa: PLC0415
    from crucible.engine.userdata import parse_rows, prepare, source_digest  # noqa: PLC0415

    if model_config is not None:
        if click.get_current_context().get_parameter_source("model") is not click.core.ParameterSource.DEFAULT:
            raise click.BadParameter("give the model once: --model PRESET or --model-config FILE", param_hint="--model")
        block_size = read_model_config(str(model_config), model_config.read_bytes()).block_size
        model_option = f"--model-config {model_config}"
    else:
        block_size = resolve_model(model).block_size
        model_option = f"--model {model}"
    raw = file.read_bytes()
    rows = parse_rows(raw, kind, source=file.name)
    prepared = prepare(rows, kind, get_tokenizer(tokenizer), block_size=block_size, holdout=holdout,
                       source_sha256=source_digest(raw), source=file.name)  # fmt: skip
    heldout_bytes = prepared.heldout_bytes()
    store = ArtifactStore(ipfs_api)
    heldout_cid = store.cid_of(heldout_bytes)  # reaches Kubo before anything is written
    train_bytes = prepared.train_bytes(heldout_cid, sha256(heldout_bytes).hex())
    target = out or file.with_name(f"{file.stem}.{kind}.safetensors")
    heldout_target = target.with_name(target.name.removesuffix(".safetensors") + ".heldout.safetensors")
    _write(heldout_target, heldout_bytes)
    _write(target, train_bytes)
    pinned = store.add(heldout_bytes)
    try:
        dataset_cid = store.add(train_bytes)
    except BaseException:
        store.unpin(pinned)  # nothing half-pinned
        raise
    emit({"dataset_cid": dataset_cid, "dataset_sha256": sha256(train_bytes).hex(), "kind": kind, "rows": prepared.rows,
          "heldout_cid": heldout_cid, "heldout_rows": prepared.heldout_rows, "tokenizer": tokenizer,
          "tokenizer_digest": prepared.metadata["tokenizer_digest"], "block_size": block_size,
          "file": str(target), "heldout_file": str(heldout_target),
          "next": f"crucible job create --kind {kind} {model_option} --dataset {dataset_cid} --compute-cost C"},
         as_json=settings.as_json, title="dataset pinned")  # fmt: skip


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
