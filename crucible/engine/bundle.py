"""A miner's bundle on IPFS: manifest.json, the result weights and the trace, each checked by a validator against
what the chain and the manifest commit before it is parsed. Intermediate checkpoints are hashed in the manifest
(BLAKE3, the checkpoint digest) and pinned only when an audit samples them; so are the states an audit's replay
window names, which the trace binds step by step."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import jsonschema

from crucible.artifacts.store import ArtifactStore
from crucible.engine.checkpoint import checkpoint_digest, digest
from crucible.engine.determinism import Fingerprint
from crucible.engine.segment import SegmentRun, SegmentSpec, trace_digest
from crucible.errors import DigestMismatch, MalformedArtifact

MANIFEST_LIMIT = 1 << 20  # 1 MiB
TRACE_LIMIT = 64 << 20  # 64 MiB


@lru_cache(maxsize=1)
def manifest_schema() -> dict[str, Any]:
    return json.loads(resources.files("crucible").joinpath("schemas/manifest.json").read_text())


def validate_manifest(data: dict[str, Any]) -> None:
    try:
        jsonschema.validate(data, manifest_schema())
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        raise MalformedArtifact(f"manifest fails its schema at {where}: {exc.message}") from None


@dataclass(frozen=True)
class DatasetRef:
    cid: str
    sha256: bytes


@dataclass(frozen=True)
class PublishedBundle:
    cid: str
    manifest: dict[str, Any]


def publish(
    store: ArtifactStore, run: SegmentRun, dataset: DatasetRef, fingerprint: Fingerprint, parent_digest: bytes
) -> PublishedBundle:
    """Pins the result and the trace, then the manifest that names them; returns the manifest's CID."""
    trace_bytes = json.dumps(run.traces, sort_keys=True, separators=(",", ":")).encode()
    result_cid = store.add(run.result_bytes)
    trace_cid = store.add(trace_bytes)
    spec = run.spec
    manifest = {
        "format": "crucible-bundle-v1",
        "job_id": spec.job_id,
        "round": spec.round,
        "slot": spec.slot,
        "miner": spec.miner,
        "parent_digest": parent_digest.hex(),
        "spec": spec.to_json(),
        "dataset": {"cid": dataset.cid, "sha256": dataset.sha256.hex()},
        "fingerprint": fingerprint.to_json(),
        "merkle_root": run.merkle_root.hex(),
        "checkpoints": [
            {"index": i, "blake3": d.hex(), "size": run.checkpoint_size or p.stat().st_size}
            for i, (d, p) in enumerate(zip(run.checkpoint_digests, run.checkpoint_paths, strict=True))
        ],
        "traces": [d.hex() for d in run.trace_digests],
        "artifacts": {
            "result": {"cid": result_cid, "sha256": run.result_digest.hex(), "size": len(run.result_bytes)},
            "trace": {"cid": trace_cid, "sha256": digest(trace_bytes).hex(), "size": len(trace_bytes)},
        },
    }
    validate_manifest(manifest)
    cid = store.add(json.dumps(manifest, sort_keys=True).encode())
    return PublishedBundle(cid, manifest)


def fetch_manifest(store: ArtifactStore, cid: str, *, merkle_root: bytes, result_digest: bytes) -> dict[str, Any]:
    """The manifest of `cid`, checked against the bytes' CID and the on-chain Merkle root and result digest."""
    raw = store.fetch(cid, max_bytes=MANIFEST_LIMIT)
    if store.cid_of(raw) != cid:
        raise DigestMismatch(f"manifest bytes do not hash to their CID {cid}")
    try:
        manifest = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedArtifact(f"manifest {cid} is not JSON: {exc}") from None
    validate_manifest(manifest)
    if bytes.fromhex(manifest["merkle_root"]) != merkle_root:
        raise DigestMismatch("the manifest's Merkle root is not the one committed on-chain")
    if bytes.fromhex(manifest["artifacts"]["result"]["sha256"]) != result_digest:
        raise DigestMismatch("the manifest's result digest is not the one committed on-chain")
    return manifest


def fetch_traces(store: ArtifactStore, manifest: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """The per-interval trace records, checked against the manifest's digests."""
    ref = manifest["artifacts"]["trace"]
    raw = store.fetch(ref["cid"], max_bytes=min(int(ref["size"]), TRACE_LIMIT), sha256_digest=bytes.fromhex(ref["sha256"]))
    try:
        traces = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedArtifact(f"trace is not JSON: {exc}") from None
    if not isinstance(traces, list) or len(traces) != len(manifest["traces"]):
        raise MalformedArtifact("trace does not have one record list per checkpoint boundary")
    for i, (records, expected) in enumerate(zip(traces, manifest["traces"], strict=True)):
        if trace_digest(records).hex() != expected:
            raise DigestMismatch(f"trace of interval {i} does not match its digest in the manifest")
    return traces


def pin_checkpoints(store: ArtifactStore, run: SegmentRun, indices: list[int]) -> list[str]:
    """Pins the sampled boundaries' checkpoints (the miner's answer to an audit); returns their CIDs."""
    return [store.add(run.checkpoint_paths[i].read_bytes()) for i in indices]


def pin_states(store: ArtifactStore, states: list[bytes]) -> list[str]:
    """Pins checkpoints the miner recomputed for an audit's replay windows; returns their CIDs."""
    return [store.add(data) for data in states]


def fetch_checkpoint(store: ArtifactStore, cid: str, expected_digest: bytes, spec: SegmentSpec, max_bytes: int) -> bytes:
    """A checkpoint's bytes, verified against the checkpoint digest the chain or the trace commits (parse them with
    load_checkpoint)."""
    data = store.fetch(cid, max_bytes=max_bytes)
    actual = checkpoint_digest(data)
    if actual != expected_digest:
        raise DigestMismatch(f"{cid}: checkpoint digest {actual.hex()} does not match the committed {expected_digest.hex()}")
    return data
