"""Anyone can check a past verdict from public data alone: the revealed verdict and evidence digest on-chain, the
evidence bundle on IPFS (checked against that digest), and an independent replay of the same subject."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import torch

from crucible.artifacts.store import ArtifactStore
from crucible.chain.client import ChainClient
from crucible.errors import ArtifactError, ConfigError, IpfsUnavailable
from crucible.protocol import ledger
from crucible.protocol.events import VerdictRevealed, fetch
from crucible.protocol.jobs import load_job, round_base
from crucible.protocol.types import Panel
from validator.aggregate_audit import audit_aggregate
from validator.audit import audit_slot

EVIDENCE_LIMIT = 4 << 20


@dataclass
class VerdictCheck:
    job: int
    round: int
    slot: int
    panel: str
    seat: int
    validator: str
    on_chain: str
    replayed: str
    agrees: bool
    evidence_ok: bool
    evidence_reason: str
    replay_reason: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def verify_verdict(
    client: ChainClient, store: ArtifactStore, job_id: int, round_: int, slot: int, panel: Panel, seat: int,
    device: torch.device,
) -> VerdictCheck:  # fmt: skip
    subject = ledger.subject_of(client, job_id, round_, slot)
    logs = [e for e in fetch(client, VerdictRevealed, subject=subject.key) if e.panel == panel and e.seat == seat]
    if not logs:
        raise ConfigError(f"no revealed {panel.name.lower()} verdict for seat {seat} of job {job_id} round {round_} "
                          f"slot {slot}")  # fmt: skip
    revealed = logs[-1]
    evidence_ok, evidence_reason = True, ""
    try:
        raw = store.fetch(revealed.evidence_cid, max_bytes=EVIDENCE_LIMIT, sha256_digest=revealed.evidence_digest)
        evidence_reason = str(json.loads(raw).get("reason", ""))
    except IpfsUnavailable:
        raise
    except (ArtifactError, ValueError) as exc:
        evidence_ok, evidence_reason = False, f"evidence unavailable or altered: {exc}"
    job = load_job(client, store, job_id)
    if slot >= job.record.params.slots_per_round:
        report = audit_aggregate(client, store, job, round_, slot)
    else:
        base = round_base(client, store, job, round_)
        report = audit_slot(client, store, job_id, round_, slot, job.spec, job.dataset, base, job.tolerance, device)
    on_chain = revealed.verdict
    return VerdictCheck(job_id, round_, slot, panel.name, seat, revealed.validator, on_chain.name, report.verdict.name,
                        report.verdict == on_chain, evidence_ok, evidence_reason, report.reason)  # fmt: skip
