"""Clean shutdown for the long-running commands (`network up`, `miner run`, `validator run`).

They install their own SIGTERM and SIGINT handlers, whatever they inherited: a background job of a script starts
with SIGINT ignored, and `kill -INT` must still stop it. The first signal asks the command to stop: it takes no new
work, finishes (or journals) the step in flight, stops its children and exits 0 after SIGTERM (what systemd, docker
and CI runners send) or 130 after SIGINT (Ctrl-C). If that takes longer than the grace period, or a second signal
comes, it exits at once: the journals make that safe (a role resumes every step where it stopped) and the children
of `network up` get SIGTERM from the kernel when it dies.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType, TracebackType

from crucible.errors import Stopping

__all__ = ["GRACE_SECONDS", "GracefulStop", "Stopping"]

GRACE_SECONDS = 8.0  # well inside the 10 s a service manager usually allows before SIGKILL


class GracefulStop:
    """Context manager: SIGTERM/SIGINT set `event`; `exit_code` is 0 (SIGTERM) or 130 (SIGINT) once one came."""

    def __init__(self, what: str, *, on_force: Callable[[], None] | None = None, grace: float = GRACE_SECONDS) -> None:
        self.what = what
        self.event = threading.Event()
        self.signum: int | None = None
        self.on_force = on_force
        self.grace = grace
        self._previous: dict[int, object] = {}
        self._timer: threading.Timer | None = None

    @property
    def exit_code(self) -> int:
        return 130 if self.signum == signal.SIGINT else 0

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name if self.signum else ""

    def check(self) -> None:
        """Raises Stopping once a stop was asked for (called from inside long steps)."""
        if self.event.is_set():
            raise Stopping(f"{self.what}: stop requested ({self.name})")

    def __enter__(self) -> GracefulStop:
        for signum in (signal.SIGTERM, signal.SIGINT):
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.event.is_set():
            self._force(f"second signal ({signal.Signals(signum).name})", 128 + signum)
            return
        self.signum = signum
        self.event.set()
        _say(f"{self.what}: {signal.Signals(signum).name} received, stopping (a second signal stops at once)")
        self._timer = threading.Timer(self.grace, self._force, args=(f"still busy after {self.grace:g} s", None))
        self._timer.daemon = True
        self._timer.start()

    def _force(self, why: str, code: int | None) -> None:
        _say(f"{self.what}: {why}; exiting now (the journal resumes the step in flight on the next start)")
        if self.on_force is not None:
            try:
                self.on_force()
            except Exception:  # noqa: BLE001 - nothing may keep a forced exit from happening
                pass
        logging.shutdown()
        sys.stderr.flush()
        os._exit(self.exit_code if code is None else code)


def _say(line: str) -> None:
    """To the log when the command configured one (roles: stderr and their log file), else to stderr."""
    if logging.getLogger().handlers:
        logging.getLogger("crucible.signals").warning(line)
        return
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
