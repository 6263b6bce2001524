"""The workspace's state under ``--data-dir``: one SQLite row per area, rewritten when it changed.

Each area (serving endpoints, Lakebase, functions, ...) implements :class:`Persistent` and is
registered by name. :meth:`Persistence.save` snapshots every area, encodes it (``codec``) and
writes, in one transaction, the areas whose encoding differs from what was last written; SQLite in
WAL mode keeps the file whole if the process dies mid-write. An area whose state is large and
rarely changes (the online store's rows) passes a ``revision`` callable, and is not even encoded
while that returns the same value.

When to save is the gateway's decision (after every request that may have changed state, before
its response goes out); areas that change state while answering a read (a state machine that
moves on when looked at) call :meth:`Persistence.mark_changed`. Without a path nothing is written.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from lakeserve.emulator.persistence import codec
from lakeserve.emulator.persistence.codec import StateFormatError

STATE_FILE = "workspace-state.db"
FORMAT = "1"
ENCODE_ATTEMPTS = 3
_NOT_SAVED = object()
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS areas (name TEXT PRIMARY KEY, body TEXT NOT NULL, saved_at REAL);
"""


class Persistent(Protocol):
    def snapshot(self) -> Any:
        """The area's state: plain data, dataclasses, enums (whatever ``codec`` encodes)."""

    def restore(self, state: Any) -> None:
        """Take over a snapshot's state (at startup, before any request)."""


@dataclass
class _Area:
    name: str
    store: Persistent
    revision: Callable[[], object] | None
    saved_text: str | None = None
    saved_revision: object = _NOT_SAVED


def _encoded(area: _Area) -> str:
    """The area's snapshot as JSON. Requests keep running meanwhile: a dict one of them grows
    mid-walk is read again; a half-applied change is fine, as the request that makes it saves
    again before it answers."""
    for _ in range(ENCODE_ATTEMPTS - 1):
        try:
            return codec.dumps(area.store.snapshot())
        except RuntimeError:  # "dictionary changed size during iteration"
            continue
    return codec.dumps(area.store.snapshot())


class Persistence:
    def __init__(self, path: Path | None = None):
        """``path``: the SQLite file; None keeps everything in memory (nothing is written)."""
        self.path = path
        self._areas: dict[str, _Area] = {}
        self._changed = False
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    @property
    def enabled(self) -> bool:
        return self.path is not None

    @property
    def changed(self) -> bool:
        return self._changed

    def register(self, name: str, store: Persistent,
                 revision: Callable[[], object] | None = None) -> None:
        if name in self._areas:
            raise ValueError(f"area '{name}' is registered twice")
        self._areas[name] = _Area(name, store, revision)

    def mark_changed(self) -> None:
        """An area changed outside a write request; the next response saves."""
        self._changed = True

    def load(self) -> None:
        """Restore the registered areas from the file; areas it does not hold stay as they are."""
        if self.path is None:
            return
        stored = dict(self._connection().execute("SELECT name, body FROM areas"))
        for area in self._areas.values():
            text = stored.get(area.name)
            if text is not None:
                self._restore(area, text)

    def save(self) -> int:
        """Write every area whose state changed since it was last written; returns how many."""
        with self._lock:
            self._changed = False
            if self.path is None:
                return 0
            try:
                return self._save()
            except BaseException:
                self._changed = True  # try again after the next request
                raise

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _save(self) -> int:
        pending = []
        for area in self._areas.values():
            revision = area.revision() if area.revision is not None else None
            if area.revision is not None and revision == area.saved_revision:
                continue
            pending.append((area, _encoded(area), revision))
        written = [(area, text, revision) for area, text, revision in pending
                   if text != area.saved_text]
        if written:
            self._write([(area.name, text) for area, text, _ in written])
        for area, text, revision in pending:
            area.saved_text, area.saved_revision = text, revision
        return len(written)

    def _write(self, rows: list[tuple[str, str]]) -> None:
        db, now = self._connection(), time.time()
        db.execute("BEGIN IMMEDIATE")  # one transaction: every changed area or none
        try:
            db.executemany("INSERT OR REPLACE INTO areas (name, body, saved_at) VALUES (?, ?, ?)",
                           [(name, text, now) for name, text in rows])
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _restore(self, area: _Area, text: str) -> None:
        try:
            area.store.restore(codec.loads(text))
        except (StateFormatError, TypeError, ValueError, KeyError) as exc:
            raise StateFormatError(
                f"Could not restore the '{area.name}' state from {self.path}: {exc}. Delete "
                "that file to start with an empty workspace (the registry and Delta tables "
                "beside it are kept), or use another --data-dir.") from exc
        area.saved_text, area.saved_revision = text, _NOT_SAVED

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            assert self.path is not None
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes
            db.executescript(_SCHEMA)
            self._check_format(db)
            self._db = db
        return self._db

    def _check_format(self, db: sqlite3.Connection) -> None:
        row = db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        if row is None:
            db.execute("INSERT INTO meta (key, value) VALUES ('format', ?)", (FORMAT,))
        elif row[0] != FORMAT:
            db.close()
            raise StateFormatError(
                f"{self.path} holds workspace state in format {row[0]}; this emulator reads "
                f"format {FORMAT}. Delete that file to start with an empty workspace, or use "
                "another --data-dir.")
