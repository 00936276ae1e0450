"""A role's local journal (SQLite): what it intends, what it sent, and the secrets only it knows.

The chain is the source of truth for what happened; the journal holds what the chain cannot give back after a crash:
a miner's seal and finished run, a validator's verdict and salt. Every secret is written *before* the transaction that
commits to it, so a restart can always reveal what was committed, and every step re-reads the chain before acting, so
a restart never sends the same thing twice.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Entry:
    key: str
    kind: str
    state: str
    data: dict[str, Any]


class Journal:
    """One file per role and account. Writes are committed immediately (WAL mode, synchronous=FULL)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, kind TEXT NOT NULL, state TEXT NOT NULL,"
            " data TEXT NOT NULL, updated REAL NOT NULL)"
        )
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS log (at REAL NOT NULL, key TEXT NOT NULL, state TEXT NOT NULL, note TEXT)"
        )

    def get(self, key: str) -> Entry | None:
        row = self._db.execute("SELECT key, kind, state, data FROM entries WHERE key = ?", (key,)).fetchone()
        return Entry(row[0], row[1], row[2], json.loads(row[3])) if row else None

    def put(self, key: str, kind: str, state: str, data: dict[str, Any], note: str = "") -> Entry:
        """Records `key` in `state` with `data` (merged over what was there), durably, before returning."""
        previous = self.get(key)
        merged = {**(previous.data if previous else {}), **data}
        now = time.time()
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute(
                "INSERT INTO entries (key, kind, state, data, updated) VALUES (?, ?, ?, ?, ?) ON CONFLICT(key) DO "
                "UPDATE SET state = excluded.state, data = excluded.data, updated = excluded.updated",
                (key, kind, state, json.dumps(merged, sort_keys=True), now),
            )
            self._db.execute("INSERT INTO log (at, key, state, note) VALUES (?, ?, ?, ?)", (now, key, state, note))
        return Entry(key, kind, state, merged)

    def entries(self, kind: str, *, exclude_states: tuple[str, ...] = ()) -> list[Entry]:
        rows = self._db.execute("SELECT key, kind, state, data FROM entries WHERE kind = ? ORDER BY key", (kind,))
        return [Entry(r[0], r[1], r[2], json.loads(r[3])) for r in rows if r[2] not in exclude_states]

    def history(self, key: str) -> list[str]:
        """The states `key` went through, in order (tests and post-mortems read this)."""
        return [r[0] for r in self._db.execute("SELECT state FROM log WHERE key = ? ORDER BY rowid", (key,))]

    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self._db:
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def close(self) -> None:
        self._db.close()
