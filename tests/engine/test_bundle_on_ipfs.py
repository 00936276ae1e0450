"""A miner's bundle goes onto a real Kubo node; a validator gets it back only through the digests the chain and the
manifest commit, and every tampering is refused with a reason."""

from __future__ import annotations

import json

import pytest

from crucible.artifacts.store import ArtifactStore, sha256
from crucible.engine.bundle import DatasetRef, fetch_checkpoint, fetch_manifest, fetch_traces, pin_checkpoints, publish
from crucible.engine.data import dataset_bytes
from crucible.engine.determinism import fingerprint
from crucible.engine.segment import SegmentSpec, load_checkpoint, run_segment
from crucible.errors import DigestMismatch, MalformedArtifact

from .conftest import MINER


@pytest.fixture(scope="module")
def published(store: ArtifactStore, cfg, base, datasets, device, tmp_path_factory):  # type: ignore[no-untyped-def]
    spec = SegmentSpec(5, 0, 1, MINER, "sft", cfg, intervals=3)
    run = run_segment(spec, base, datasets["sft"], tmp_path_factory.mktemp("work"), device)
    data = dataset_bytes(datasets["sft"])
    ref = DatasetRef(store.add(data), sha256(data))
    bundle = publish(store, run, ref, fingerprint(device, "fp32"), parent_digest=sha256(b"base"))
    return spec, run, bundle


def test_a_validator_fetches_the_bundle_through_its_committed_digests(store, published) -> None:  # type: ignore[no-untyped-def]
    spec, run, bundle = published
    manifest = fetch_manifest(store, bundle.cid, merkle_root=run.merkle_root, result_digest=run.result_digest)
    assert manifest["fingerprint"]["deterministic"] is True and manifest["spec"]["kind"] == "sft"
    assert fetch_traces(store, manifest) == run.traces
    (cid,) = pin_checkpoints(store, run, [2])
    data = fetch_checkpoint(store, cid, run.checkpoint_digests[2], spec, max_bytes=1 << 22)
    assert set(load_checkpoint(data, spec.model)) >= {"model.head.weight", "opt.step"}


def test_a_manifest_that_does_not_match_the_chain_is_refused(store, published) -> None:  # type: ignore[no-untyped-def]
    _, run, bundle = published
    with pytest.raises(DigestMismatch, match="Merkle root"):
        fetch_manifest(store, bundle.cid, merkle_root=b"\x00" * 32, result_digest=run.result_digest)
    with pytest.raises(DigestMismatch, match="result digest"):
        fetch_manifest(store, bundle.cid, merkle_root=run.merkle_root, result_digest=b"\x00" * 32)


def test_a_manifest_that_fails_its_schema_is_refused(store, published) -> None:  # type: ignore[no-untyped-def]
    _, run, bundle = published
    broken = dict(bundle.manifest, miner="not an address")
    cid = store.add(json.dumps(broken).encode())
    with pytest.raises(MalformedArtifact, match="schema at miner"):
        fetch_manifest(store, cid, merkle_root=run.merkle_root, result_digest=run.result_digest)


def test_a_tampered_trace_is_refused(store, published) -> None:  # type: ignore[no-untyped-def]
    _, run, bundle = published
    forged = json.loads(json.dumps(run.traces))
    forged[1][0]["loss"] = 0.0
    data = json.dumps(forged).encode()
    manifest = json.loads(json.dumps(bundle.manifest))
    manifest["artifacts"]["trace"] = {"cid": store.add(data), "sha256": sha256(data).hex(), "size": len(data)}
    with pytest.raises(DigestMismatch, match="trace of interval 1"):
        fetch_traces(store, manifest)


def test_a_checkpoint_whose_bytes_differ_from_the_revealed_digest_is_refused(store, published) -> None:  # type: ignore[no-untyped-def]
    spec, run, _ = published
    (cid,) = pin_checkpoints(store, run, [1])
    with pytest.raises(DigestMismatch):
        fetch_checkpoint(store, cid, run.checkpoint_digests[2], spec, max_bytes=1 << 22)
