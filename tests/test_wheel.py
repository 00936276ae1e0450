"""What a user gets from `pip install crucible-….whl`: a working miner, validator and sponsor CLI with no Node, no
Solidity compiler and no checkout.

The test builds the wheel from this checkout, installs it into a fresh virtual environment and runs it from a
directory outside the checkout with a PATH that holds only that environment (no node_modules, no solc, no node). The
environment gets the dependencies from the test's own one through a .pth file of links (so torch is not downloaded
again), leaving out the Solidity compiler package (py-solc-x is a developer extra): an import of it would fail. The
chain and Kubo are started by the test, as a network operator would; the wheel's CLI then posts a job, mines it and
validates, against them.
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from crucible import __version__
from crucible.localnet.kubo import KuboNode
from crucible.localnet.network import LocalNetwork
from crucible.paths import REPO_ROOT

LEFT_OUT = ("solcx", "py_solc_x", "crucible", "miner", "validator", "tests")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # No isolation: the build requirements (setuptools>=77) come from the developer environment, not a download.
    done = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out),
                           str(REPO_ROOT)], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (built,) = out.glob("crucible-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a user who pip-installed the wheel: returns the env for running its `crucible`."""
    root = tmp_path_factory.mktemp("user")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    links = root / "deps"
    links.mkdir()
    for site_dir in site.getsitepackages():
        for entry in Path(site_dir).iterdir():
            if entry.name.split("-")[0].split(".")[0].lower() in LEFT_OUT or entry.name.endswith(".pth"):
                continue
            if not (links / entry.name).exists():
                (links / entry.name).symlink_to(entry)
    (purelib,) = (venv / "lib").glob("python3*/site-packages")
    (purelib / "crucible-test-deps.pth").write_text(f"{links}\n")
    env = {"PATH": str(venv / "bin"), "HOME": str(root / "home"), "LANG": "C.UTF-8", "TERM": "dumb",
           "CRUCIBLE_CACHE": str(root / "cache"), "COLUMNS": "200"}  # fmt: skip
    done = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--no-deps", "--no-index", "-q",
                           str(wheel)], env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    env["CWD"] = str(root)
    return env


def run(
    env: dict[str, str], *args: str, timeout: float = 300, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in env.items() if k != "CWD"} | (extra or {})
    return subprocess.run(["crucible", *args], env=full, cwd=env["CWD"], capture_output=True, text=True,
                          timeout=timeout)  # fmt: skip


def test_the_wheel_carries_the_abis_the_page_and_no_compiler_dependency(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    for contract in ("WorkLedger", "StakeManager", "JobRegistry", "LedgerLens"):
        assert f"crucible/abi/{contract}.json" in names
    assert "crucible/abi/build.json" in names and "crucible/dashboard/page.html" in names
    assert "crucible/schemas/manifest.json" in names and "miner/daemon.py" in names and "validator/daemon.py" in names
    assert not any(n.startswith(("contracts/", "harness/", "tests/", "node_modules/")) for n in names)
    assert "crucible/simulation/demo.py" in names, "`crucible demo` stays a command, so its simulation ships"
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    assert not [r for r in requires if "solc" in r and "extra ==" not in r], (
        "py-solc-x must not be a runtime dependency"
    )


def test_the_installed_cli_starts_without_node_solc_or_a_checkout(installed: dict[str, str]) -> None:
    assert all(not (Path(d) / tool).exists() for d in installed["PATH"].split(os.pathsep) for tool in ("node", "solc",
                                                                                                     "anvil", "forge"))  # fmt: skip
    version = run(installed, "--version")
    assert version.returncode == 0 and version.stdout.strip() == f"crucible {__version__}", version.stderr
    shown = run(installed, "--help")
    assert shown.returncode == 0 and "miner" in shown.stdout and "validator" in shown.stdout
    where = subprocess.run(["python", "-c", "import crucible, sys; print(crucible.__file__); import solcx"],
                           env={k: v for k, v in installed.items() if k != "CWD"}, cwd=installed["CWD"],
                           capture_output=True, text=True, timeout=60)  # fmt: skip
    assert where.stdout.strip().startswith(str(Path(installed["PATH"]).parent)), "crucible must come from the wheel"
    assert "No module named 'solcx'" in where.stderr  # the compiler is not there to be imported by accident


def test_sponsor_miner_and_validator_work_from_the_wheel(
    installed: dict[str, str], network: LocalNetwork, kubo: KuboNode, tmp_path: Path
) -> None:
    """The README's two-machine section, with the wheel's `crucible`: keys, faucet, own data, a job, a miner, a
    validator, the public record."""
    chain = {"CRUCIBLE_RPC_URL": network.rpc_url, "CRUCIBLE_DEPLOYMENT": str(network.deployment_file),
             "CRUCIBLE_IPFS_API": kubo.api_multiaddr, "CRUCIBLE_KEYSTORE_PASSWORD": "wheel test"}  # fmt: skip
    sponsor = chain | {"CRUCIBLE_PRIVATE_KEY": network.accounts[0].key.hex()}
    miner = chain | {"CRUCIBLE_KEYSTORE": str(tmp_path / "miner.json")}
    validator = chain | {"CRUCIBLE_KEYSTORE": str(tmp_path / "validator.json")}
    for role in (miner, validator):
        for args in (("keys", "new", role["CRUCIBLE_KEYSTORE"]), ("faucet", "1000")):
            done = run(installed, *args, extra=role)
            assert done.returncode == 0, done.stderr

    rows = [json.dumps({"prompt": f"double {i}:", "response": f" {2 * i}"}) for i in range(40)]
    (tmp_path / "qa.jsonl").write_text("\n".join(rows) + "\n")
    added = run(installed, "--json", "data", "add", str(tmp_path / "qa.jsonl"), "--kind", "sft", extra=sponsor)
    assert added.returncode == 0, added.stderr
    dataset = json.loads(added.stdout)["dataset_cid"]
    posted = run(installed, "--json", "job", "create", "--kind", "sft", "--slots", "1", "--compute-cost", "5",
                 "--dataset", dataset, extra=sponsor)  # fmt: skip
    assert posted.returncode == 0, posted.stderr
    job_id = json.loads(posted.stdout)["job_id"]
    mined = run(installed, "miner", "run", "--job", str(job_id), "--stake", "300", "--data-dir", str(tmp_path / "m"),
                "--poll", "0", "--max-passes", "4", extra=miner)  # fmt: skip
    assert mined.returncode == 0, mined.stderr[-3000:]
    assert "submitted bundle" in (tmp_path / "m" / "miner.log").read_text()
    validated = run(installed, "validator", "run", "--stake", "200", "--data-dir", str(tmp_path / "v"), "--poll", "0",
                    "--max-passes", "2", extra=validator)  # fmt: skip
    assert validated.returncode == 0, validated.stderr[-3000:]
    stakes = run(installed, "--json", "status", "stakes", extra=chain)
    assert stakes.returncode == 0, stakes.stderr
    by_account = {row["account"]: row for row in json.loads(stakes.stdout)["stakes"]}
    staked = {account.lower(): row for account, row in by_account.items()}
    miner_row, validator_row = (staked[_address(tmp_path / f"{role}.json")] for role in ("miner", "validator"))
    assert int(miner_row["staked_wei"]) == 300 * 10**18 and validator_row["validator"] is True
    revert = run(installed, "job", "status", "999", extra=chain)  # a revert decodes through the packaged ABIs
    assert revert.returncode == 1 and "JobUnknown(jobId=999)" in revert.stderr


def _address(keystore: Path) -> str:
    """The account of an encrypted keystore (its public "address" field), as 0x-prefixed lowercase hex."""
    return "0x" + str(json.loads(keystore.read_text())["address"]).lower().removeprefix("0x")
