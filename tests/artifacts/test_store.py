"""The artifact store on a real Kubo node: bytes go in pinned, come out bounded and checked, or fail clearly."""

from __future__ import annotations

import os

import pytest

from crucible.artifacts.store import ArtifactStore, sha256
from crucible.errors import ArtifactNotFound, ArtifactTooLarge, DigestMismatch, IpfsUnavailable
from crucible.localnet.kubo import KuboNode


def test_added_bytes_come_back_verified_and_pinned(store: ArtifactStore) -> None:
    data = os.urandom(1_500_000)  # several blocks: a real DAG, not one raw block
    cid = store.add(data)
    assert cid.startswith("bafy") and store.is_pinned(cid)
    assert store.cid_of(data) == cid
    assert store.fetch(cid, max_bytes=len(data), sha256_digest=sha256(data)) == data


def test_bytes_that_do_not_match_the_committed_digest_are_refused(store: ArtifactStore) -> None:
    cid = store.add(b"what the miner pinned")
    with pytest.raises(DigestMismatch, match="does not match the committed digest"):
        store.fetch(cid, max_bytes=1_000, sha256_digest=sha256(b"what the miner committed"))


def test_an_oversized_download_is_refused_before_it_is_read(store: ArtifactStore) -> None:
    cid = store.add(b"x" * 10_000)
    with pytest.raises(ArtifactTooLarge, match="over the 9,999-byte limit"):
        store.fetch(cid, max_bytes=9_999)


def test_an_unknown_cid_is_not_found(store: ArtifactStore) -> None:
    missing = ArtifactStore.cid_of(store, b"never added anywhere " + os.urandom(8))
    with pytest.raises(ArtifactNotFound):
        store.fetch(missing, max_bytes=1_000)


def test_unpinned_content_is_no_longer_pinned(store: ArtifactStore) -> None:
    cid = store.add(b"evidence kept only while disputed")
    store.unpin(cid)
    assert not store.is_pinned(cid)
    store.pin(cid)
    assert store.is_pinned(cid)


def test_a_kubo_that_went_away_is_one_clear_error_and_a_restart_keeps_the_pins(tmp_path) -> None:  # type: ignore[no-untyped-def]
    node = KuboNode.start(tmp_path / "repo")
    try:
        cid = ArtifactStore(node.api_multiaddr).add(b"survives a restart")
        node.stop()
        with pytest.raises(IpfsUnavailable, match="cannot reach Kubo"):
            ArtifactStore(node.api_multiaddr, timeout=3).fetch(cid, max_bytes=100)
        node = node.restart()
        assert ArtifactStore(node.api_multiaddr).fetch(cid, max_bytes=100) == b"survives a restart"
    finally:
        node.close()
