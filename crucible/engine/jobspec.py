"""The job spec: model, data, task and hyperparameters, pinned on IPFS; its sha256 is the job's on-chain
`specDigest`, so every miner and validator works from the same, verifiable definition."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from typing import Any

from crucible.engine.architecture import ModelConfig, model_config_from_json
from crucible.engine.segment import SegmentSpec


@dataclass(frozen=True)
class JobSpec:
    kind: str
    model: ModelConfig  # a built-in GPT config, or a Hugging Face architecture's (its entry has an "arch")
    dataset_cid: str
    dataset_sha256: str
    job_seed: int
    precision: str = "fp32"
    steps_per_interval: int = 4
    intervals: int = 4
    batch_size: int = 8
    lr: float = 3e-3
    grpo_group: int = 4
    base_cid: str = ""  # the round-0 weights (their sha256 is the job's initialCheckpointDigest)
    tolerance_cid: str = ""  # the tolerance profile (its sha256 is the job's toleranceDigest)
    # Which tokenizer made the dataset's ids (crucible.engine.tokenizers), pinned by its digest; the generated
    # datasets use arith-v1. Miners and validators never tokenize: the dataset holds ids.
    tokenizer: str = "arith-v1"
    tokenizer_digest: str = ""
    # Rows of the sponsor's data that no slot trains on, for measuring each round's model (`crucible data add`).
    heldout_cid: str = ""
    heldout_sha256: str = ""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["model"] = self.model.to_json()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobSpec:
        return cls(**{**data, "model": model_config_from_json(data["model"])})

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":")).encode()

    def digest(self) -> bytes:
        return hashlib.sha256(self.to_bytes()).digest()

    def segment(self, job_id: int, round_: int, slot: int, miner: str) -> SegmentSpec:
        """The exact segment a slot's miner must run."""
        base = SegmentSpec(job_id, round_, slot, miner, self.kind, self.model)
        return replace(base, precision=self.precision, job_seed=self.job_seed,
                       steps_per_interval=self.steps_per_interval, intervals=self.intervals,
                       batch_size=self.batch_size, lr=self.lr, grpo_group=self.grpo_group)  # fmt: skip
