"""`crucible network up` as a user runs it: anvil and Kubo on loopback, contracts deployed, and Ctrl-C leaves
nothing running."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from crucible.artifacts.store import ArtifactStore
from crucible.chain.client import ChainClient
from crucible.chain.deployment import load_deployment
from crucible.localnet.ports import free_port, wait_for_port
from crucible.paths import REPO_ROOT


def test_network_up_serves_chain_and_ipfs_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    process = subprocess.Popen(
        [sys.executable, "-m", "crucible", "--json", "network", "up", "--port", str(port), "--run-dir", str(tmp_path)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        line = ""
        while time.monotonic() < deadline and not line:
            ready, _, _ = select.select([process.stdout], [], [], 1.0)
            if ready:
                line = process.stdout.readline()  # type: ignore[union-attr]
        summary = json.loads(line)
        assert summary["rpc_url"] == f"http://127.0.0.1:{port}"
        assert summary["ipfs_api"].startswith("/ip4/127.0.0.1/tcp/")
        client = ChainClient.open(summary["rpc_url"], load_deployment(Path(summary["deployment_file"])))
        assert client.call(client.token.functions.name()) == "Crucible"
        cid = ArtifactStore(summary["ipfs_api"]).add(b"hello from the local network")
        assert ArtifactStore(summary["ipfs_api"]).fetch(cid, max_bytes=100) == b"hello from the local network"
        api_port = int(summary["ipfs_api"].split("/")[4])
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
    assert not wait_for_port(port, timeout=1), "anvil still listening after Ctrl-C"
    assert not wait_for_port(api_port, timeout=1), "Kubo still listening after Ctrl-C"
