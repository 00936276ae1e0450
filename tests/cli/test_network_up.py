"""`crucible network up` as a user and a service manager run it: anvil mining by itself and Kubo on loopback,
contracts deployed, dev accounts printed; SIGTERM or SIGINT (even when inherited as ignored) stops both children;
the chain, the deployment and Kubo's address survive a restart; a port it did not start is never used."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from crucible.artifacts.store import ArtifactStore
from crucible.chain.client import ChainClient
from crucible.chain.deployment import load_deployment
from crucible.localnet.ports import free_port, wait_for_port
from tests.process import CRUCIBLE, children_of, crucible_env, ignore_sigint, pid_alive, spawn, timed_wait, wait_for


def _up_env(tmp_path: Path, port: int, api: int) -> dict[str, str]:
    return crucible_env(HOME=str(tmp_path / "home"), CRUCIBLE_RPC_URL=f"http://127.0.0.1:{port}",
                        CRUCIBLE_IPFS_API=f"/ip4/127.0.0.1/tcp/{api}/http",
                        CRUCIBLE_DEPLOYMENT=str(tmp_path / "deployment.json"),
                        CRUCIBLE_CACHE=os.environ.get("CRUCIBLE_CACHE", str(Path.home() / ".cache" / "crucible")))  # fmt: skip


def _first_json_line(process: Any, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"network up exited early ({process.returncode}): {process.stderr.read()[-3000:]}")
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if ready:
            line = process.stdout.readline()
            if line.strip():
                return json.loads(line)
    raise AssertionError("network up printed nothing in time")


def _kill_children(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_network_up_mines_by_itself_and_sigterm_stops_anvil_and_kubo_and_a_restart_keeps_the_chain(tmp_path: Path) -> None:  # fmt: skip
    port, api = free_port(), free_port()
    env = _up_env(tmp_path, port, api)
    children: list[int] = []
    try:
        with spawn([*CRUCIBLE, "--json", "network", "up"], env=env, cwd=tmp_path) as process:
            summary = _first_json_line(process)
            children = children_of(process.pid)
            assert len(children) == 2, "anvil and Kubo run as children of network up"
            assert summary["rpc_url"] == f"http://127.0.0.1:{port}" and summary["ipfs_api"] == env["CRUCIBLE_IPFS_API"]
            assert summary["deployment"] == "new" and summary["block_time"] == 1
            assert Path(summary["ipfs_repo"]) == tmp_path / "home" / ".crucible" / "localnet" / "ipfs"
            assert len(summary["accounts"]) == 10 and summary["accounts"][0]["address"].startswith("0x")
            client = ChainClient.open(summary["rpc_url"], load_deployment(Path(summary["deployment_file"])))
            assert client.call(client.token.functions.name()) == "Crucible"
            first = client.block_number()
            wait_for(lambda: client.block_number() >= first + 2, 10, "blocks mined without any transaction")
            cid = ArtifactStore(summary["ipfs_api"]).add(b"kept across restarts")
            process.send_signal(signal.SIGTERM)
            code, took = timed_wait(process, 10)
            assert code == 0 and took < 10
            assert "stopped" in process.stderr.read()
        assert not any(pid_alive(pid) for pid in children), "anvil or Kubo outlived network up"
        assert not wait_for_port(port, timeout=1) and not wait_for_port(api, timeout=1)

        with spawn([*CRUCIBLE, "--json", "network", "up"], env=env, cwd=tmp_path) as process:
            again = _first_json_line(process)
            children = children_of(process.pid)
            assert again["deployment"] == "reused" and again["ipfs_api"] == summary["ipfs_api"]
            assert again["ipfs_gateway"] == summary["ipfs_gateway"]
            client = ChainClient.open(again["rpc_url"], load_deployment(Path(again["deployment_file"])))
            assert client.block_number() >= first + 2, "the chain starts where it stopped"
            assert ArtifactStore(again["ipfs_api"]).fetch(cid, max_bytes=100) == b"kept across restarts"
            process.send_signal(signal.SIGTERM)
            assert timed_wait(process, 10)[0] == 0
    finally:
        _kill_children(children)


def test_sigint_stops_network_up_even_when_it_started_with_sigint_ignored(tmp_path: Path) -> None:
    port, api = free_port(), free_port()
    children: list[int] = []
    try:
        with spawn([*CRUCIBLE, "--json", "network", "up"], env=_up_env(tmp_path, port, api), cwd=tmp_path,
                   preexec_fn=ignore_sigint) as process:  # fmt: skip
            _first_json_line(process)
            children = children_of(process.pid)
            os.kill(process.pid, signal.SIGINT)  # what `kill -INT` does to a background job of a script
            code, took = timed_wait(process, 10)
            assert code == 130
        assert not any(pid_alive(pid) for pid in children)
    finally:
        _kill_children(children)


def test_network_up_killed_outright_takes_its_children_with_it(tmp_path: Path) -> None:
    port, api = free_port(), free_port()
    children: list[int] = []
    try:
        with spawn([*CRUCIBLE, "--json", "network", "up"], env=_up_env(tmp_path, port, api), cwd=tmp_path) as process:
            _first_json_line(process)
            children = children_of(process.pid)
            process.kill()  # SIGKILL: no handler runs; the kernel tells anvil and Kubo (PR_SET_PDEATHSIG)
            process.wait(timeout=10)
        wait_for(lambda: not any(pid_alive(pid) for pid in children), 10, "anvil and Kubo to exit")
    finally:
        _kill_children(children)


def test_a_held_port_is_a_clear_error_and_nothing_is_deployed_onto_it(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        env = _up_env(tmp_path, port, free_port())
        with spawn([*CRUCIBLE, "network", "up"], env=env, cwd=tmp_path) as process:
            code, _ = timed_wait(process, 60)
            err = process.stderr.read()
        assert code == 1 and f"127.0.0.1:{port} is already in use" in err and "Traceback" not in err
        assert not (tmp_path / "deployment.json").exists()


@pytest.mark.parametrize("args", [["--block-time", "0"], ["--ipfs-api", "http://127.0.0.1"], ["--accounts", "x"]])
def test_bad_network_up_options_are_one_line(tmp_path: Path, args: list[str]) -> None:
    with spawn([*CRUCIBLE, "network", "up", *args], env=_up_env(tmp_path, free_port(), free_port())) as process:
        code, _ = timed_wait(process, 60)
        err = process.stderr.read()
    assert code == 2 and "Traceback" not in err and args[0] in err
