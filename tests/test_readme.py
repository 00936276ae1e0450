"""The README's "Using it" block, executed exactly as written: every command of the fenced block, in order, in one
shell, from a scratch copy of this checkout with a scratch HOME, against a fresh local network. So the README and the
code cannot drift apart.

What the test adds around the block, and why:
- the environment: a scratch HOME; the shared cache (CRUCIBLE_CACHE: the Python environment, Kubo and compiled
  contracts are not rebuilt); a keystore password (CRUCIBLE_KEYSTORE_PASSWORD, instead of a prompt); and free
  loopback ports for the chain and Kubo (CRUCIBLE_RPC_URL, CRUCIBLE_IPFS_API), so the test never collides with a
  network already running on the default ports. Every command reads those variables, as the README says.
- `set -euo pipefail` and an ERR trap naming the failing command; a time limit on the whole block; on every exit
  path the shell's process group is killed (network up's anvil and Kubo die with it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from crucible.localnet.ports import free_port, wait_for_port
from crucible.paths import REPO_ROOT
from tests.process import kill_group

README = REPO_ROOT / "README.md"
TIME_LIMIT = 1200


def using_it_block(text: str) -> list[str]:
    """The commands of the first ```bash block under '## Using it', one per line, comments kept (bash drops them)."""
    section = text.split("\n## Using it", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert match, "README.md: no ```bash block under '## Using it'"
    return [line for line in match.group(1).splitlines() if line.strip()]


def scratch_clone(root: Path) -> Path:
    """This checkout's files (tracked, and new ones not ignored) in `root`, with node_modules linked, not copied."""
    clone = root / "clone"
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO_ROOT,
                            capture_output=True, check=True).stdout.decode()  # fmt: skip
    for name in filter(None, listed.split("\0")):
        source = REPO_ROOT / name
        if source.is_file():
            target = clone / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    (clone / "node_modules").symlink_to(REPO_ROOT / "node_modules", target_is_directory=True)
    return clone


def test_the_readme_block_parses_into_the_commands_a_newcomer_types() -> None:
    commands = using_it_block(README.read_text())
    assert commands[0].startswith('eval "$(bash scripts/setup.sh)"')
    assert any(c.startswith("crucible miner run") for c in commands)
    assert any(c.startswith("crucible job wait") for c in commands)


@pytest.mark.slow
def test_the_readme_using_it_block_runs_as_written(tmp_path: Path) -> None:
    if not (REPO_ROOT / "node_modules").is_dir():
        pytest.skip("node_modules missing: run scripts/setup.sh first")
    commands = using_it_block(README.read_text())
    clone = scratch_clone(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    rpc_port, ipfs_port = free_port(), free_port()
    env = {
        "PATH": os.environ["PATH"], "HOME": str(home), "LANG": os.environ.get("LANG", "C.UTF-8"),
        "TERM": "dumb", "COLUMNS": "120",
        "CRUCIBLE_CACHE": os.environ.get("CRUCIBLE_CACHE", str(Path.home() / ".cache" / "crucible")),
        "CRUCIBLE_KEYSTORE_PASSWORD": "correct horse battery staple",
        "CRUCIBLE_RPC_URL": f"http://127.0.0.1:{rpc_port}",
        "CRUCIBLE_IPFS_API": f"/ip4/127.0.0.1/tcp/{ipfs_port}/http",
    }  # fmt: skip
    script = clone / "readme-using-it.sh"
    script.write_text("set -euo pipefail\ntrap 'echo \"README command failed: $BASH_COMMAND\" >&2' ERR\n"
                      + "\n".join(commands) + "\n")  # fmt: skip
    log = tmp_path / "readme.log"
    with open(log, "w") as out:
        process = subprocess.Popen(["bash", str(script)], cwd=clone, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # fmt: skip
        try:
            code = process.wait(timeout=TIME_LIMIT)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            kill_group(process)
    output = log.read_text()
    assert code == 0, f"the README block failed (exit {code}):\n{output[-6000:]}"
    assert "job completed" in output and "withdrew 50 CRU" in output, output[-6000:]
    assert re.search(r"agrees\s*│\s*True", output), output[-6000:]
    (miner_log,) = home.glob(".crucible/31337/miner-*/miner.log")
    assert "miner stopped (SIGTERM)" in miner_log.read_text()
    (validator_log,) = home.glob(".crucible/31337/validator-*/validator.log")
    assert "validator stopped (SIGTERM)" in validator_log.read_text()
    assert "Traceback" not in output
    assert not wait_for_port(rpc_port, timeout=1) and not wait_for_port(ipfs_port, timeout=1), "left running"
