"""Loopback JSON-RPC relays in front of one chain node: one port per client (a role process, a test's client), each
counting the requests it forwards by method, and each able to misbehave the way real RPC endpoints do:

- DOWN: nothing answers (the listening socket is closed and open connections are dropped): a node that went away;
- ERRORS: one request in `every` fails (at random, seeded: a fixed pattern would hit the same call of every pass),
  alternately with HTTP 503 and a JSON-RPC internal error (-32603): an overloaded or rate-limiting provider;
- LAGGING: the node serves the chain as it was `lag` blocks ago ("latest" means its older head, newer blocks and
  receipts do not exist yet, reads at a newer block fail with "header not found"); transactions still reach the
  chain: a backend that fell behind;
- FLAPPING: requests alternate between an up-to-date backend and a lagging one: a load balancer in front of both.

Tests, the network benchmark (RPC calls per slot) and the soak benchmark (RPC outages) use it; no shipped role
knows it is there.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from aiohttp import ClientSession, ClientTimeout, TCPConnector, web

from crucible.localnet.ports import free_port

METHOD = re.compile(rb'"method"\s*:\s*"([A-Za-z0-9_]+)"')
# Where each method takes a block tag (the position of the parameter).
BLOCK_PARAM = {"eth_call": 1, "eth_getBalance": 1, "eth_getTransactionCount": 1, "eth_getCode": 1,
               "eth_getStorageAt": 2, "eth_estimateGas": 1}  # fmt: skip


class Mode(str, Enum):
    PASS = "pass"
    DOWN = "down"
    ERRORS = "errors"
    LAGGING = "lagging"
    FLAPPING = "flapping"


@dataclass
class Port:
    """One relay port: its own client's view of the node."""

    name: str
    port: int
    mode: Mode = Mode.PASS
    every: int = 3  # ERRORS: one request in `every` fails
    lag: int = 5  # LAGGING / FLAPPING: how many blocks behind the lagging backend is
    counts: Counter[str] = field(default_factory=Counter)
    failed: int = 0  # requests answered with an injected failure
    _seq: itertools.count[int] = field(default_factory=itertools.count, repr=False)
    _rng: random.Random = field(default_factory=lambda: random.Random(12), repr=False)
    _runner: web.AppRunner | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def calls(self) -> int:
        return sum(self.counts.values())


class RpcRelay:
    """Relays on loopback in front of `upstream`, served by one event loop in a background thread."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.ports: dict[str, Port] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="rpc-relay", daemon=True)
        self._session: ClientSession | None = None
        self._head: tuple[float, int] = (0.0, 0)

    # ------------------------------------------------------------------ control (any thread)

    def start(self) -> RpcRelay:
        self._thread.start()
        self._run(self._open_session())
        return self

    def add(self, name: str, port: int | None = None) -> Port:
        """Opens a relay port for one client (a free loopback port unless given)."""
        entry = Port(name, port or free_port())
        self.ports[name] = entry
        self._run(self._listen(entry))
        return entry

    def set_mode(self, mode: Mode, *names: str, every: int | None = None, lag: int | None = None) -> None:
        """Switches the named ports (every port when none is named) to `mode`."""
        for entry in self._select(names):
            if every is not None:
                entry.every = every
            if lag is not None:
                entry.lag = lag
            was, entry.mode = entry.mode, mode
            if mode is Mode.DOWN and was is not Mode.DOWN:
                self._run(self._close_site(entry))
            elif mode is not Mode.DOWN and was is Mode.DOWN:
                self._run(self._listen(entry))

    def counts(self) -> dict[str, dict[str, int]]:
        return {name: dict(entry.counts) for name, entry in self.ports.items()}

    def close(self) -> None:
        if not self._thread.is_alive():
            return
        for entry in self.ports.values():
            self._run(self._close_site(entry))
        self._run(self._close_session())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def __enter__(self) -> RpcRelay:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _select(self, names: tuple[str, ...]) -> list[Port]:
        return [self.ports[n] for n in names] if names else list(self.ports.values())

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    # ------------------------------------------------------------------ the loop's side

    async def _open_session(self) -> None:
        self._session = ClientSession(connector=TCPConnector(limit=64), timeout=ClientTimeout(total=60))

    async def _close_session(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def _listen(self, entry: Port) -> None:
        app = web.Application(client_max_size=64 * 2**20)
        app.router.add_post("/", lambda request: self._handle(entry, request))
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", entry.port, reuse_address=True).start()
        entry._runner = runner

    async def _close_site(self, entry: Port) -> None:
        """Stops listening and closes every connection (what a client of a node that went away sees)."""
        runner, entry._runner = entry._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _handle(self, entry: Port, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        found = METHOD.search(body)
        method = found.group(1).decode() if found else "?"
        entry.counts[method] += 1
        n = next(entry._seq)
        if entry.mode is Mode.DOWN:  # a request that slipped in on a connection opened before the outage
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=503)
        if entry.mode is Mode.ERRORS and entry._rng.randrange(entry.every) == 0:
            entry.failed += 1
            if entry.failed % 2 == 0:
                return web.Response(status=503, text="upstream overloaded")
            return _json(_error(body, -32603, "Internal error"))
        lagging = entry.mode is Mode.LAGGING or (entry.mode is Mode.FLAPPING and n % 2 == 1)
        if lagging:
            return _json(await self._lagging(entry, body, method))
        return web.Response(body=await self._forward(body), content_type="application/json")

    async def _forward(self, body: bytes) -> bytes:
        assert self._session is not None
        async with self._session.post(self.upstream, data=body, headers={"Content-Type": "application/json"}) as r:
            return await r.read()

    async def _call(self, method: str, params: list[Any]) -> Any:
        reply = json.loads(await self._forward(json.dumps({"jsonrpc": "2.0", "id": 0, "method": method,
                                                            "params": params}).encode()))  # fmt: skip
        return reply.get("result")

    async def _real_head(self) -> int:
        at, head = self._head
        if time.monotonic() - at > 0.2:
            head = int(await self._call("eth_blockNumber", []), 16)
            self._head = (time.monotonic(), head)
        return head

    async def _lagging(self, entry: Port, body: bytes, method: str) -> dict[str, Any]:
        """The answer of a backend `entry.lag` blocks behind the chain."""
        request = json.loads(body)
        rid = request.get("id")
        params = list(request.get("params") or [])
        head = max(0, await self._real_head() - entry.lag)
        if method == "eth_blockNumber":
            return {"jsonrpc": "2.0", "id": rid, "result": hex(head)}
        if method == "eth_getBlockByNumber":
            number = _tag(params[0], head)
            if number > head:
                return {"jsonrpc": "2.0", "id": rid, "result": None}
            params[0] = hex(number)
        elif method == "eth_getTransactionReceipt":
            receipt = await self._call(method, params)
            if receipt is not None and int(receipt["blockNumber"], 16) > head:
                receipt = None
            return {"jsonrpc": "2.0", "id": rid, "result": receipt}
        elif method == "eth_getLogs":
            query = dict(params[0])
            for key in ("fromBlock", "toBlock"):
                if key in query and _tag(query[key], head) > head:
                    return {"jsonrpc": "2.0", "id": rid, "error": {"code": -32000, "message": "header not found"}}
            query["toBlock"] = hex(_tag(query.get("toBlock", "latest"), head))
            params[0] = query
        elif method in BLOCK_PARAM:
            position = BLOCK_PARAM[method]
            tag = params[position] if len(params) > position else "latest"
            number = _tag(tag, head) if tag != "pending" else None
            if number is not None:
                if number > head:
                    return {"jsonrpc": "2.0", "id": rid, "error": {"code": -32000, "message": "header not found"}}
                params = params[:position] + [hex(number)] + params[position + 1 :]
        reply = json.loads(await self._forward(json.dumps({**request, "params": params}).encode()))
        return dict(reply)


def _tag(tag: Any, head: int) -> int:
    """A block parameter as a number, "latest" (and "safe", "finalized") being the lagging node's head."""
    if isinstance(tag, dict):  # EIP-1898 {"blockNumber": ...} / {"blockHash": ...}
        tag = tag.get("blockNumber", "latest")
    if tag in ("latest", "safe", "finalized", "pending", None):
        return head
    if tag == "earliest":
        return 0
    return int(tag, 16) if isinstance(tag, str) else int(tag)


def _error(body: bytes, code: int, message: str) -> dict[str, Any]:
    try:
        rid = json.loads(body).get("id")
    except (ValueError, AttributeError):
        rid = None
    return {"jsonrpc": "2.0", "id": rid, "error": {"code": code, "message": message}}


def _json(payload: dict[str, Any]) -> web.Response:
    return web.Response(text=json.dumps(payload), content_type="application/json")
