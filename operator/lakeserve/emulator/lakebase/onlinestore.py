"""The embedded online store: the Postgres side of synced tables, as keyed rows in memory.

Why memory and not SQLite: lookups happen on the inference path and want a dict get per key, not
SQL plus row decoding; a sync replaces a table wholesale from a Delta snapshot, which is a dict
build. Under ``--data-dir`` the tables are persisted as a snapshot whenever ``generation`` moves
(a sync, a drop), so a restart keeps the rows even if the source table changed or went away.

Each table keeps one row per primary key. With a timeseries key the row with the greatest
timeseries value wins (nulls lose to any value); otherwise the last row read wins. Rows whose
primary key has a null are skipped (Postgres would refuse them).
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

Row = dict[str, Any]
StoreKey = tuple[str, ...]  # (instance, database, schema, table) or ("legacy", name)


@dataclass
class StoredTable:
    primary_keys: tuple[str, ...]
    timeseries_key: str | None
    rows: dict[tuple[Hashable, ...], Row] = field(default_factory=dict)
    key_types: tuple[type | None, ...] = ()


class OnlineStore:
    def __init__(self) -> None:
        self._tables: dict[StoreKey, StoredTable] = {}
        self._lock = threading.Lock()
        self.generation = 0  # moves on every change: persistence skips the rows while it stays

    def snapshot(self) -> dict[StoreKey, StoredTable]:
        with self._lock:
            return dict(self._tables)

    def restore(self, tables: dict[StoreKey, StoredTable]) -> None:
        with self._lock:
            self._tables = dict(tables)
            self.generation += 1

    def replace(self, key: StoreKey, rows: Iterable[Row], primary_keys: list[str],
                timeseries_key: str | None) -> int:
        """Make ``rows`` (deduplicated) the table's content; returns the number of rows kept."""
        table = build(rows, primary_keys, timeseries_key)
        with self._lock:
            self._tables[key] = table
            self.generation += 1
        return len(table.rows)

    def drop(self, key: StoreKey) -> bool:
        with self._lock:
            self.generation += 1
            return self._tables.pop(key, None) is not None

    def has(self, key: StoreKey) -> bool:
        with self._lock:
            return key in self._tables

    def row_count(self, key: StoreKey) -> int | None:
        with self._lock:
            table = self._tables.get(key)
            return len(table.rows) if table else None

    def rows(self, key: StoreKey) -> list[Row]:
        with self._lock:
            table = self._tables.get(key)
            return [dict(row) for row in table.rows.values()] if table else []

    def keys(self) -> list[StoreKey]:
        with self._lock:
            return sorted(self._tables)

    def lookup(self, key: StoreKey, lookups: list[dict[str, Any]]) -> list[Row | None]:
        """The row for each lookup (a dict holding every primary-key column), or None."""
        with self._lock:
            table = self._tables.get(key)
        if table is None:
            raise KeyError(key)
        found = []
        for lookup in lookups:
            missing = [c for c in table.primary_keys if c not in lookup]
            if missing:
                raise ValueError(f"lookup key {lookup!r} lacks primary key column(s) "
                                 f"{', '.join(missing)}")
            wanted = tuple(_coerce(lookup[c], kind)
                           for c, kind in zip(table.primary_keys, table.key_types, strict=True))
            row = table.rows.get(wanted)
            found.append(dict(row) if row is not None else None)
        return found

    def clear(self) -> None:
        with self._lock:
            self._tables.clear()
            self.generation += 1


def build(rows: Iterable[Row], primary_keys: list[str], timeseries_key: str | None) -> StoredTable:
    table = StoredTable(tuple(primary_keys), timeseries_key)
    kept: dict[tuple[Hashable, ...], Row] = {}
    for row in rows:
        key = tuple(row.get(c) for c in primary_keys)
        if any(part is None for part in key):
            continue
        current = kept.get(key)
        if current is None or timeseries_key is None or \
                not _older(row.get(timeseries_key), current.get(timeseries_key)):
            kept[key] = row
    table.rows = kept
    sample = next(iter(kept), None)
    table.key_types = tuple(type(part) for part in sample) if sample else \
        tuple(None for _ in primary_keys)
    return table


def _older(candidate: Any, current: Any) -> bool:
    """True when ``candidate``'s timeseries value is strictly before ``current``'s."""
    if candidate is None:
        return current is not None
    if current is None:
        return False
    return candidate < current


def _coerce(value: Any, kind: type | None) -> Any:
    """A lookup value as the stored key's type (JSON requests send ids as text or numbers)."""
    if kind is None or value is None or isinstance(value, kind):
        return value
    try:
        if kind is int and isinstance(value, (str, float)):
            number = float(value)
            return int(number) if number.is_integer() else value
        if kind is float and isinstance(value, (str, int)):
            return float(value)
        if kind is str and isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
    except ValueError:
        return value
    return value
