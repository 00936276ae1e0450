"""A sponsor's own data, turned into a job dataset: parsed and checked row by row, tokenized, laid out as
crucible.engine.data lays out its generated datasets, with a held-out split for measuring the trained model.

Input schemas (one JSON object per line; blank lines are skipped; unknown fields are refused, they are usually typos):

    pretrain   plain text (every non-blank line is a text), or JSONL {"text": str}
    sft        {"prompt": str, "response": str}
    dpo        {"prompt": str, "chosen": str, "rejected": str}
    grpo       {"prompt": str, "answer": int}   the verifiable reward: a completion earns 1.0 for the answer's
               digits followed by ';', 0.25 for another number followed by ';', else 0 (crucible.engine.tasks)

Layouts (W = the model's block size + 1): pretrain {"tokens": (N, W)} from the texts joined with the tokenizer's end
id and cut into rows of W tokens; sft {"tokens": (N, W), "loss_mask": (N, W-1)} with the loss on response tokens
only; dpo the same for "chosen" and "rejected"; grpo {"prompts": (N, P), "answers": (N,)}. A row that does not fit
the block is an error naming its line: nothing is silently cut.

Everything is checked before anything is written or pinned; a bad file is one DatasetError listing every bad line.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from typing import Any

import torch

from crucible.engine.checkpoint import to_bytes
from crucible.engine.tokenizers import Tokenizer
from crucible.errors import DatasetError

KINDS = ("pretrain", "sft", "dpo", "grpo")
SCHEMAS: dict[str, dict[str, type]] = {
    "pretrain": {"text": str},
    "sft": {"prompt": str, "response": str},
    "dpo": {"prompt": str, "chosen": str, "rejected": str},
    "grpo": {"prompt": str, "answer": int},
}
DATASET_FORMAT = "crucible-dataset-v1"
MAX_REPORTED = 20  # bad lines listed in one error; the count covers all of them
GRPO_MAX_NEW = 4  # crucible.engine.segment.SegmentSpec.grpo_max_new: the completion positions a rollout samples


@dataclass(frozen=True)
class Row:
    line: int  # 1-based line in the input file
    fields: dict[str, Any]


@dataclass
class PreparedDataset:
    """The tensors of the training split and of the held-out split, and what describes them."""

    kind: str
    train: dict[str, torch.Tensor]
    heldout: dict[str, torch.Tensor]
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return int(next(iter(self.train.values())).shape[0])

    @property
    def heldout_rows(self) -> int:
        return int(next(iter(self.heldout.values())).shape[0])

    def train_bytes(self, heldout_cid: str, heldout_sha256: str) -> bytes:
        """The training split's safetensors, its metadata naming the held-out split it goes with."""
        return to_bytes(self.train, metadata={**self.metadata, "split": "train", "heldout_cid": heldout_cid,
                                              "heldout_sha256": heldout_sha256})  # fmt: skip

    def heldout_bytes(self) -> bytes:
        return to_bytes(self.heldout, metadata={**self.metadata, "split": "heldout"})


def parse_rows(data: bytes, kind: str, *, source: str = "input") -> list[Row]:
    """The rows of `data` for `kind`, every field checked against the kind's schema; DatasetError lists bad lines."""
    if kind not in KINDS:
        raise DatasetError(f"--kind {kind!r}: use one of {', '.join(KINDS)}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{source}: not UTF-8 text (byte {exc.start} is invalid)") from None
    lines = text.splitlines()
    first = next((line.lstrip() for line in lines if line.strip()), "")
    if not first:
        raise DatasetError(f"{source}: no rows (the file is empty)")
    plain = kind == "pretrain" and not first.startswith("{")
    rows: list[Row] = []
    problems: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if plain:
            rows.append(Row(number, {"text": line}))
            continue
        fields, problem = _parse_line(line, kind)
        if problem:
            problems.append((number, problem))
        else:
            rows.append(Row(number, fields))
    _raise_if(problems, source, kind)
    return rows


def _parse_line(line: str, kind: str) -> tuple[dict[str, Any], str | None]:
    schema = SCHEMAS[kind]
    form = "{" + ", ".join(f'"{k}": {t.__name__}' for k, t in schema.items()) + "}"
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        return {}, f"not a JSON object ({exc.msg} at column {exc.colno}); {kind} rows are {form}"
    if not isinstance(value, dict):
        return {}, f"not a JSON object; {kind} rows are {form}"
    missing = [k for k in schema if k not in value]
    extra = sorted(set(value) - set(schema))
    if missing or extra:
        said = ([f"missing {', '.join(repr(k) for k in missing)}"] if missing else []) + (
            [f"unexpected {', '.join(repr(k) for k in extra)}"] if extra else [])  # fmt: skip
        return {}, f"{'; '.join(said)}; {kind} rows are {form}"
    for key, expected in schema.items():
        item = value[key]
        if expected is int and (isinstance(item, bool) or not isinstance(item, int) or item < 0):
            return {}, f"{key!r} must be a non-negative integer (got {json.dumps(item)[:40]})"
        if expected is str and (not isinstance(item, str) or not item.strip()):
            return {}, f"{key!r} must be a non-empty string"
    return value, None


def prepare(rows: list[Row], kind: str, tokenizer: Tokenizer, *, block_size: int, holdout: float,
            source_sha256: str, source: str = "input") -> PreparedDataset:  # fmt: skip
    """Tokenizes and lays out `rows`, then splits off the held-out rows (a seeded shuffle of the source's digest)."""
    if kind == "grpo" and tokenizer.name == "gpt2-bpe":
        raise DatasetError("grpo rewards are read in the byte-level ids (digits and ';'): use --tokenizer bytes-v1")
    width = block_size + 1
    examples: list[Any] = []
    if kind == "pretrain":
        examples = list(_pretrain_rows(rows, tokenizer, width, source))
    else:
        build = {"sft": _sft_example, "dpo": _dpo_example, "grpo": _grpo_example}[kind]
        problems: list[tuple[int, str]] = []
        for row in rows:
            example, problem = build(row.fields, tokenizer, width)
            if problem:
                problems.append((row.line, problem))
            else:
                examples.append(example)
        _raise_if(problems, source, kind)
    if len(examples) < 2:
        raise DatasetError(f"{source}: {len(examples)} {kind} example(s); a dataset needs at least 2 (one is held out)")
    order = list(range(len(examples)))
    random.Random(int(source_sha256[:16], 16)).shuffle(order)
    held = max(1, min(len(examples) - 1, round(len(examples) * holdout)))
    heldout_idx, train_idx = sorted(order[:held]), sorted(order[held:])
    train = _stack(kind, [examples[i] for i in train_idx], tokenizer, width)
    heldout = _stack(kind, [examples[i] for i in heldout_idx], tokenizer, width)
    metadata = {"format": DATASET_FORMAT, "kind": kind, "tokenizer": tokenizer.name, "tokenizer_digest": tokenizer.digest,
                "vocab_size": str(tokenizer.vocab_size), "block_size": str(block_size), "source_sha256": source_sha256}  # fmt: skip
    return PreparedDataset(kind, train, heldout, metadata)


def _raise_if(problems: list[tuple[int, str]], source: str, kind: str) -> None:
    """One error for every bad line (the first MAX_REPORTED spelled out, each as FILE:LINE: problem)."""
    if problems:
        shown = [f"{source}:{line}: {problem}" for line, problem in problems[:MAX_REPORTED]]
        more = f"\n... and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        raise DatasetError(f"{source}: {len(problems)} bad {kind} row(s), nothing was written or pinned:\n"
                           + "\n".join(shown) + more, lines=[line for line, _ in problems])  # fmt: skip


def _pretrain_rows(rows: list[Row], tokenizer: Tokenizer, width: int, source: str) -> list[list[int]]:
    stream: list[int] = []
    for row in rows:
        stream += [*tokenizer.encode(row.fields["text"]), tokenizer.end_id]
    count = len(stream) // width
    if count < 2:
        raise DatasetError(f"{source}: {len(stream)} tokens of text make {count} row(s) of {width} tokens; a pretraining "
                           "dataset needs at least 2 (add text, or use a model with a smaller block)")  # fmt: skip
    return [stream[i * width : (i + 1) * width] for i in range(count)]


def _response_example(prompt: list[int], response: list[int], width: int) -> tuple[list[int], list[float]] | str:
    total = len(prompt) + len(response)
    if total > width:
        return (
            f"{total} tokens of prompt and response, the model's block holds {width}: shorten it, or use a larger model"
        )
    mask = [0.0] * (len(prompt) - 1) + [1.0] * len(response)  # targets are shifted by one
    return prompt + response, mask


def _sft_example(fields: dict[str, Any], tokenizer: Tokenizer, width: int) -> tuple[Any, str | None]:
    made = _response_example(tokenizer.encode(fields["prompt"]),
                             [*tokenizer.encode(fields["response"]), tokenizer.end_id], width)  # fmt: skip
    return (None, made) if isinstance(made, str) else (made, None)


def _dpo_example(fields: dict[str, Any], tokenizer: Tokenizer, width: int) -> tuple[Any, str | None]:
    prompt = tokenizer.encode(fields["prompt"])
    pair = []
    for key in ("chosen", "rejected"):
        made = _response_example(prompt, [*tokenizer.encode(fields[key]), tokenizer.end_id], width)
        if isinstance(made, str):
            return None, f"{key!r}: {made}"
        pair.append(made)
    if pair[0][0] == pair[1][0]:
        return None, "'chosen' and 'rejected' are the same text: there is no preference to learn"
    return tuple(pair), None


def _grpo_example(fields: dict[str, Any], tokenizer: Tokenizer, width: int) -> tuple[Any, str | None]:
    prompt = tokenizer.encode(fields["prompt"])
    digits = len(str(fields["answer"]))
    if digits > GRPO_MAX_NEW - 1:
        return None, (f"answer {fields['answer']} has {digits} digits; a completion holds {GRPO_MAX_NEW - 1} digits "
                      "and ';', so no rollout could earn the reward")  # fmt: skip
    if len(prompt) + GRPO_MAX_NEW > width - 1:
        return (
            None,
            f"the prompt is {len(prompt)} tokens; with the {GRPO_MAX_NEW}-token completion it must fit {width - 1}",
        )
    return (prompt, fields["answer"]), None


def _pad(ids: list[Any], length: int, pad: Any) -> list[Any]:
    return ids + [pad] * (length - len(ids))


def _stack(kind: str, examples: list[Any], tokenizer: Tokenizer, width: int) -> dict[str, torch.Tensor]:
    pad = tokenizer.pad_id
    if kind == "pretrain":
        return {"tokens": torch.tensor(examples, dtype=torch.int64)}
    if kind == "sft":
        return {"tokens": torch.tensor([_pad(t, width, pad) for t, _ in examples], dtype=torch.int64),
                "loss_mask": torch.tensor([_pad(m, width - 1, 0.0) for _, m in examples], dtype=torch.float32)}  # fmt: skip
    if kind == "dpo":
        out: dict[str, torch.Tensor] = {}
        for index, key in enumerate(("chosen", "rejected")):
            out[key] = torch.tensor([_pad(pair[index][0], width, pad) for pair in examples], dtype=torch.int64)
            out[f"{key}_mask"] = torch.tensor([_pad(pair[index][1], width - 1, 0.0) for pair in examples],
                                              dtype=torch.float32)  # fmt: skip
        return out
    longest = max(len(prompt) for prompt, _ in examples)
    return {"prompts": torch.tensor([_pad(p, longest, pad) for p, _ in examples], dtype=torch.int64),
            "answers": torch.tensor([a for _, a in examples], dtype=torch.int64)}  # fmt: skip


def source_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class DatasetInfo:
    """What a pinned dataset says about itself (its safetensors metadata), checked against its tensors."""

    kind: str
    tokenizer: str
    tokenizer_digest: str
    vocab_size: int
    block_size: int
    rows: int
    heldout_cid: str
    heldout_sha256: str


EXPECTED_TENSORS = {
    "pretrain": {"tokens"}, "sft": {"tokens", "loss_mask"},
    "dpo": {"chosen", "rejected", "chosen_mask", "rejected_mask"}, "grpo": {"prompts", "answers"},
}  # fmt: skip


def describe_dataset(data: bytes, *, source: str = "dataset") -> DatasetInfo:
    """Reads a dataset written by `crucible data add` and checks its layout (untrusted bytes: safetensors only)."""
    from safetensors import SafetensorError  # noqa: PLC0415
    from safetensors.torch import load  # noqa: PLC0415

    try:
        header_len = int.from_bytes(data[:8], "little")
        header = json.loads(data[8 : 8 + header_len])
        tensors = load(data)
    except (SafetensorError, ValueError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{source} is not a safetensors dataset: {exc}") from None
    meta = header.get("__metadata__") or {}
    if meta.get("format") != DATASET_FORMAT or meta.get("split") != "train":
        raise DatasetError(f"{source} is not a training dataset written by `crucible data add` (format "
                           f"{meta.get('format')!r}, split {meta.get('split')!r})")  # fmt: skip
    kind = meta.get("kind", "")
    if kind not in KINDS or set(tensors) != EXPECTED_TENSORS[kind]:
        raise DatasetError(f"{source}: kind {kind!r} with tensors {sorted(tensors)} is not a dataset layout")
    try:
        block_size, vocab = int(meta["block_size"]), int(meta["vocab_size"])
        heldout_cid, heldout_sha = str(meta["heldout_cid"]), str(meta["heldout_sha256"])
    except (KeyError, ValueError):
        raise DatasetError(f"{source}: its metadata lacks block_size, vocab_size or the held-out split") from None
    rows = {int(t.shape[0]) for t in tensors.values()}
    ids = [t for name, t in tensors.items() if name in ("tokens", "chosen", "rejected", "prompts")]
    if len(rows) != 1 or any(bool(((t < 0) | (t >= vocab)).any()) for t in ids):
        raise DatasetError(f"{source}: its tensors disagree on the row count or hold ids outside 0..{vocab - 1}")
    return DatasetInfo(kind, str(meta.get("tokenizer", "")), str(meta.get("tokenizer_digest", "")), vocab, block_size,
                       rows.pop(), heldout_cid, heldout_sha)  # fmt: skip
