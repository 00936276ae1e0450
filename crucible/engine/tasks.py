"""The loss of one step for each job kind. GRPO's rollouts are sampled by the miner (seeded) and replayed by the
validator from the trace, after it recomputes their rewards exactly and checks their log-probabilities."""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from crucible.engine.data import PAD, SEMI, decode
from crucible.engine.model import GPT


def token_logprobs(model: GPT, tokens: torch.Tensor) -> torch.Tensor:
    """log p(token_t | tokens_<t) for t >= 1: (B, T+1) -> (B, T)."""
    logits = model(tokens[:, :-1])  # (B, T, V)
    return torch.log_softmax(logits.float(), dim=-1).gather(-1, tokens[:, 1:].unsqueeze(-1)).squeeze(-1)


def pretrain_loss(model: GPT, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    tokens = batch["tokens"]
    logits = model(tokens[:, :-1])
    return F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), tokens[:, 1:].reshape(-1))


def sft_loss(model: GPT, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Cross-entropy on response tokens only."""
    logp = token_logprobs(model, batch["tokens"])  # (B, T)
    mask = batch["loss_mask"]
    return -(logp * mask).sum() / mask.sum().clamp(min=1)


def dpo_loss(model: GPT, reference: GPT, batch: dict[str, torch.Tensor], beta: float) -> torch.Tensor:
    """Direct preference optimisation against a frozen reference model."""
    def seq_logp(net: GPT, key: str) -> torch.Tensor:
        return (token_logprobs(net, batch[key]) * batch[f"{key}_mask"]).sum(-1)  # (B,)

    with torch.no_grad():
        ref_c, ref_r = seq_logp(reference, "chosen"), seq_logp(reference, "rejected")
    margin = (seq_logp(model, "chosen") - ref_c) - (seq_logp(model, "rejected") - ref_r)
    return -F.logsigmoid(beta * margin).mean()


# ---------------------------------------------------------------- GRPO


@dataclass
class Rollouts:
    """Sampled completions for a batch of prompts: `group` completions per prompt."""

    tokens: torch.Tensor  # (B*G, P+L) prompt + completion ids
    prompt_len: int
    rewards: torch.Tensor  # (B*G,)
    logprobs: torch.Tensor  # (B*G,) summed log-probability of each completion under the sampling policy

    def to_json(self) -> dict[str, object]:
        return {
            "tokens": self.tokens.tolist(),
            "prompt_len": self.prompt_len,
            "rewards": self.rewards.tolist(),
            "logprobs": [float(x) for x in self.logprobs.tolist()],
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Rollouts:
        return cls(
            tokens=torch.tensor(data["tokens"], dtype=torch.int64),
            prompt_len=int(data["prompt_len"]),  # type: ignore[arg-type]
            rewards=torch.tensor(data["rewards"], dtype=torch.float32),
            logprobs=torch.tensor(data["logprobs"], dtype=torch.float64),
        )


def exact_answer_reward(completion: list[int], answer: int) -> float:
    """1.0 for the exact answer followed by ';', 0.25 for a well-formed but wrong number, else 0.0.

    Deterministic by design, so a validator recomputes it exactly; the format credit gives a weak policy a gradient
    before it gets answers right.
    """
    text = decode(completion)
    match = re.match(r"^(\d+);", text)
    if not match:
        return 0.0
    return 1.0 if int(match.group(1)) == answer else 0.25


def completion_logprobs(model: GPT, tokens: torch.Tensor, prompt_len: int) -> torch.Tensor:
    """Summed log-probability of the completion part of each row (teacher forcing), ignoring padding."""
    logp = token_logprobs(model, tokens)[:, prompt_len - 1 :]  # (N, L)
    mask = (tokens[:, prompt_len:] != PAD).float()
    return (logp * mask).sum(-1)


@torch.no_grad()
def sample_rollouts(
    model: GPT, prompts: torch.Tensor, answers: torch.Tensor, group: int, max_new: int, generator: torch.Generator
) -> Rollouts:
    """Seeded sampling of `group` completions per prompt, stopping each at ';'."""
    tokens = prompts.repeat_interleave(group, dim=0)  # (B*G, P)
    prompt_len = tokens.size(1)
    done = torch.zeros(tokens.size(0), dtype=torch.bool)
    for _ in range(max_new):
        logits = model(tokens)[:, -1, :].float()  # (N, V)
        probs = torch.softmax(logits, dim=-1).cpu()
        nxt = torch.multinomial(probs, 1, generator=generator).squeeze(-1)
        nxt = torch.where(done, torch.full_like(nxt, PAD), nxt).to(tokens.device)
        tokens = torch.cat([tokens, nxt.unsqueeze(-1)], dim=1)
        done |= nxt.cpu() == SEMI
        if bool(done.all()):
            break
    completions = tokens[:, prompt_len:].tolist()
    rewards = torch.tensor(
        [exact_answer_reward(c, int(a)) for c, a in zip(completions, answers.repeat_interleave(group).tolist(), strict=True)]
    )
    logprobs = completion_logprobs(model, tokens, prompt_len).double().cpu()
    return Rollouts(tokens=tokens.cpu(), prompt_len=prompt_len, rewards=rewards, logprobs=logprobs)


def recompute_rewards(rollouts: Rollouts, answers: torch.Tensor, group: int) -> torch.Tensor:
    completions = rollouts.tokens[:, rollouts.prompt_len :].tolist()
    expected = answers.repeat_interleave(group).tolist()
    return torch.tensor([exact_answer_reward(c, int(a)) for c, a in zip(completions, expected, strict=True)])


def grpo_loss(model: GPT, rollouts: Rollouts, group: int, device: torch.device) -> torch.Tensor:
    """Group-relative policy gradient: advantages are rewards normalised within each prompt's group."""
    rewards = rollouts.rewards.view(-1, group)  # (B, G)
    advantages = ((rewards - rewards.mean(1, keepdim=True)) / (rewards.std(1, keepdim=True) + 1e-4)).view(-1)
    logp = completion_logprobs(model, rollouts.tokens.to(device), rollouts.prompt_len)  # (B*G,)
    return -(advantages.to(device) * logp).mean()
