"""A loopback TCP relay in front of anvil that a test can cut and restore: the RPC "going away" for real (connections
refused), while the chain behind it keeps its state."""

from __future__ import annotations

import socket
import threading
from contextlib import suppress

from crucible.localnet.ports import free_port


class Relay:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._server: socket.socket | None = None
        self._stop = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Relay:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(16)
        server.settimeout(0.2)
        self._server, self._stop = server, threading.Event()
        threading.Thread(target=self._accept, args=(server, self._stop), daemon=True).start()
        return self

    def cut(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.close()
            self._server = None

    def _accept(self, server: socket.socket, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                client, _ = server.accept()
            except (TimeoutError, OSError):
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(a, b, stop), daemon=True).start()


def _pipe(src: socket.socket, dst: socket.socket, stop: threading.Event) -> None:
    src.settimeout(0.2)
    with suppress(OSError):
        while not stop.is_set():
            try:
                data = src.recv(65536)
            except TimeoutError:
                continue
            if not data:
                break
            dst.sendall(data)
    for s in (src, dst):
        with suppress(OSError):
            s.close()
