"""Free loopback ports for the daemons we start."""

from __future__ import annotations

import socket
from typing import Any


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float, alive: Any = None) -> bool:
    """True once something accepts connections on 127.0.0.1:port, False after `timeout` seconds, or as soon as the
    process `alive` (a Popen) has exited: then whatever listens there is not it."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alive is not None and alive.poll() is not None:
            return False
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.05)
    return False


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts connections on host:port (a daemon of ours must never be started onto it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def child_process_options() -> dict[str, object]:
    """Popen options for a daemon we start: its own session (a Ctrl-C in our terminal reaches us, and we stop it in
    order) and, on Linux, SIGTERM when we die, even by SIGKILL, so it never outlives us re-parented to PID 1. (The
    signal follows the thread that started it: start daemons from a thread that lives as long as they should.)"""
    import functools
    import os

    return {"start_new_session": True, "preexec_fn": functools.partial(_die_with_parent, os.getpid())}


def _die_with_parent(parent: int) -> None:  # runs in the child, between fork and exec
    import os
    import signal
    import sys

    if not sys.platform.startswith("linux"):
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, int(signal.SIGTERM), 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
