"""Checking an aggregate: recompute the round's average from public data (the round's base and the accepted results,
each fetched through its committed digest) and compare it bit for bit with what the aggregator committed."""

from __future__ import annotations

from crucible.artifacts.store import ArtifactStore
from crucible.chain.client import ChainClient
from crucible.engine.aggregate import aggregate, aggregate_digest
from crucible.engine.segment import checkpoint_max_bytes
from crucible.errors import ArtifactError, IpfsUnavailable
from crucible.protocol.jobs import LoadedJob, accepted_results, round_base, submission
from crucible.protocol.types import Verdict
from validator.audit import AuditReport


def audit_aggregate(client: ChainClient, store: ArtifactStore, job: LoadedJob, round_: int, slot: int) -> AuditReport:
    try:
        submitted = submission(client, job.record.job_id, round_, slot)
        claimed = submitted.commitment.result_digest
        # The next round trains from these bytes: they must be fetchable and match the committed digest.
        store.fetch(submitted.bundle_cid, max_bytes=checkpoint_max_bytes(job.spec.model), sha256_digest=claimed)
        expected = aggregate_digest(aggregate(round_base(client, store, job, round_),
                                              accepted_results(client, store, job, round_)))  # fmt: skip
    except IpfsUnavailable:
        raise
    except ArtifactError as exc:
        return AuditReport(Verdict.FAIL, f"aggregate rejected: {exc}")
    if expected != claimed:
        return AuditReport(Verdict.FAIL, f"the aggregate is {claimed.hex()}, recomputing it gives {expected.hex()}")
    return AuditReport(Verdict.PASS, "the aggregate recomputes bit for bit")
