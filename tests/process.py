"""Real `crucible` processes for tests: each in its own process group, killed with the whole group on every exit path
(a failed assertion must never leave anvil, Kubo or a role running)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from crucible.paths import REPO_ROOT

CRUCIBLE = [sys.executable, "-m", "crucible"]


def crucible_env(**extra: str) -> dict[str, str]:
    """The environment a `crucible` subprocess needs: this checkout on PYTHONPATH, no inherited CRUCIBLE_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRUCIBLE_") or k in ("CRUCIBLE_CACHE",
                                                                                        "CRUCIBLE_IPFS_BIN")}  # fmt: skip
    env["PYTHONPATH"] = str(REPO_ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(extra)
    return env


def ignore_sigint() -> None:
    """preexec_fn: start the child with SIGINT ignored, as a background job of a script does."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def spawn(args: list[str], *, env: dict[str, str], cwd: Path | None = None, stdout: Any = subprocess.PIPE,
          stderr: Any = subprocess.PIPE, preexec_fn: Callable[[], None] | None = None) -> Iterator[subprocess.Popen[str]]:  # fmt: skip
    """Starts `args` in a new session; on the way out (success or failure) SIGKILLs its whole process group."""
    process = subprocess.Popen(args, env=env, cwd=cwd, stdout=stdout, stderr=stderr, text=True,
                               start_new_session=True, preexec_fn=preexec_fn)  # fmt: skip
    try:
        yield process
    finally:
        kill_group(process)


def kill_group(process: subprocess.Popen[Any]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def wait_for(predicate: Callable[[], bool], timeout: float, what: str, poll: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(poll)


def timed_wait(process: subprocess.Popen[Any], timeout: float) -> tuple[int, float]:
    """(exit code, seconds it took) or AssertionError if it did not exit in `timeout`."""
    started = time.monotonic()
    try:
        code = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the process did not exit within {timeout:g} s") from None
    return code, time.monotonic() - started


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie counts as gone
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def children_of(pid: int) -> list[int]:
    """Direct children of `pid` (Linux /proc)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            out.append(int(entry.name))
    return out
