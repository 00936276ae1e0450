"""An artifact store on a Kubo node's RPC API.

IPFS is transport and availability; the chain is the truth. `fetch` therefore takes the digest committed
on-chain and checks every byte against it before anything is parsed, and refuses anything larger than the limit
the caller gives (checked from the DAG's stated size first, then enforced while reading).

ipfshttpclient 0.7 (the maintained Python client) refuses any daemon newer than 0.8 in `connect()` through a
hard-coded version range, although the RPC calls we use are unchanged in Kubo 0.43. We construct
`ipfshttpclient.Client` directly, which skips that check, and enforce our own minimum (MIN_KUBO) instead; the
tests run every call we use against the pinned Kubo.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass, field
from typing import Any

# ipfshttpclient passes urllib3 a deprecated `strict` argument; the warning says nothing to our users.
warnings.filterwarnings("ignore", message="The 'strict' parameter", category=FutureWarning)

import ipfshttpclient  # noqa: E402 - after the warning filter
from ipfshttpclient.exceptions import ConnectionError as IpfsConnectionError  # noqa: E402
from ipfshttpclient.exceptions import ErrorResponse  # noqa: E402
from ipfshttpclient.exceptions import TimeoutError as IpfsTimeoutError  # noqa: E402

from crucible.errors import ArtifactNotFound, ArtifactTooLarge, DigestMismatch, IpfsUnavailable  # noqa: E402

MIN_KUBO = (0, 30, 0)
ADD_OPTIONS = {"cid-version": 1, "raw-leaves": True}


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


@dataclass
class ArtifactStore:
    """Add, pin, fetch (bounded, verified) and unpin artifacts through one Kubo node."""

    api_multiaddr: str
    timeout: float = 30.0
    _client: Any = field(default=None, repr=False)

    def client(self) -> Any:
        if self._client is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # urllib3 deprecation noise inside ipfshttpclient
                self._client = ipfshttpclient.Client(self.api_multiaddr, timeout=self.timeout)
            version = self._call(lambda c: c.version())["Version"]
            if _version_tuple(version) < MIN_KUBO:
                raise IpfsUnavailable(f"Kubo {version} at {self.api_multiaddr} is older than {MIN_KUBO}")
        return self._client

    def add(self, data: bytes, *, pin: bool = True) -> str:
        """Stores `data` and returns its CID (v1, raw leaves). Pinned unless told otherwise."""
        cid = str(self._call(lambda c: c.add_bytes(data, opts={**ADD_OPTIONS, "pin": pin})))
        return cid

    def cid_of(self, data: bytes) -> str:
        """The CID `data` would get, computed by Kubo without storing it."""
        return str(self._call(lambda c: c.add_bytes(data, opts={**ADD_OPTIONS, "only-hash": True})))

    def size_of(self, cid: str) -> int:
        stat = self._call(lambda c: c.files.stat(f"/ipfs/{cid}", timeout=self.timeout), cid=cid)
        return int(stat["CumulativeSize"] if stat.get("Type") != "file" else stat["Size"])

    def fetch(self, cid: str, *, max_bytes: int, sha256_digest: bytes | None = None) -> bytes:
        """The bytes of `cid`, at most `max_bytes` of them, checked against `sha256_digest` when given."""
        stated = self.size_of(cid)
        if stated > max_bytes:
            raise ArtifactTooLarge(f"{cid} is {stated:,} bytes, over the {max_bytes:,}-byte limit")
        data = bytes(self._call(lambda c: c.cat(cid, length=max_bytes + 1, timeout=self.timeout), cid=cid))
        if len(data) > max_bytes:
            raise ArtifactTooLarge(f"{cid} holds more than {max_bytes:,} bytes")
        if sha256_digest is not None and sha256(data) != sha256_digest:
            raise DigestMismatch(
                f"{cid}: sha256 {sha256(data).hex()} does not match the committed digest {sha256_digest.hex()}"
            )
        return data

    def pin(self, cid: str) -> None:
        self._call(lambda c: c.pin.add(cid, timeout=self.timeout), cid=cid)

    def unpin(self, cid: str) -> None:
        self._call(lambda c: c.pin.rm(cid), cid=cid)

    def is_pinned(self, cid: str) -> bool:
        pins = self._call(lambda c: c.pin.ls(type="recursive"))["Keys"]
        return cid in pins

    def _call(self, fn: Any, *, cid: str | None = None) -> Any:
        client = self._client if self._client is not None else self.client()
        try:
            return fn(client)
        except (IpfsConnectionError, ConnectionError) as exc:
            raise IpfsUnavailable(f"cannot reach Kubo at {self.api_multiaddr}") from exc
        except IpfsTimeoutError as exc:
            raise ArtifactNotFound(f"{cid}: no provider answered within {self.timeout:g} s") from exc
        except ErrorResponse as exc:
            text = str(exc)
            if cid is not None and ("not found" in text or "could not find" in text or "invalid" in text.lower()):
                raise ArtifactNotFound(f"{cid}: {text}") from exc
            raise IpfsUnavailable(f"Kubo refused the request: {text}") from exc


def _version_tuple(version: str) -> tuple[int, ...]:
    core = version.split("-")[0]
    return tuple(int(p) for p in core.split(".")[:3] if p.isdigit())
