"""Standard Hugging Face `transformers` architectures (GPT-2, Llama) as a job's model, trained and replayed under the
same rules as the built-in GPT.

A job names the architecture by config (`HFModelSpec`, pinned inside the job spec), never by a hub id: the model is
built with `from_config`, initialised from the job's seed or from safetensors weights the sponsor pinned on IPFS, and
nothing is ever downloaded (HF_HUB_OFFLINE is set before transformers is imported; no code path asks the hub).

What keeps a replay bitwise, and what does not:
- Attention is the engine's choice as for the built-in GPT: "explicit" runs transformers' eager attention (matmul,
  mask, softmax); the fused kernels ("math", "efficient", "flash") run transformers' SDPA attention pinned to exactly
  that PyTorch kernel. The device class (determinism.py) records the kernel; the CPU default is explicit.
- Dropout is always 0 (a replay must not draw random masks): whatever a config says about dropout is overridden.
- transformers' own code decides the arithmetic too, and its version is not part of the device class: the spec
  records the exact version (`transformers_version`) and the engine refuses to build the model under another one.
- Weights live in float32 (master weights, checkpoints, aggregation); `dtype` bfloat16 means bf16 autocast, as for
  the built-in GPT. float16 is refused: it needs loss scaling, which no replay rule covers.

`HFCausalLM` is the adapter: logits from token ids, `set_attention`, and the transformers model's own parameter
names (so checkpoint tensors are "model." + the names in a transformers state dict, and the sponsor's weights map
one to one). transformers is imported only when a model is built or checked, never by `crucible --help`.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import asdict, dataclass, fields, replace
from importlib import metadata
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from torch import nn
from torch.nn.attention import sdpa_kernel

from crucible.engine.model import ATTENTION_KERNELS
from crucible.errors import ModelConfigError

# No hub access, ever: set before the first import of transformers (and huggingface_hub) anywhere in the process.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

ARCHS = ("gpt2", "llama")
# The config's dtype -> the job precision it trains under (float32 master weights either way).
DTYPE_PRECISION = {"float32": "fp32", "bfloat16": "bf16"}
BYTES_PER_WEIGHT = 4  # float32 master weights
# Training holds, per parameter: the weight, its gradient and AdamW's two moments; a DPO job also a frozen reference.
TRAIN_COPIES = 4
DPO_REFERENCE_COPIES = 1
# Bounds on any single size, so a spec from an untrusted sponsor cannot ask for an absurd model (each far above what
# a GPU trains today; the memory bound is the real limit).
MAX_DIM = {
    "vocab_size": 1 << 20,
    "block_size": 1 << 17,
    "n_layer": 1 << 10,
    "n_head": 1 << 10,
    "n_embd": 1 << 16,
    "n_kv_head": 1 << 10,
    "intermediate_size": 1 << 18,
}
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
_CID = re.compile(r"^(bafy|bafk|Qm)[A-Za-z0-9]+$")


def _bad(field: str, message: str) -> ModelConfigError:
    return ModelConfigError(f"model config {field!r}: {message}", field=field)


@dataclass(frozen=True)
class HFModelSpec:
    """A transformers causal LM by config: what the job spec pins under "model" (told apart by `arch`)."""

    arch: str  # "gpt2" (GPT2LMHeadModel) or "llama" (LlamaForCausalLM)
    vocab_size: int
    block_size: int  # the longest sequence: gpt2 n_positions, llama max_position_embeddings
    n_layer: int
    n_head: int
    n_embd: int  # hidden size
    n_kv_head: int  # llama grouped-query attention: key/value heads (gpt2: n_head)
    intermediate_size: int  # MLP width (gpt2 n_inner)
    tie_word_embeddings: bool  # the output head shares the token embedding (gpt2's default; not llama's)
    norm_eps: float = 1e-5  # gpt2 layer_norm_epsilon, llama rms_norm_eps
    rope_theta: float = 10000.0  # llama's rotary base (unused by gpt2)
    dtype: str = "float32"  # float32 (job precision fp32) or bfloat16 (bf16 autocast over float32 weights)
    init: str = "seed"  # "seed": initialised from the job seed; "weights": the sponsor's pinned weights
    weights_cid: str = ""  # init "weights": the sponsor's safetensors file on IPFS
    weights_sha256: str = ""  # ... and its sha256 (hex)
    memory_gib: float = 0.0  # the training memory bound a miner needs (0: not declared)
    transformers_version: str = ""  # the exact transformers release every miner and validator must build with

    def __post_init__(self) -> None:
        if not isinstance(self.arch, str) or self.arch not in ARCHS:
            raise _bad("arch", f"{self.arch!r} is not a supported architecture; use one of {', '.join(ARCHS)}")
        for name, limit in MAX_DIM.items():
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= limit:
                raise _bad(name, f"{value!r} is not a whole number from 1 to {limit}")
        if self.n_embd % self.n_head:
            raise _bad("n_head", f"{self.n_head} heads do not divide the hidden size n_embd={self.n_embd}")
        if self.arch == "gpt2" and self.n_kv_head != self.n_head:
            raise _bad("n_kv_head", f"gpt2 has no grouped-query attention: n_kv_head must equal n_head={self.n_head}")
        if self.n_head % self.n_kv_head:
            raise _bad("n_kv_head", f"{self.n_kv_head} key/value heads do not divide n_head={self.n_head}")
        if self.arch == "llama" and (self.n_embd // self.n_head) % 2:
            raise _bad(
                "n_head",
                f"llama's rotary embedding needs an even head size, n_embd/n_head is {self.n_embd // self.n_head}",
            )
        if not isinstance(self.tie_word_embeddings, bool):
            raise _bad("tie_word_embeddings", f"{self.tie_word_embeddings!r} is not true or false")
        for name in ("norm_eps", "rope_theta"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value) or value <= 0:
                raise _bad(name, f"{value!r} is not a positive number")
        if self.dtype not in DTYPE_PRECISION:
            why = " (float16 needs loss scaling, which no replay rule covers)" if self.dtype == "float16" else ""
            raise _bad("dtype", f"{self.dtype!r} is not a precision Crucible verifies{why}; use float32 or bfloat16")
        if self.init not in ("seed", "weights"):
            raise _bad(
                "init", f"{self.init!r}: use 'seed' (from the job seed) or 'weights' (the sponsor's pinned file)"
            )
        if self.init == "weights":
            if not isinstance(self.weights_cid, str) or not _CID.match(self.weights_cid):
                raise _bad("weights_cid", f"{self.weights_cid!r} is not a CID (init 'weights' needs the pinned file)")
            if not isinstance(self.weights_sha256, str) or not _SHA256_HEX.match(self.weights_sha256):
                raise _bad("weights_sha256", f"{self.weights_sha256!r} is not a sha256 (64 lowercase hex digits)")
        elif self.weights_cid or self.weights_sha256:
            raise _bad("init", "weights_cid/weights_sha256 are set but init is 'seed': use init 'weights'")
        memory = self.memory_gib
        if not isinstance(memory, int | float) or isinstance(memory, bool) or not math.isfinite(memory) or memory < 0:
            raise _bad("memory_gib", f"{memory!r} is not a number of GiB (0: not declared)")
        if memory and train_bytes(self) > memory * 2**30:
            raise _bad(
                "memory_gib",
                f"{_gib(train_bytes(self))} GiB of training state does not fit the declared {memory:g} GiB",
            )
        if not isinstance(self.transformers_version, str) or len(self.transformers_version) > 64:
            raise _bad("transformers_version", f"{self.transformers_version!r} is not a version")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HFModelSpec:
        """A pinned spec's model entry (untrusted): every field present, nothing else (TypeError otherwise)."""
        expected = {f.name for f in fields(cls)}
        if set(data) != expected:
            raise TypeError(f"an HF model entry has the fields {sorted(expected)}, got {sorted(data)}")
        return cls(**data)

    @property
    def precision(self) -> str:
        return DTYPE_PRECISION[self.dtype]

    @property
    def base_prefix(self) -> str:
        """transformers' base_model_prefix: weight files saved from the bare model lack it."""
        return "transformer" if self.arch == "gpt2" else "model"

    def label(self) -> str:
        """The model's name in a tolerance profile."""
        return f"hf-{self.arch}"


PRESETS = {
    # ~28k parameters each, the size of the built-in "tiny" GPT, on the generated data's 32-token vocabulary.
    "hf-gpt2-tiny": HFModelSpec(
        "gpt2",
        vocab_size=32,
        block_size=32,
        n_layer=2,
        n_head=2,
        n_embd=32,
        n_kv_head=2,
        intermediate_size=128,
        tie_word_embeddings=True,
    ),
    "hf-llama-tiny": HFModelSpec(
        "llama",
        vocab_size=32,
        block_size=32,
        n_layer=2,
        n_head=4,
        n_embd=32,
        n_kv_head=2,
        intermediate_size=64,
        tie_word_embeddings=False,
    ),
}


# ---------------------------------------------------------------- size and fit


def parameter_count(spec: HFModelSpec) -> int:
    """The model's parameters, counted from the config (a test holds it to the built model), so a spec is checked
    without building anything."""
    c, v, i, layers = spec.n_embd, spec.vocab_size, spec.intermediate_size, spec.n_layer
    head = 0 if spec.tie_word_embeddings else v * c
    if spec.arch == "gpt2":
        per_layer = 2 * c + (3 * c * c + 3 * c) + (c * c + c) + 2 * c + (c * i + i) + (i * c + c)
        return v * c + spec.block_size * c + layers * per_layer + 2 * c + head
    kv = spec.n_kv_head * (c // spec.n_head)
    per_layer = c * c + 2 * c * kv + c * c + 3 * c * i + 2 * c
    return v * c + layers * per_layer + c + head


def train_bytes(spec: HFModelSpec, kind: str = "pretrain") -> int:
    """Device memory of the training state: float32 weights, gradients and AdamW moments (and a DPO reference).
    Activations are left out: they depend on the batch, not on the config."""
    copies = TRAIN_COPIES + (DPO_REFERENCE_COPIES if kind == "dpo" else 0)
    return parameter_count(spec) * BYTES_PER_WEIGHT * copies


def auto_memory_bytes() -> int:
    """The bound when the sponsor declares none: this machine's training memory (the GPU's, else the RAM)."""
    if torch.cuda.is_available():
        return int(torch.cuda.get_device_properties(0).total_memory)
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def _gib(n: int) -> str:
    return f"{n / 2**30:.3g}"


def fit_job(spec: HFModelSpec, *, kind: str, precision: str) -> HFModelSpec:
    """`spec` checked against the job's declared precision and a memory bound, pinned to this transformers release,
    with the bound it was checked against recorded (`memory_gib`: the sponsor's, else the training state's size,
    checked against this machine). Raises ModelConfigError naming the field."""
    if spec.precision != precision:
        raise _bad(
            "dtype",
            f"{spec.dtype} does not fit the job's declared precision {precision} (use dtype {_dtype_for(precision)})",
        )
    need = train_bytes(spec, kind)
    what = (
        f"{parameter_count(spec):,} parameters need {_gib(need)} GiB to train (float32 weights, gradients and "
        f"AdamW moments{', and the DPO reference' if kind == 'dpo' else ''})"
    )
    if spec.memory_gib:
        if need > spec.memory_gib * 2**30:
            raise _bad("memory_gib", f"{what}, over the declared {spec.memory_gib:g} GiB")
        bound = spec.memory_gib
    else:
        limit = auto_memory_bytes()
        if need > limit:
            raise _bad(
                "memory_gib",
                f"{what}, over this machine's {_gib(limit)} GiB (declare the miners' memory "
                "with --memory-gib, or shrink n_layer/n_embd/vocab_size)",
            )
        bound = math.ceil(need / 2**30 * 1000) / 1000  # the need, rounded up to a thousandth of a GiB
    return replace(spec, memory_gib=bound, transformers_version=installed_version())


def _dtype_for(precision: str) -> str:
    return next(d for d, p in DTYPE_PRECISION.items() if p == precision)


def installed_version() -> str:
    try:
        return metadata.version("transformers")
    except metadata.PackageNotFoundError:
        raise _bad("arch", "Hugging Face models need transformers: pip install 'crucible[hf]'") from None


def _transformers() -> Any:
    """transformers, imported on first use (seconds; never at CLI start-up)."""
    installed_version()
    import transformers  # noqa: PLC0415

    transformers.logging.set_verbosity_error()  # type: ignore[no-untyped-call]  # config-validation chatter about token ids we deliberately unset
    return transformers


def _require_version(spec: HFModelSpec) -> None:
    if spec.transformers_version and spec.transformers_version != installed_version():
        raise _bad(
            "transformers_version",
            f"this job's model is built with transformers {spec.transformers_version} "
            f"and this machine has {installed_version()}; the bits of a step depend on "
            f"it: pip install 'transformers=={spec.transformers_version}'",
        )


# ---------------------------------------------------------------- configs


def transformers_config(spec: HFModelSpec) -> Any:
    """The transformers config that `spec` stands for: dropout 0, no cache, no special token ids."""
    tf = _transformers()
    common = {
        "vocab_size": spec.vocab_size,
        "tie_word_embeddings": spec.tie_word_embeddings,
        "use_cache": False,
        "bos_token_id": None,
        "eos_token_id": None,
        "pad_token_id": None,
    }
    if spec.arch == "gpt2":
        return tf.GPT2Config(
            n_positions=spec.block_size,
            n_embd=spec.n_embd,
            n_layer=spec.n_layer,
            n_head=spec.n_head,
            n_inner=spec.intermediate_size,
            layer_norm_epsilon=spec.norm_eps,
            resid_pdrop=0.0,
            embd_pdrop=0.0,
            attn_pdrop=0.0,
            **common,
        )
    return tf.LlamaConfig(
        hidden_size=spec.n_embd,
        intermediate_size=spec.intermediate_size,
        num_hidden_layers=spec.n_layer,
        num_attention_heads=spec.n_head,
        num_key_value_heads=spec.n_kv_head,
        max_position_embeddings=spec.block_size,
        rms_norm_eps=spec.norm_eps,
        rope_theta=spec.rope_theta,
        attention_dropout=0.0,
        **common,
    )


# A transformers config.json's settings that do not change the model's arithmetic (or that Crucible overrides:
# dropout is always 0), and those mapped onto HFModelSpec's fields.
_IGNORED = {
    "transformers_version",
    "architectures",
    "model_type",
    "_name_or_path",
    "id2label",
    "label2id",
    "bos_token_id",
    "eos_token_id",
    "pad_token_id",
    "sep_token_id",
    "decoder_start_token_id",
    "use_cache",
    "output_hidden_states",
    "output_attentions",
    "return_dict",
    "torchscript",
    "problem_type",
    "chunk_size_feed_forward",
    "task_specific_params",
    "tokenizer_class",
    "prefix",
    "n_ctx",
    "resid_pdrop",
    "embd_pdrop",
    "attn_pdrop",
    "attention_dropout",
    "summary_type",
    "summary_use_proj",
    "summary_activation",
    "summary_proj_to_labels",
    "summary_first_dropout",
    "is_encoder_decoder",
    "torch_dtype",
    "dtype",
}
_MAPPED = {
    "gpt2": {
        "vocab_size": "vocab_size",
        "n_positions": "block_size",
        "n_layer": "n_layer",
        "n_head": "n_head",
        "n_embd": "n_embd",
        "n_inner": "intermediate_size",
        "layer_norm_epsilon": "norm_eps",
        "tie_word_embeddings": "tie_word_embeddings",
    },
    "llama": {
        "vocab_size": "vocab_size",
        "max_position_embeddings": "block_size",
        "num_hidden_layers": "n_layer",
        "num_attention_heads": "n_head",
        "hidden_size": "n_embd",
        "num_key_value_heads": "n_kv_head",
        "intermediate_size": "intermediate_size",
        "rms_norm_eps": "norm_eps",
        "rope_theta": "rope_theta",
        "tie_word_embeddings": "tie_word_embeddings",
    },
}
_ARCH_DEFAULTS = {
    "gpt2": {"block_size": 1024, "norm_eps": 1e-5, "tie_word_embeddings": True},
    "llama": {"block_size": 2048, "norm_eps": 1e-6, "tie_word_embeddings": False},
}


def parse_model_config(data: Any, *, source: str = "the model config") -> HFModelSpec:
    """A sponsor's model config: Crucible's own form ({"arch": "gpt2"|"llama", "n_layer": ..., ...}, the fields of
    HFModelSpec) or a transformers config.json ({"model_type": "gpt2"|"llama", ...}). Anything that would make the
    built model differ from the one the config describes is refused, naming the field."""
    if not isinstance(data, dict):
        raise ModelConfigError(f"{source}: expected a JSON object", field="model")
    if "model_type" in data and "arch" not in data:
        return _from_transformers_config(data, source)
    known = {f.name for f in fields(HFModelSpec)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise _bad(
            unknown[0],
            f"not a field of an HF model config (fields: {', '.join(sorted(known))}); a "
            f'transformers config.json has a "model_type" instead of "arch"',
        )
    arch = data.get("arch")
    if arch not in ARCHS:
        raise _bad("arch", f"{arch!r} is not a supported architecture; use one of {', '.join(ARCHS)}")
    for name in ("vocab_size", "n_layer", "n_head", "n_embd"):
        if name not in data:
            raise _bad(name, "missing (an HF model config needs arch, vocab_size, n_layer, n_head and n_embd)")
    values = {**_ARCH_DEFAULTS[arch], **data}
    values.setdefault("n_kv_head", values["n_head"])
    values.setdefault("intermediate_size", 4 * values["n_embd"] if isinstance(values["n_embd"], int) else 0)
    if values.get("init", "seed") == "weights" and not data.get("weights_cid"):
        raise _bad("init", "'weights' is set by `job create --base-weights FILE`, which pins the file")
    return HFModelSpec(**values)


def _from_transformers_config(data: dict[str, Any], source: str) -> HFModelSpec:
    arch = data["model_type"]
    if arch not in ARCHS:
        raise _bad("model_type", f"{arch!r} is not a supported architecture; use one of {', '.join(ARCHS)}")
    mapping = _MAPPED[arch]
    values: dict[str, Any] = {"arch": arch, **_ARCH_DEFAULTS[arch]}
    for key, name in mapping.items():
        if key in data and data[key] is not None:
            values[name] = data[key]
    rope = data.get("rope_parameters") or {}
    if arch == "llama" and isinstance(rope, dict) and "rope_theta" in rope:
        values["rope_theta"] = rope["rope_theta"]
    dtype = data.get("dtype") or data.get("torch_dtype") or "float32"
    values["dtype"] = dtype
    for name in ("vocab_size", "n_layer", "n_head", "n_embd"):
        if name not in values:
            key = next(k for k, v in mapping.items() if v == name)
            raise _bad(key, f"missing from {source}")
    values.setdefault("n_kv_head", values["n_head"])
    values.setdefault("intermediate_size", 4 * values["n_embd"] if isinstance(values["n_embd"], int) else 0)
    spec = HFModelSpec(**values)
    # Every other setting must be what Crucible builds: compare with the config rebuilt from the spec.
    rebuilt = transformers_config(spec).to_dict()
    for key, value in data.items():
        if key in _IGNORED or key in mapping or key in ("rope_parameters", "rope_scaling"):
            continue
        if key == "head_dim" and value in (None, spec.n_embd // spec.n_head):
            continue
        if key not in rebuilt:
            raise _bad(key, f"{source} sets {key}={value!r}, a setting Crucible does not build {arch} with")
        if value != rebuilt[key]:
            raise _bad(key, f"{source} sets {key}={value!r}; Crucible builds {arch} with {key}={rebuilt[key]!r}")
    if data.get("rope_scaling") or (isinstance(rope, dict) and rope.get("rope_type", "default") != "default"):
        raise _bad("rope_scaling", f"{source} scales the rotary embedding; Crucible builds llama with the default rope")
    return spec


def read_model_config(path: str, raw: bytes) -> HFModelSpec:
    """`--model-config FILE`: JSON, then `parse_model_config`."""
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelConfigError(f"{path} is not JSON ({exc})", field="--model-config") from None
    return parse_model_config(data, source=path)


# ---------------------------------------------------------------- the model


class HFCausalLM(nn.Module):
    """A transformers causal LM behind the built-in GPT's interface: `model(ids)` -> logits (B, T, vocab), and
    `set_attention(kernel)`. The transformers model's children are registered here directly, so parameter names are
    transformers' own; tied weights (gpt2's head and embedding) are one parameter, named once."""

    net: Any  # the transformers model (a PreTrainedModel), kept out of the module tree: its children are ours

    def __init__(self, net: Any) -> None:
        super().__init__()
        if dict(net.named_parameters(recurse=False)) or dict(net.named_buffers(recurse=False)):
            raise TypeError(f"{type(net).__name__} holds tensors of its own; only its children can be adopted")
        for name, child in net.named_children():
            self.add_module(name, child)
        object.__setattr__(self, "net", net)
        self.kernel = "explicit"
        named = list(net.named_parameters(remove_duplicate=False))
        canonical = {id(p): n for n, p in reversed(list(net.named_parameters()))}
        # Tied names a state dict lists but named_parameters() does not (gpt2's lm_head.weight), and their source.
        self.aliases = {n: canonical[id(p)] for n, p in named if canonical[id(p)] != n}

    def set_attention(self, kernel: str) -> HFCausalLM:
        if kernel not in ATTENTION_KERNELS and kernel != "auto":
            raise ValueError(f"unknown attention kernel {kernel!r}; use one of {sorted(ATTENTION_KERNELS)}")
        self.net.set_attn_implementation("eager" if kernel == "explicit" else "sdpa")
        self.kernel = kernel
        return self

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """Logits for every position: (B, T) token ids -> (B, T, vocab)."""
        backend = ATTENTION_KERNELS.get(self.kernel)
        if backend is None:  # explicit: eager attention; "auto": SDPA, PyTorch picks (the unverified baseline only)
            return self.net(input_ids=idx, use_cache=False).logits  # type: ignore[no-any-return]
        with sdpa_kernel(backend):  # exactly this kernel: no silent fallback to another one (other bits)
            return self.net(input_ids=idx, use_cache=False).logits  # type: ignore[no-any-return]

    def train(self, mode: bool = True) -> HFCausalLM:
        super().train(mode)
        self.net.training = mode
        return self

    def load_state_dict(self, state_dict: Any, strict: bool = True, assign: bool = False) -> Any:
        """Checkpoints name a tied parameter once; transformers' state dict lists it under every name."""
        full = dict(state_dict)
        for alias, source in self.aliases.items():
            if alias not in full and source in full:
                full[alias] = full[source]
        return super().load_state_dict(full, strict=strict, assign=assign)


def _from_config(spec: HFModelSpec) -> Any:
    _require_version(spec)
    tf = _transformers()
    return tf.AutoModelForCausalLM.from_config(transformers_config(spec), attn_implementation="eager")


def build_model(spec: HFModelSpec, seed: int, device: torch.device, dtype: torch.dtype = torch.float32) -> HFCausalLM:
    """A freshly initialised model: transformers' own initialisation drawn from `seed` on the CPU, so the same seed
    gives the same weights on every machine (with the pinned transformers release)."""
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        net = _from_config(spec)
    finally:
        torch.random.set_rng_state(generator_state)
    return HFCausalLM(net).to(device=device, dtype=dtype)


def empty_model(spec: HFModelSpec, device: torch.device) -> HFCausalLM:
    """A model whose weights are loaded right after, allocated on `device` without initialising them. Buffers that
    no checkpoint holds (llama's rotary frequencies) are computed as usual."""
    _transformers()
    try:
        from transformers.initialization import no_init_weights  # noqa: PLC0415 - transformers 5
    except ImportError:
        from transformers.modeling_utils import no_init_weights  # type: ignore[attr-defined,no-redef]  # noqa: PLC0415
    with no_init_weights(), torch.device(device):
        net = _from_config(spec)
    net.tie_weights()  # no_init_weights skips the tying that initialisation does
    return HFCausalLM(net)


def skeleton(spec: HFModelSpec) -> HFCausalLM:
    """The model on the meta device: names and shapes only (what a checkpoint must hold)."""
    with torch.device("meta"):
        return HFCausalLM(_from_config(spec))


# ---------------------------------------------------------------- the sponsor's weights


# Tensors a transformers weight file may hold that are not parameters (old gpt2 files keep the causal mask).
_BUFFER_SUFFIXES = (".attn.bias", ".attn.masked_bias", ".rotary_emb.inv_freq")


def weights_max_bytes(spec: HFModelSpec) -> int:
    """The largest a weights file for `spec` can be: float64 at worst, an untied head copy, old gpt2 mask buffers."""
    masks = spec.n_layer * spec.block_size**2 * 4 if spec.arch == "gpt2" else 0
    return (parameter_count(spec) + spec.vocab_size * spec.n_embd) * 8 + masks + (16 << 20)


def load_weights(data: bytes, spec: HFModelSpec, *, source: str) -> dict[str, torch.Tensor]:
    """The sponsor's safetensors weights (never a pickle) as checkpoint tensors ("model." + transformers' names,
    float32), each checked against the config: every parameter present, no strangers, the config's shapes, finite.
    Names may lack the base model's prefix ("h.0..." for "transformer.h.0..."), as transformers saves bare models."""
    try:
        raw = st_load(bytes(data))
    except (SafetensorError, ValueError, OverflowError) as exc:
        raise ModelConfigError(
            f"{source}: not a safetensors file ({exc}); pickled .bin/.pt checkpoints are never "
            "loaded: convert them with safetensors first",
            field="weights",
        ) from None
    expected = {n.removeprefix("model."): shape for n, (shape, _) in parameter_shapes(spec).items()}
    model = skeleton(spec)
    tied = model.aliases
    out: dict[str, torch.Tensor] = {}
    for name in sorted(raw):
        tensor = raw[name]
        target = name if name in expected or name in tied else f"{spec.base_prefix}.{name}"
        if target in tied:
            continue  # checked below, once its source is known
        if target not in expected:
            if name.endswith(_BUFFER_SUFFIXES):
                continue
            raise ModelConfigError(
                f"{source}: tensor {name!r} is not a parameter of this {spec.arch} config (does the "
                "config match the weights?)",
                field=name,
            )
        if target in out:
            raise ModelConfigError(
                f"{source}: tensor {target!r} appears twice (with and without the {spec.base_prefix!r} prefix)",
                field=name,
            )
        if tuple(tensor.shape) != expected[target]:
            raise ModelConfigError(
                f"{source}: tensor {name!r} has shape {tuple(tensor.shape)}, the model config makes {expected[target]}",
                field=name,
            )
        if not tensor.is_floating_point():
            raise ModelConfigError(f"{source}: tensor {name!r} is {tensor.dtype}, not floating point", field=name)
        if not bool(torch.isfinite(tensor).all()):
            raise ModelConfigError(f"{source}: tensor {name!r} contains NaN or Inf", field=name)
        out[target] = tensor.to(torch.float32)
    missing = sorted(set(expected) - set(out))
    if missing:
        raise ModelConfigError(
            f"{source}: tensor {missing[0]!r} is missing ({len(missing)} parameter(s) of the "
            "config are not in the file)",
            field=missing[0],
        )
    for alias, canonical in tied.items():
        stored = raw.get(alias, raw.get(alias.removeprefix(f"{spec.base_prefix}.")))
        if stored is not None and not torch.equal(stored.to(torch.float32), out[canonical]):
            raise ModelConfigError(
                f"{source}: tensor {alias!r} differs from {canonical!r}, but the config ties them "
                "(set tie_word_embeddings to false)",
                field=alias,
            )
    return {f"model.{n}": t for n, t in out.items()}


def fetch_weights(store: Any, spec: HFModelSpec) -> dict[str, torch.Tensor]:
    """The pinned weights of an init-"weights" spec, fetched through their sha256 and checked as `load_weights`."""
    if spec.init != "weights":
        raise _bad("init", "the model is initialised from the job seed: there are no pinned weights")
    data = store.fetch(
        spec.weights_cid, max_bytes=weights_max_bytes(spec), sha256_digest=bytes.fromhex(spec.weights_sha256)
    )
    return load_weights(data, spec, source=spec.weights_cid)


def parameter_shapes(spec: HFModelSpec) -> dict[str, tuple[tuple[int, ...], torch.dtype]]:
    """Checkpoint names ("model." + transformers' names), shapes and dtypes of the parameters."""
    return {f"model.{n}": (tuple(p.shape), torch.float32) for n, p in skeleton(spec).named_parameters()}
