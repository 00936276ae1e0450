"""A supervisor for role processes: starts every miner and validator as its own OS process (its own keystore, data
dir, journal and log), watches them, restarts one that died (after a pause that grows while it keeps dying), and
stops them all with SIGTERM (SIGKILL for any still running after the grace period). It also accounts for what each
role used: CPU seconds over all its incarnations (the kernel's own figures: /proc while it runs, wait4's rusage
once it exits) and its peak resident memory.

The demo and the benchmarks use it as a library; as a script it supervises a cast described in a JSON file until
SIGTERM or Ctrl-C:

    python -m crucible.simulation.supervisor cast.json     # [{"label": ..., "argv": [...], "env": {...}, "log": PATH}, ...]
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from crucible.localnet.ports import child_process_options

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
GRACE_SECONDS = 15.0  # a role stops within 10 s of SIGTERM (crucible/cli/signals.py); this is the backstop


@dataclass
class RoleSpec:
    """How to run one role: its command line, environment and console log (its own log is in its data dir)."""

    label: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    kind: str = "role"  # "miner" | "validator"
    behaviour: str = "honest"
    address: str = ""
    data_dir: Path | None = None


@dataclass
class Incarnation:
    pid: int
    started: float
    ended: float | None = None
    exit_code: int | None = None
    cpu_seconds: float = 0.0  # final figure once ended, else the last sample
    peak_rss_kb: int = 0
    stopped_by: str = ""  # "" (it exited on its own), "SIGTERM", "SIGKILL"


@dataclass
class Role:
    spec: RoleSpec
    process: subprocess.Popen[bytes] | None = None
    incarnations: list[Incarnation] = field(default_factory=list)
    wanted: bool = False  # should be running: the watcher restarts it when it is not
    restart_at: float = 0.0
    crashes_in_a_row: int = 0
    _console: IO[bytes] | None = None

    @property
    def label(self) -> str:
        return self.spec.label

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    @property
    def cpu_seconds(self) -> float:
        return sum(i.cpu_seconds for i in self.incarnations)

    @property
    def peak_rss_kb(self) -> int:
        return max((i.peak_rss_kb for i in self.incarnations), default=0)

    @property
    def restarts(self) -> int:
        return max(0, len(self.incarnations) - 1)


class Supervisor:
    """Starts, watches, restarts and stops role processes. Not thread-safe: call it from one thread."""

    def __init__(self, specs: list[RoleSpec], *, restart: bool = True, restart_delay: float = 1.0,
                 log: Callable[[str], None] = lambda line: None) -> None:  # fmt: skip
        self.roles = {spec.label: Role(spec) for spec in specs}
        if len(self.roles) != len(specs):
            raise ValueError("role labels must be unique")
        self.restart = restart
        self.restart_delay = restart_delay
        self.log = log

    # ------------------------------------------------------------------ starting and stopping

    def start_all(self) -> None:
        for label in self.roles:
            self.start(label)

    def start(self, label: str) -> None:
        role = self.roles[label]
        if role.running:
            return
        spec = role.spec
        spec.log.parent.mkdir(parents=True, exist_ok=True)
        role._console = open(spec.log, "ab")  # noqa: SIM115 - handed to the child, closed when it exits
        role.process = subprocess.Popen(spec.argv, env=spec.env, stdin=subprocess.DEVNULL, stdout=role._console,
                                        stderr=subprocess.STDOUT, **child_process_options())  # type: ignore[call-overload]  # fmt: skip
        role.incarnations.append(Incarnation(role.process.pid, time.time()))
        role.wanted = True
        self.log(f"started {label} (pid {role.process.pid})")

    def signal(self, label: str, signum: int = signal.SIGKILL, *, restart: bool = True,
               restart_after: float | None = None) -> None:  # fmt: skip
        """Sends `signum` to a role (the soak's random kill). With `restart`, the watcher starts it again once it is
        down and `restart_after` seconds (default: the supervisor's restart delay) have passed."""
        role = self.roles[label]
        if not role.running:
            return
        assert role.process is not None
        role.incarnations[-1].stopped_by = signal.Signals(signum).name
        role.wanted = restart
        role.restart_at = time.monotonic() + (self.restart_delay if restart_after is None else restart_after)
        self._sample(role)
        os.kill(role.process.pid, signum)

    def stop(self, label: str, grace: float = GRACE_SECONDS) -> int | None:
        """SIGTERM, then SIGKILL after `grace` seconds; returns the exit code (the role is not restarted)."""
        role = self.roles[label]
        role.wanted = False
        if not role.running:
            return role.process.returncode if role.process else None
        self.signal(label, signal.SIGTERM, restart=False)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if self._reap(role):
                return role.process.returncode if role.process else None
            time.sleep(0.05)
        self.log(f"{label} still running {grace:g} s after SIGTERM: SIGKILL")
        self.signal(label, signal.SIGKILL, restart=False)
        while not self._reap(role):
            time.sleep(0.05)
        return role.process.returncode if role.process else None

    def stop_all(self, grace: float = GRACE_SECONDS) -> dict[str, int | None]:
        """SIGTERM to every role at once, then waits for each (SIGKILL past the grace period)."""
        for label, role in self.roles.items():
            role.wanted = False
            if role.running:
                self.signal(label, signal.SIGTERM, restart=False)
        deadline = time.monotonic() + grace
        codes: dict[str, int | None] = {}
        for label, role in self.roles.items():
            while role.running and time.monotonic() < deadline:
                if not self._reap(role):
                    time.sleep(0.05)
            if role.running:
                self.log(f"{label} still running {grace:g} s after SIGTERM: SIGKILL")
                self.signal(label, signal.SIGKILL, restart=False)
                while not self._reap(role):
                    time.sleep(0.05)
            codes[label] = role.process.returncode if role.process else None
        return codes

    # ------------------------------------------------------------------ watching

    def watch(self) -> list[str]:
        """One look at every role: reaps the ones that exited, restarts the wanted ones that are down (after their
        pause), samples CPU and memory. Returns what happened, one line each."""
        events = []
        now = time.monotonic()
        for label, role in self.roles.items():
            if role.running:
                if self._reap(role):
                    last = role.incarnations[-1]
                    how = f"killed by {last.stopped_by}" if last.stopped_by else f"exited with code {last.exit_code}"
                    events.append(f"{label} {how}")
                    if role.wanted and not last.stopped_by:  # it died on its own: back off while it keeps dying
                        role.crashes_in_a_row += 1
                        role.restart_at = now + min(60.0, self.restart_delay * 2 ** (role.crashes_in_a_row - 1))
                else:
                    self._sample(role)
                    if now - role.incarnations[-1].started > 60:
                        role.crashes_in_a_row = 0
            elif role.wanted and self.restart and now >= role.restart_at:
                self.start(label)
                events.append(f"{label} restarted (incarnation {len(role.incarnations)})")
        for line in events:
            self.log(line)
        return events

    def run(self, until: Callable[[], bool], *, timeout: float, every: float = 1.0,
            on_tick: Callable[[], None] | None = None) -> float:  # fmt: skip
        """Watches until `until()` holds; returns the seconds it took. TimeoutError after `timeout` seconds."""
        started = time.monotonic()
        while not until():
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"the network did not reach its goal in {timeout:g} s")
            self.watch()
            if on_tick is not None:
                on_tick()
            time.sleep(every)
        return time.monotonic() - started

    def _reap(self, role: Role) -> bool:
        """True once the role's current process has exited (its final CPU figure taken from wait4)."""
        process = role.process
        if process is None or process.returncode is not None:
            return True
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid == 0:
            return False
        process.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait for it again
        last = role.incarnations[-1]
        last.ended, last.exit_code = time.time(), process.returncode
        last.cpu_seconds = usage.ru_utime + usage.ru_stime
        last.peak_rss_kb = max(last.peak_rss_kb, int(usage.ru_maxrss))
        if role._console is not None:
            role._console.close()
            role._console = None
        return True

    def _sample(self, role: Role) -> None:
        """The running process's CPU seconds and peak memory so far, from /proc."""
        if not role.running or role.process is None:
            return
        last = role.incarnations[-1]
        try:
            fields = Path(f"/proc/{role.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            last.cpu_seconds = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
            for line in Path(f"/proc/{role.process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    last.peak_rss_kb = max(last.peak_rss_kb, int(line.split()[1]))
        except (OSError, IndexError, ValueError):
            pass  # it is exiting: wait4 will give the final figures

    # ------------------------------------------------------------------ reading

    def usage(self) -> dict[str, dict[str, Any]]:
        """Per role: kind, behaviour, CPU seconds (all incarnations), peak RSS in MiB, restarts, exit codes."""
        for role in self.roles.values():
            self._sample(role)
        return {label: {"kind": r.spec.kind, "behaviour": r.spec.behaviour, "cpu_s": round(r.cpu_seconds, 2),
                        "peak_rss_mib": round(r.peak_rss_kb / 1024, 1), "restarts": r.restarts,
                        "exits": [i.exit_code for i in r.incarnations if i.ended is not None]}
                for label, r in self.roles.items()}  # fmt: skip


@contextmanager
def interrupted_by_signals() -> Iterator[None]:
    """SIGTERM and SIGINT (whatever was inherited: a background job of a script ignores SIGINT) raise
    KeyboardInterrupt in the main thread, so a script's `finally` stops its role processes and nodes."""

    def interrupt(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {s: signal.signal(s, interrupt) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def process_cpu_seconds(pid: int) -> float:
    """CPU seconds a process (a chain node, Kubo) has used so far, from /proc (0.0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    except (OSError, IndexError, ValueError):
        return 0.0


def main(argv: list[str]) -> int:
    """Supervises the cast in a JSON file until SIGTERM or Ctrl-C, then stops every role."""
    if len(argv) != 1:
        print("usage: python -m crucible.simulation.supervisor CAST.json", file=sys.stderr)
        return 2
    try:
        specs = [RoleSpec(label=r["label"], argv=list(r["argv"]), env={**os.environ, **r.get("env", {})},
                          log=Path(r["log"])) for r in json.loads(Path(argv[0]).read_text())]  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"error: {argv[0]}: not a cast file ({exc}); expected a JSON list of {{label, argv, env, log}}",
              file=sys.stderr)  # fmt: skip
        return 2
    stop = threading.Event()
    received: list[int] = []

    def handle(signum: int, _frame: Any) -> None:
        received.append(signum)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, handle)
    supervisor = Supervisor(specs, log=lambda line: print(f"{time.strftime('%H:%M:%S')} {line}", flush=True))
    supervisor.start_all()
    while not stop.wait(1.0):
        supervisor.watch()
    supervisor.stop_all()
    print(json.dumps(supervisor.usage(), indent=2))
    return 130 if received and received[0] == signal.SIGINT else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
