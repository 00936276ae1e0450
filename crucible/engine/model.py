"""A compact GPT-style causal language model (after nanoGPT), sized from CPU-test tiny to GPU-sized.

The attention kernel is a runtime choice, not part of the model: "explicit" (matmul, mask, softmax: the same
arithmetic on every backend) or one of PyTorch's fused scaled-dot-product kernels, "math", "efficient"
(memory-efficient) or "flash". The kernel determines the bits of a step, so it is part of the device class
(determinism.py) and a validator replaying bitwise uses the miner's kernel. "auto" (PyTorch picks) exists only for
the plain, unverified baseline loop of the benchmarks.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

ATTENTION_KERNELS = {
    "explicit": None,
    "math": SDPBackend.MATH,
    "efficient": SDPBackend.EFFICIENT_ATTENTION,
    "flash": SDPBackend.FLASH_ATTENTION,
}


@dataclass(frozen=True)
class GPTConfig:
    vocab_size: int = 32
    block_size: int = 32
    n_layer: int = 2
    n_head: int = 2
    n_embd: int = 32

    def to_json(self) -> dict[str, int]:
        return asdict(self)


PRESETS = {
    "tiny": GPTConfig(),  # ~26k parameters: unit tests and benchmarks on CPU
    "small": GPTConfig(vocab_size=32, block_size=64, n_layer=4, n_head=4, n_embd=128),  # ~0.8M
    "medium": GPTConfig(vocab_size=32, block_size=128, n_layer=8, n_head=8, n_embd=512),  # ~25M, for GPUs
    "gpu-125m": GPTConfig(vocab_size=50304, block_size=1024, n_layer=12, n_head=12, n_embd=768),
}


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.n_head = cfg.n_head
        self.kernel = "explicit"
        self.qkv = nn.Linear(cfg.n_embd, 3 * cfg.n_embd)
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd)
        mask = torch.tril(torch.ones(cfg.block_size, cfg.block_size, dtype=torch.bool))
        self.register_buffer("mask", mask.view(1, 1, cfg.block_size, cfg.block_size), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape  # (B, T, C)
        q, k, v = self.qkv(x).split(c, dim=2)
        q = q.view(b, t, self.n_head, c // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(b, t, self.n_head, c // self.n_head).transpose(1, 2)
        v = v.view(b, t, self.n_head, c // self.n_head).transpose(1, 2)
        if self.kernel == "auto":
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # PyTorch's choice: the unverified baseline
            return self.proj(y.transpose(1, 2).contiguous().view(b, t, c))
        backend = ATTENTION_KERNELS[self.kernel]
        if backend is None:
            # Explicit attention: the same arithmetic on every backend (what CPUs run unless told otherwise).
            att = (q @ k.transpose(-2, -1)) / math.sqrt(k.size(-1))  # (B, nh, T, T)
            att = att.masked_fill(~self.mask[:, :, :t, :t], float("-inf"))
            y = F.softmax(att, dim=-1) @ v  # (B, nh, T, hs)
        else:
            with sdpa_kernel(backend):  # exactly this kernel: no silent fallback to another one (other bits)
                y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, nh, T, hs)
        return self.proj(y.transpose(1, 2).contiguous().view(b, t, c))


class Block(nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.n_embd)
        self.attn = CausalSelfAttention(cfg)
        self.ln2 = nn.LayerNorm(cfg.n_embd)
        self.mlp = nn.Sequential(nn.Linear(cfg.n_embd, 4 * cfg.n_embd), nn.GELU(), nn.Linear(4 * cfg.n_embd, cfg.n_embd))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.block_size, cfg.n_embd)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd)
        self.head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        self.apply(self._init)

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)

    def set_attention(self, kernel: str) -> GPT:
        if kernel not in ATTENTION_KERNELS and kernel != "auto":
            raise ValueError(f"unknown attention kernel {kernel!r}; use one of {sorted(ATTENTION_KERNELS)}")
        for block in self.blocks:
            block.attn.kernel = kernel
        return self

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """Logits for every position: (B, T) token ids -> (B, T, vocab)."""
        _, t = idx.shape
        pos = torch.arange(t, device=idx.device)
        x = self.wte(idx) + self.wpe(pos)  # (B, T, C)
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))  # (B, T, vocab)


def empty_model(cfg: GPTConfig, device: torch.device) -> GPT:
    """A model with uninitialised weights, allocated straight on `device`, for states that are loaded right after
    (a 163M model's seeded CPU init costs seconds a replay should not pay)."""
    with torch.device("meta"):
        model = GPT(cfg)
    model = model.to_empty(device=device)
    mask = torch.tril(torch.ones(cfg.block_size, cfg.block_size, dtype=torch.bool, device=device))
    for block in model.blocks:
        block.attn.mask = mask.view(1, 1, cfg.block_size, cfg.block_size)
    return model


def build_model(cfg: GPTConfig, seed: int, device: torch.device, dtype: torch.dtype = torch.float32) -> GPT:
    """A freshly initialized model; the same seed gives the same weights on every machine."""
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    model = GPT(cfg)
    torch.random.set_rng_state(generator_state)
    return model.to(device=device, dtype=dtype)
