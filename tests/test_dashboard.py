"""`crucible dashboard` serves a read-only page built from public data alone: a live local network runs a job (two
honest miners, one cheater, three validators), and a real headless Chromium loads the page, which must show the job,
its held-out loss per round as a chart, stakes, submissions, verdicts, slashes and rewards, and move on as blocks
arrive. The screenshot is kept in docs/dashboard.png.

Chromium comes from the distribution's packages (scripts/setup.sh installs it where it can); the browser part skips,
saying why, only when no chromium can be found.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from crucible.artifacts.store import ArtifactStore
from crucible.localnet.drive import drive, job_settled
from crucible.localnet.kubo import KuboNode
from crucible.localnet.network import LocalNetwork
from crucible.paths import REPO_ROOT
from crucible.simulation.actors import CheatingMiner
from tests.process import CRUCIBLE, crucible_env, spawn, wait_for
from tests.protocol.roles import activate, make_miner, make_validator, post

SCREENSHOT = REPO_ROOT / "docs" / "dashboard.png"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars"]  # fmt: skip


@pytest.fixture(scope="module")
def finished_job(network: LocalNetwork, store: ArtifactStore, tmp_path_factory: pytest.TempPathFactory) -> int:
    root = tmp_path_factory.mktemp("crew")
    miners = [make_miner(network, store, 1, root), make_miner(network, store, 2, root),
              make_miner(network, store, 3, root, cls=CheatingMiner, cheat="lazy (skipped step)", aggregates=False)]  # fmt: skip
    validators = [make_validator(network, store, i, root) for i in (4, 5, 6)]
    activate(network)
    posted = post(network, store, rounds=1, slots=3)
    nodes = [(f"m{i}", m) for i, m in enumerate(miners)] + [(f"v{i}", v) for i, v in enumerate(validators)]
    drive(network, nodes, until=lambda: job_settled(network.client, validators, posted.job_id), max_passes=600)
    return posted.job_id


def _get(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as response:
        data: dict[str, Any] = json.loads(response.read())
    return data


def test_the_dashboard_shows_the_network_from_public_data(network: LocalNetwork, kubo: KuboNode, finished_job: int,
                                                          tmp_path: Path) -> None:  # fmt: skip
    env = crucible_env(
        CRUCIBLE_RPC_URL=network.rpc_url,
        CRUCIBLE_DEPLOYMENT=str(network.deployment_file),
        CRUCIBLE_IPFS_API=kubo.api_multiaddr,
    )  # no key: the dashboard signs nothing
    with spawn([*CRUCIBLE, "dashboard", "--port", "0", "--poll", "0.5"], env=env, stdout=subprocess.DEVNULL) as proc:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert match, line
        url = match.group(0)
        wait_for(lambda: _get(url + "api/health")["block"] >= 0, 60, "the first snapshot")
        wait_for(lambda: all(p["loss"] is not None for p in _get(url + "api/snapshot")["jobs"][-1]["heldout_loss"]),
                 120, "the held-out losses")  # fmt: skip
        snap = _get(url + "api/snapshot")
        job = next(j for j in snap["jobs"] if j["job"] == finished_job)
        assert job["status"] == "COMPLETED" and job["aggregated_rounds"] == [0]
        losses = [p["loss"] for p in job["heldout_loss"]]
        assert [p["point"] for p in job["heldout_loss"]] == ["base", "0"] and losses[1] < losses[0]  # it learned
        outcomes = sorted(r["outcome"] for r in snap["submissions"] if r["job"] == finished_job and r["slot"] < 3)
        assert outcomes == ["ACCEPTED", "ACCEPTED", "REJECTED_CHEAT"]
        assert any(r["verdict"] == "FAIL" for r in snap["verdicts"]) and any(
            r["verdict"] == "PASS" for r in snap["verdicts"]
        )
        assert any(r["account"] == network.accounts[3].address for r in snap["slashes"])
        assert {network.accounts[i].address for i in (1, 2, 4, 5, 6)} <= {r["account"] for r in snap["stakes"]}
        assert snap["rewards"] and all(int(r["earned_wei"]) > 0 for r in snap["rewards"])
        refused = urllib.request.Request(url + "api/snapshot", data=b"{}", method="POST")
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(refused, timeout=10)
        assert caught.value.code == 405  # read-only

        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if chromium is None:
            pytest.skip("no chromium on PATH (scripts/setup.sh installs Debian's `chromium` where apt-get can)")
        first = _render(chromium, url, tmp_path / "profile-1")
        assert f"job {finished_job} (pretrain)" in first and "<polyline" in first  # the loss chart, drawn
        for text in ("COMPLETED", "REJECTED_CHEAT", "FAIL", "PASS", network.accounts[3].address[:10]):
            assert text in first, f"the page lacks {text!r}"
        shown = int(re.search(r'data-block="(\d+)"', first).group(1))  # type: ignore[union-attr]
        network.mine(3)
        wait_for(lambda: _get(url + "api/health")["block"] >= shown + 3, 30, "the dashboard to see the new blocks")
        later = _render(chromium, url, tmp_path / "profile-2")
        assert int(re.search(r'data-block="(\d+)"', later).group(1)) >= shown + 3  # type: ignore[union-attr]
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shot = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile-3'}",
                               "--window-size=1400,1500", "--virtual-time-budget=4000",
                               f"--screenshot={tmp_path / 'dashboard.png'}", url],
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert (tmp_path / "dashboard.png").exists(), shot.stderr[-2000:]
        shutil.copyfile(tmp_path / "dashboard.png", SCREENSHOT)
        proc.terminate()
        assert proc.wait(timeout=15) == 0  # SIGTERM: a clean stop


def _render(chromium: str, url: str, profile: Path) -> str:
    """The page's DOM after its scripts ran for a few (virtual) seconds, as the browser built it."""
    started = time.monotonic()
    done = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=4000",
                           "--dump-dom", url], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0 and "<table" in done.stdout, (time.monotonic() - started, done.stderr[-2000:])
    return done.stdout
