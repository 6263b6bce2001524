"""Online tables, their pipelines and the online store, advanced lazily on every access.

Whenever a table (or its pipeline) is read -- REST get/list, a lookup -- runs whose time is up are
settled first: the source is read at the run's pinned Delta version and copied into the online
store, or the run fails (injected failure, source table gone, key columns gone). A Continuous
table with nothing running also checks its source's Delta version then, and starts an
incremental run when the source moved. Timestamps come from the run's schedule, not from when it
was noticed, so the outcome does not depend on when anyone looks.

In-process API for the invocation path: :meth:`SyncEngine.lookup` and
:meth:`SyncEngine.find_online_table`.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

from databricks.sdk.service.pipelines import UpdateInfoCause, UpdateInfoState

from lakeserve.emulator.catalog.names import parse_object_name
from lakeserve.emulator.catalog.store import DeltaCatalog
from lakeserve.emulator.context import EmulatorContext
from lakeserve.emulator.errors import ApiError, conflict, not_found
from lakeserve.emulator.lakebase import lifecycle
from lakeserve.emulator.lakebase.lifecycle import Delays, TableView
from lakeserve.emulator.lakebase.model import (
    OnlineTable,
    Pipeline,
    Policy,
    RunKind,
    SyncRun,
    Update,
)
from lakeserve.emulator.lakebase.onlinestore import OnlineStore, Row

DEFAULT_FAILURE_MESSAGE = ("Injected failure: the sync pipeline's flow failed while writing to "
                           "the database instance.")


class OnlineTableUnavailable(LookupError):
    """No online table by that name, or it has no synced data yet."""


class SyncEngine:
    def __init__(self, ctx: EmulatorContext, catalog: DeltaCatalog, store: OnlineStore):
        self._ctx = ctx
        self.catalog = catalog
        self.store = store
        self.tables: dict[str, OnlineTable] = {}
        self.pipelines: dict[str, Pipeline] = {}
        self.failures: dict[str, str] = {}  # table name -> message for its next run
        self.lock = threading.RLock()

    # ---- in-process API ------------------------------------------------------------------

    def lookup(self, online_table_name: str, keys: list[dict[str, Any]]) -> list[Row | None]:
        """The online row for each key dict (holding every primary-key column), None where no
        row has that key. Raises :class:`OnlineTableUnavailable` when the table does not exist
        or has never synced, ValueError when a key lacks a primary-key column."""
        name = _full_name(online_table_name)
        with self.lock:
            table = self.tables.get(name)
            if table is None:
                raise OnlineTableUnavailable(f"Online table '{name}' does not exist.")
            self.advance(table)
            if table.last_success is None:
                state = lifecycle.table_view(table, self.now(), self.delays()).state
                raise OnlineTableUnavailable(f"Online table '{name}' has no synced data yet "
                                             f"({state}).")
            key = table.store_key
        return self.store.lookup(key, keys)

    def find_online_table(self, source_table_full_name: str) -> str | None:
        """The online table synced from a source table: one with data first, synced tables
        before legacy ones, the newest first; None when there is none."""
        names = self.online_tables_for_source(source_table_full_name)
        return names[0] if names else None

    def online_tables_for_source(self, source_table_full_name: str) -> list[str]:
        source = _full_name(source_table_full_name)
        with self.lock:
            matches = [t for t in self.tables.values() if t.source == source]
            for table in matches:
                self.advance(table)
            matches.sort(key=lambda t: (t.last_success is None, t.legacy, -t.created_at))
            return [t.name for t in matches]

    # ---- clock and delays ----------------------------------------------------------------

    def now(self) -> float:
        return self._ctx.clock.now()

    def delays(self) -> Delays:
        settings = self._ctx.settings
        return Delays(settings.synced_table_provision_seconds,
                      settings.synced_table_snapshot_seconds, settings.pipeline_update_seconds)

    # ---- tables and pipelines ------------------------------------------------------------

    def table(self, name: str) -> OnlineTable | None:
        with self.lock:
            table = self.tables.get(name)
            if table is not None:
                self.advance(table)
            return table

    def view(self, table: OnlineTable) -> TableView:
        return lifecycle.table_view(table, self.now(), self.delays())

    def add(self, table: OnlineTable, pipeline: Pipeline, cause: UpdateInfoCause) -> None:
        """Register a new table on its (new or existing) pipeline and start its initial sync."""
        with self.lock:
            self.pipelines.setdefault(pipeline.pipeline_id, pipeline)
            pipeline.tables.append(table.name)
            self.tables[table.name] = table
            update = self._new_update(pipeline, RunKind.INITIAL, cause)
            table.runs.append(self._start_run(table, RunKind.INITIAL, update.update_id,
                                              update.created_at))

    def seed(self, table: OnlineTable, pipeline: Pipeline, copy: bool) -> None:
        """Register a table that synced before (legacy); copy its rows now when ``copy``."""
        with self.lock:
            self.pipelines[pipeline.pipeline_id] = pipeline
            pipeline.tables.append(table.name)
            self.tables[table.name] = table
            update = self._new_update(pipeline, RunKind.INITIAL, UpdateInfoCause.API_CALL)
            run = self._start_run(table, RunKind.INITIAL, update.update_id, update.created_at)
            run.fail_message = None if copy else f"seeded as {table.seed_state}, with no data"
            table.runs.append(run)
            self._settle(table, run, run.started_at)

    def remove(self, name: str, purge: bool) -> OnlineTable:
        with self.lock:
            table = self.tables.get(name)
            if table is None:
                raise not_found(f"Table '{name}' does not exist.")
            self.advance(table)  # a sync whose time is up has written its rows
            del self.tables[name]
            pipeline = self.pipelines.get(table.pipeline_id)
            if pipeline is not None:
                pipeline.tables = [t for t in pipeline.tables if t != name]
                if not pipeline.tables:
                    del self.pipelines[pipeline.pipeline_id]
            if purge:
                self.store.drop(table.store_key)
            self.failures.pop(name, None)
            return table

    def pipeline(self, pipeline_id: str) -> Pipeline:
        with self.lock:
            pipeline = self.pipelines.get(pipeline_id)
            if pipeline is None:
                raise not_found(f"Pipeline '{pipeline_id}' does not exist.")
            for name in pipeline.tables:
                self.advance(self.tables[name])
            return pipeline

    def update_state(self, pipeline: Pipeline, update: Update) -> UpdateInfoState:
        with self.lock:
            for name in pipeline.tables:
                self.advance(self.tables[name])
            return self._update_state(pipeline, update)

    def _update_state(self, pipeline: Pipeline, update: Update) -> UpdateInfoState:
        runs = [run for name in pipeline.tables for run in self.tables[name].runs
                if run.update_id == update.update_id]
        return lifecycle.update_state(update, runs, pipeline, self.now(), self.delays())

    def start_update(self, pipeline_id: str, cause: UpdateInfoCause, full_refresh: bool) -> str:
        with self.lock:
            pipeline = self.pipeline(pipeline_id)
            for update in reversed(pipeline.updates):
                state = self._update_state(pipeline, update)
                if lifecycle.is_active(state):
                    raise self._update_refused(pipeline_id, update.update_id, state)
            update = self._new_update(pipeline, RunKind.TRIGGERED, cause, full_refresh)
            for name in pipeline.tables:
                table = self.tables[name]
                table.runs.append(self._start_run(table, RunKind.TRIGGERED, update.update_id,
                                                  update.created_at))
            return update.update_id

    def _update_refused(self, pipeline_id: str, update_id: str,
                        state: UpdateInfoState) -> ApiError:
        """The refusal of a second update, as the ``pipeline_update_running`` setting says."""
        if self._ctx.settings.pipeline_update_running == "invalid_state":
            return ApiError(400, "INVALID_STATE", f"Cannot start an update of pipeline "
                            f"'{pipeline_id}': update '{update_id}' is {state.value}.")
        return conflict(f"Pipeline '{pipeline_id}' already has an active update '{update_id}' "
                        f"({state.value}); an update is already running, so a new one was not "
                        "started.")

    def reset(self, options: dict[str, Any] | None = None) -> None:
        with self.lock:
            self.tables.clear()
            self.pipelines.clear()
            self.failures.clear()
            self.store.clear()

    def snapshot(self) -> dict[str, Any]:
        """Tables with their runs, pipelines with their updates, pending injected failures (the
        online store's rows are an area of their own)."""
        with self.lock:
            return {"tables": list(self.tables.values()),
                    "pipelines": list(self.pipelines.values()), "failures": dict(self.failures)}

    def restore(self, state: dict[str, Any]) -> None:
        with self.lock:
            self.tables = {table.name: table for table in state["tables"]}
            self.pipelines = {p.pipeline_id: p for p in state["pipelines"]}
            self.failures = dict(state["failures"])

    # ---- advancing -----------------------------------------------------------------------

    def advance(self, table: OnlineTable) -> None:
        """Settle the table's run when its time is up; let a Continuous table notice new data."""
        now, delays = self.now(), self.delays()
        current = table.current
        if current is not None and lifecycle.due(current, now, delays):
            self._settle(table, current, lifecycle.run_end(current, delays))
            current = None
        if current is None and table.policy is Policy.CONTINUOUS and table.seed_state is None \
                and table.last_success is not None:
            version = self.catalog.version(table.source)
            attempted = table.last_attempted_version
            if version is not None and (attempted is None or version > attempted):
                pipeline = self.pipelines.get(table.pipeline_id)
                update_id = pipeline.updates[0].update_id if pipeline and pipeline.updates \
                    else table.runs[0].update_id
                table.runs.append(self._start_run(table, RunKind.INCREMENTAL, update_id, now))
                self._ctx.persistence.mark_changed()

    def _new_update(self, pipeline: Pipeline, kind: RunKind, cause: UpdateInfoCause,
                    full_refresh: bool = False) -> Update:
        update = Update(update_id=str(uuid.uuid4()), created_at=self.now(), cause=cause,
                        kind=kind, full_refresh=full_refresh or kind is RunKind.INITIAL)
        pipeline.updates.append(update)
        return update

    def _start_run(self, table: OnlineTable, kind: RunKind, update_id: str,
                   started_at: float) -> SyncRun:
        version = self.catalog.version(table.source)
        total = None
        if version is not None:
            try:
                total = self.catalog.row_count(table.source, version)
            except ApiError:
                total = None
        return SyncRun(kind=kind, update_id=update_id, started_at=started_at,
                       source_version=version, total_rows=total,
                       commit_time=self.catalog.commit_time(table.source, version)
                       if version is not None else None,
                       fail_message=self.failures.pop(table.name, None))

    def _settle(self, table: OnlineTable, run: SyncRun, finished_at: float) -> None:
        self._ctx.persistence.mark_changed()
        run.finished_at = finished_at
        if run.fail_message:
            run.error = run.fail_message
            return
        try:
            rows = self._read_source(table, run)
        except ApiError as exc:
            run.error = exc.message
            return
        run.synced_rows = self.store.replace(table.store_key, rows, table.primary_keys,
                                             table.timeseries_key)

    def _read_source(self, table: OnlineTable, run: SyncRun) -> list[Row]:
        if run.source_version is None or not self.catalog.table_exists(table.source):
            raise ApiError(404, "TABLE_DOES_NOT_EXIST",
                           f"Failed to read the source table '{table.source}': it does not "
                           "exist.")
        data = self.catalog.read_table(table.source, run.source_version)
        missing = [c for c in [*table.primary_keys, table.timeseries_key]
                   if c and c not in data.column_names]
        if missing:
            raise ApiError(400, "INVALID_PARAMETER_VALUE",
                           f"Column(s) {', '.join(missing)} no longer exist in the source table "
                           f"'{table.source}' (version {run.source_version}); its columns are: "
                           f"{', '.join(data.column_names)}.")
        return data.to_pylist()


def _full_name(name: str) -> str:
    try:
        return parse_object_name(name, "name").full
    except ApiError as exc:
        raise OnlineTableUnavailable(exc.message) from None


def new_pipeline_id() -> str:
    return str(uuid.uuid4())
