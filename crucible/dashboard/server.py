"""The dashboard's HTTP side: one static page and a small read-only JSON API, on 127.0.0.1 only.

    GET /               the page (crucible/dashboard/page.html: inline JS and SVG, nothing fetched from elsewhere)
    GET /api/snapshot   the latest Snapshot (crucible.dashboard.snapshot), rebuilt when a block arrives
    GET /api/health     {"block": N, "error": str | null}

A background thread follows the chain: every `poll` seconds it reads the block number and, when it moved, rebuilds
the snapshot. The page polls /api/snapshot and redraws when the block changed. Nothing here can send a transaction:
the client has no key.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any

from crucible.artifacts.store import ArtifactStore
from crucible.chain.client import ChainClient
from crucible.dashboard.snapshot import LossCache, build_snapshot
from crucible.errors import CrucibleError

log = logging.getLogger("crucible.dashboard")
HOST = "127.0.0.1"


@dataclass
class Follower:
    """Keeps the latest snapshot of the chain; `run` until `stop` is set."""

    client: ChainClient
    store: ArtifactStore | None
    poll: float = 1.0
    snapshot: bytes = b'{"chain": null, "jobs": []}'
    block: int = -1
    error: str | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    _cache: LossCache = field(default_factory=LossCache)

    def refresh(self) -> None:
        """One look at the chain; a new block rebuilds the snapshot. Errors are kept for /api/health and retried."""
        try:
            block = self.client.block_number()
            if block != self.block:
                self.snapshot = json.dumps(build_snapshot(self.client, self.store, self._cache)).encode()
                self.block, self.error = block, None
        except (CrucibleError, OSError) as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            log.warning("dashboard: %s; retrying", self.error)

    def run(self) -> None:
        while not self.stop.is_set():
            self.refresh()
            self.stop.wait(self.poll)


def page() -> bytes:
    return resources.files("crucible.dashboard").joinpath("page.html").read_bytes()


def make_server(follower: Follower, port: int) -> ThreadingHTTPServer:
    """The HTTP server on 127.0.0.1:`port` (0: a free port; read it from server.server_address)."""
    body = page()

    class Handler(BaseHTTPRequestHandler):
        server_version = "crucible-dashboard"

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path in ("/", "/index.html"):
                self._send(200, "text/html; charset=utf-8", body)
            elif path == "/api/snapshot":
                self._send(200, "application/json", follower.snapshot)
            elif path == "/api/health":
                self._send(
                    200, "application/json", json.dumps({"block": follower.block, "error": follower.error}).encode()
                )
            else:
                self._send(404, "application/json", b'{"error": "not found"}')

        def do_POST(self) -> None:
            self._send(405, "application/json", b'{"error": "the dashboard is read-only"}')

        do_PUT = do_DELETE = do_PATCH = do_POST

        def _send(self, code: int, kind: str, data: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            # The page loads nothing from anywhere else; say so to the browser as well.
            self.send_header("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; "
                             "style-src 'unsafe-inline'; img-src 'self' data:")  # fmt: skip
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("http: " + format, *args)

    server = ThreadingHTTPServer((HOST, port), Handler)
    server.daemon_threads = True
    return server
