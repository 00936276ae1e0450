"""Datasets for the four job kinds, and the deterministic assignment of data to (job seed, round, slot, step).

Nothing can be downloaded on the networks we run, so the datasets are generated: exact-answer arithmetic
("12+7=19;"), which gives pretraining text, supervised prompt/response pairs, preference pairs (correct vs. wrong
answer) and verifiable rewards for RL from the same source. A dataset is safetensors bytes, pinned on IPFS and
referenced from the job spec by CID and sha256; the loaders below take any dataset of the same layout.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

import torch

from crucible.engine.checkpoint import digest, to_bytes

ALPHABET = "_0123456789+=;QA:"  # "_" is padding (id 0)
STOI = {ch: i for i, ch in enumerate(ALPHABET)}
PAD = 0
SEMI = STOI[";"]


def encode(text: str) -> list[int]:
    return [STOI[ch] for ch in text]


def decode(ids: list[int]) -> str:
    return "".join(ALPHABET[i] if 0 <= i < len(ALPHABET) else "?" for i in ids)


def _problem(rng: random.Random) -> tuple[str, int]:
    a, b = rng.randrange(50), rng.randrange(50)
    return f"{a}+{b}=", a + b


def _pad(ids: list[int], length: int) -> list[int]:
    return (ids + [PAD] * length)[:length]


def make_dataset(kind: str, n: int, block_size: int, seed: int) -> dict[str, torch.Tensor]:
    """A generated dataset for `kind` (pretrain, sft, dpo, grpo); same arguments, same tensors."""
    rng = random.Random(seed)
    width = block_size + 1
    if kind == "pretrain":
        rows = []
        for _ in range(n):
            text = ""
            while len(text) < width:
                q, ans = _problem(rng)
                text += f"{q}{ans};"
            rows.append(encode(text[:width]))
        return {"tokens": torch.tensor(rows, dtype=torch.int64)}
    if kind == "sft":
        tokens, masks = [], []
        for _ in range(n):
            q, ans = _problem(rng)
            prompt, response = encode(f"Q:{q}"), encode(f"{ans};")
            row = _pad(prompt + response, width)
            mask = [0] * (len(prompt) - 1) + [1] * len(response)  # targets are shifted by one
            tokens.append(row)
            masks.append(_pad(mask, block_size))
        return {"tokens": torch.tensor(tokens), "loss_mask": torch.tensor(masks, dtype=torch.float32)}
    if kind == "dpo":
        out: dict[str, list[list[int]]] = {"chosen": [], "rejected": [], "chosen_mask": [], "rejected_mask": []}
        for _ in range(n):
            q, ans = _problem(rng)
            wrong = ans + rng.choice([-3, -2, -1, 1, 2, 3])
            prompt = encode(f"Q:{q}")
            for key, value in (("chosen", ans), ("rejected", abs(wrong))):
                response = encode(f"{value};")
                out[key].append(_pad(prompt + response, width))
                out[f"{key}_mask"].append(_pad([0] * (len(prompt) - 1) + [1] * len(response), block_size))
        return {k: torch.tensor(v, dtype=torch.float32 if k.endswith("mask") else torch.int64) for k, v in out.items()}
    if kind == "grpo":
        prompts, answers = [], []
        for _ in range(n):
            q, ans = _problem(rng)
            prompts.append(_pad(encode(f"Q:{q}"), 8))
            answers.append(ans)
        return {"prompts": torch.tensor(prompts), "answers": torch.tensor(answers)}
    raise ValueError(f"unknown job kind {kind!r}")


def dataset_bytes(tensors: dict[str, torch.Tensor]) -> bytes:
    return to_bytes(tensors, metadata={"format": "crucible-dataset-v1"})


@dataclass(frozen=True)
class BatchKey:
    """Who may train on what: the data of a step is a function of these, so nobody chooses their data."""

    job_seed: int
    round: int
    slot: int
    step: int

    def generator(self) -> torch.Generator:
        material = f"{self.job_seed}|{self.round}|{self.slot}|{self.step}".encode()
        return torch.Generator().manual_seed(int.from_bytes(hashlib.sha256(material).digest()[:8], "big"))


def batch_indices(key: BatchKey, batch_size: int, n_examples: int) -> torch.Tensor:
    return torch.randint(n_examples, (batch_size,), generator=key.generator())


def select(dataset: dict[str, torch.Tensor], indices: torch.Tensor) -> dict[str, torch.Tensor]:
    return {name: tensor[indices] for name, tensor in dataset.items()}


def batch_digest(batch: dict[str, torch.Tensor]) -> str:
    """What a validator compares to prove the miner trained on its assigned data."""
    return digest(to_bytes(batch)).hex()
