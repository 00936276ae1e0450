"""Local files on a disk that may fill up: a full disk (or a file-size limit) is StorageFull with one line that says
where, never a traceback, and whatever the failed step had half-written is removed so a retry starts clean."""

from __future__ import annotations

import errno
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from crucible.errors import StorageFull

# No space left, quota exceeded, or the process's file-size limit (RLIMIT_FSIZE; Python ignores SIGXFSZ).
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def is_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in FULL_ERRNOS


@contextmanager
def writing(what: str, where: Path, *, discard_on_full: Path | None = None) -> Iterator[None]:
    """Runs a step that writes files under `where`; a full disk becomes StorageFull naming `what` and `where`, after
    removing `discard_on_full` (the step's partial output)."""
    try:
        yield
    except OSError as exc:
        if not is_full(exc):
            raise
        if discard_on_full is not None:
            shutil.rmtree(discard_on_full, ignore_errors=True)
        raise StorageFull(f"the disk is full writing {what} in {where} ({exc.strerror})") from None
