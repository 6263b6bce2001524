"""Buffered appends to the payload Delta tables, flushed by a background thread.

The invocation path only appends a dict to an in-memory buffer; a daemon thread writes each
table's buffered rows as one Delta commit every ``interval()`` seconds, or sooner when a buffer
reaches ``max_rows``. :meth:`flush` writes everything now (control path, shutdown); :meth:`discard`
drops what is buffered (reset).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from lakeserve.emulator.inference_tables.rows import PayloadTable, to_arrow

log = logging.getLogger(__name__)

DEFAULT_MAX_ROWS = 1000


class InferenceTableWriter:
    def __init__(self, data_dir: Path, interval: Callable[[], float],
                 max_rows: int = DEFAULT_MAX_ROWS):
        self.data_dir = Path(data_dir)
        self._interval = interval
        self._max_rows = max_rows
        self._pending: dict[PayloadTable, list[dict[str, Any]]] = {}
        self._known: dict[PayloadTable, dict[str, int]] = {}  # table -> written/dropped counts
        self._lock = threading.Lock()  # guards _pending and _known
        self._write_lock = threading.Lock()  # one flush at a time
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def append(self, table: PayloadTable, row: dict[str, Any]) -> None:
        with self._lock:
            rows = self._pending.setdefault(table, [])
            rows.append(row)
            self._known.setdefault(table, {"written": 0, "dropped": 0})
            full = len(rows) >= self._max_rows
            if self._thread is None and not self._stopped.is_set():
                self._start()
        if full:
            self._wake.set()

    def flush(self) -> None:
        """Write every buffered row now."""
        with self._write_lock:
            with self._lock:
                pending, self._pending = self._pending, {}
            for table, rows in pending.items():
                self._write(table, rows)

    def discard(self) -> None:
        with self._lock:
            self._pending = {}

    def close(self) -> None:
        """Stop the background thread and write what is left."""
        self._stopped.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=30)
        self.flush()

    def tables(self) -> list[dict[str, Any]]:
        with self._lock:
            known = {table: dict(counts) for table, counts in self._known.items()}
            pending = {table: len(rows) for table, rows in self._pending.items()}
        return [{"name": table.full_name, "path": str(path), "rows": _row_count(path),
                 "pending": pending.get(table, 0), "dropped": counts["dropped"]}
                for table, counts in sorted(known.items(), key=lambda item: item[0].full_name)
                # a table deleted since (e.g. a catalog reset) is listed again once it has rows
                if (path := table.path(self.data_dir)).exists() or pending.get(table)]

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="lakeserve-inference-tables",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait(timeout=max(0.01, self._interval()))
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - the thread must survive a bad write
                log.exception("flushing inference tables failed")

    def _write(self, table: PayloadTable, rows: list[dict[str, Any]]) -> None:
        path = table.path(self.data_dir)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_deltalake(str(path), to_arrow(rows), mode="append", name=table.table,
                            description="Inference table: requests and responses of a "
                                        "serving endpoint")
        except Exception:  # noqa: BLE001 - e.g. a table with another schema at that path
            log.exception("could not append %d rows to inference table %s", len(rows),
                          table.full_name)
            self._count(table, "dropped", len(rows))
            return
        self._count(table, "written", len(rows))

    def _count(self, table: PayloadTable, key: str, amount: int) -> None:
        with self._lock:
            self._known.setdefault(table, {"written": 0, "dropped": 0})[key] += amount


def _row_count(path: Path) -> int:
    if not (path / "_delta_log").is_dir():
        return 0
    try:
        actions = pa.table(DeltaTable(str(path)).get_add_actions(flatten=True))
        return int(sum(actions.column("num_records").to_pylist()))
    except Exception:  # noqa: BLE001 - stats missing: count the rows themselves
        return DeltaTable(str(path)).to_pyarrow_dataset().count_rows()
