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
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from crucible.errors import StorageFull


@dataclass(frozen=True)
class Entry:
    key: str
    kind: str
    state: str
    data: dict[str, Any]


@dataclass(frozen=True)
class Lifecycle:
    """The states one kind of journal entry goes through: the states it starts in and the moves allowed from each
    (a state with no moves is final). Daemons check their own moves against it; `Journal.violations` checks a
    journal's whole history (tests, post-mortems)."""

    kind: str
    start: frozenset[str]
    moves: Mapping[str, frozenset[str]]

    @classmethod
    def of(cls, kind: str, start: Iterable[Enum], moves: Mapping[Any, Iterable[Any]]) -> Lifecycle:
        return cls(kind, frozenset(str(s.value) for s in start),
                   {str(a.value): frozenset(str(b.value) for b in bs) for a, bs in moves.items()})  # fmt: skip

    @property
    def final(self) -> tuple[str, ...]:
        return tuple(state for state, nexts in self.moves.items() if not nexts)

    def allows(self, current: str, to: str) -> bool:
        return to in self.moves.get(current, frozenset())

    def violations(self, key: str, history: list[str]) -> list[str]:
        """What in `history` (the states `key` went through) the lifecycle does not allow."""
        if not history:
            return []
        out = [] if history[0] in self.start else [f"{key}: starts in {history[0]!r}, not in {sorted(self.start)}"]
        out += [f"{key}: state {s!r} is not in the {self.kind} table" for s in history if s not in self.moves]
        out += [f"{key}: {a!r} -> {b!r} is not an allowed move" for a, b in zip(history, history[1:], strict=False)
                if a in self.moves and b in self.moves and not self.allows(a, b)]  # fmt: skip
        return out


class Journal:
    """One file per role and account. Writes are committed immediately (WAL mode, synchronous=FULL)."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        """Opens (creating it) the journal at `path`; `readonly` only reads one that exists, e.g. another process's
        while it runs (post-mortems, tests, the soak's checks)."""
        self.path = path
        if readonly:
            self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
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
        with self._writing(f"{key} -> {state}"), self._db:
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

    def kinds(self) -> dict[str, str]:
        """Every entry's key and kind."""
        return dict(self._db.execute("SELECT key, kind FROM entries ORDER BY key").fetchall())

    def violations(self, lifecycles: Iterable[Lifecycle]) -> list[str]:
        """Every journaled state or move that its kind's lifecycle does not allow (a kind without one counts too)."""
        by_kind = {lifecycle.kind: lifecycle for lifecycle in lifecycles}
        out = []
        for key, kind in self.kinds().items():
            lifecycle = by_kind.get(kind)
            if lifecycle is None:
                out.append(f"{key}: kind {kind!r} has no lifecycle")
                continue
            out += lifecycle.violations(key, self.history(key))
        return out

    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self._writing(f"meta {key}"), self._db:
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    @contextmanager
    def _writing(self, what: str) -> Iterator[None]:
        """A full disk rolls the write back whole (SQLite's transaction) and says so in one line."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            if "full" not in str(exc).lower():
                raise
            raise StorageFull(f"the disk is full: the journal {self.path} could not record {what} (nothing of it "
                              "was written)") from None  # fmt: skip

    def close(self) -> None:
        self._db.close()
