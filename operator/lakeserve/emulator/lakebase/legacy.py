"""Legacy online tables (``w.online_tables``): creation refused as Databricks does since
2026-01-15; tables from before the deprecation are seeded through a control path so that reading,
deleting and migrating them can be tested. A seeded table's rows are copied from its source at
seed time and serve lookups like a synced table's.

A retired API may answer anything (docs/fidelity.md): the ``legacy_online_tables`` setting makes
every route answer like one -- 501 NOT_IMPLEMENTED, 400 FEATURE_DISABLED, 404 (no such API) or
410 -- so that no flow can come to depend on the legacy API's answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from databricks.sdk.service.catalog import OnlineTableState

from lakeserve.emulator.catalog.names import parse_object_name
from lakeserve.emulator.catalog.store import DeltaCatalog
from lakeserve.emulator.errors import ApiError, already_exists, invalid, no_such_api, not_found
from lakeserve.emulator.lakebase import render
from lakeserve.emulator.lakebase.engine import SyncEngine, new_pipeline_id
from lakeserve.emulator.lakebase.model import OnlineTable, Pipeline, Policy

# Databricks answers creation with a 400; the error code is our choice (FEATURE_DISABLED).
LEGACY_CREATE_REFUSED = ApiError(
    400, "FEATURE_DISABLED",
    "Online tables (legacy) are no longer supported: they were deprecated and became "
    "inaccessible on January 15, 2026. Sync the table into Lakebase instead with a synced table "
    "(w.database.create_synced_database_table, POST /api/2.0/database/synced_tables) or publish "
    "it to the Databricks Online Feature Store; see the 'Migrate from legacy online tables' "
    "guide.")
RETIRED_MESSAGE = ("Online tables (legacy) are no longer supported: they were deprecated and "
                   "became inaccessible on January 15, 2026.")
DEFAULT_SEED_STATE = OnlineTableState.ONLINE_NO_PENDING_UPDATE.value
_DATA_STATES = {s.value for s in OnlineTableState if s.value.startswith("ONLINE")}


class LegacyOnlineTables:
    def __init__(self, engine: SyncEngine, catalog: DeltaCatalog,
                 answer: Callable[[], str] = lambda: "available"):
        """``answer`` is the ``legacy_online_tables`` setting, read on every request."""
        self._engine = engine
        self._catalog = catalog
        self._answer = answer

    def refuse_if_retired(self, method: str, path: str) -> None:
        """Answer the way the setting says a retired API answers (nothing when available)."""
        answer = self._answer()
        if answer == "not_implemented":
            raise ApiError(501, "NOT_IMPLEMENTED", RETIRED_MESSAGE)
        if answer == "feature_disabled":
            raise ApiError(400, "FEATURE_DISABLED", RETIRED_MESSAGE)
        if answer == "not_found":
            raise no_such_api(method, path)
        if answer == "gone":
            raise ApiError(410, "GONE", RETIRED_MESSAGE)

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        raise LEGACY_CREATE_REFUSED

    def get(self, name: str) -> dict[str, Any]:
        full = parse_object_name(name, "name").full
        with self._engine.lock:
            table = self._engine.table(full)
            if table is None or not table.legacy:
                raise _missing(full)
            return render.legacy_table(table, self._engine.view(table)).as_dict()

    def delete(self, name: str) -> None:
        full = parse_object_name(name, "name").full
        with self._engine.lock:
            table = self._engine.tables.get(full)
            if table is None or not table.legacy:
                raise _missing(full)
            self._engine.remove(full, purge=True)  # deletes all data in the online table

    def seed(self, body: dict[str, Any], principal: str) -> dict[str, Any]:
        name = parse_object_name(body.get("name"), "name")
        source = parse_object_name(body.get("source_table_full_name"), "source_table_full_name")
        keys = body.get("primary_key_columns")
        if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
            raise invalid("primary_key_columns must be a non-empty list of column names")
        timeseries = body.get("timeseries_key")
        state = body.get("state", DEFAULT_SEED_STATE)
        if state not in {s.value for s in OnlineTableState}:
            raise invalid(f"Invalid state '{state}': expected one of "
                          f"{', '.join(s.value for s in OnlineTableState)}")
        policy = Policy.CONTINUOUS if body.get("run_continuously") else Policy.TRIGGERED
        with self._engine.lock:
            if name.full in self._engine.tables or self._catalog.table_exists(name):
                raise already_exists(f"Table '{name.full}' already exists.")
            columns = [c.name for c in self._catalog.columns(source)]
            for column in [*keys, timeseries]:
                if column and column not in columns:
                    raise invalid(f"Column '{column}' does not exist in the source table "
                                  f"'{source.full}'. Available columns: {', '.join(columns)}.")
            now = self._engine.now()
            pipeline = Pipeline(pipeline_id=new_pipeline_id(),
                                name=f"Online table sync for {name.full}", policy=policy,
                                creator=principal, created_at=now)
            table = OnlineTable(
                name=name.full, legacy=True, source=source.full, primary_keys=list(keys),
                timeseries_key=timeseries, policy=policy, pipeline_id=pipeline.pipeline_id,
                creator=principal, created_at=now, store_key=("legacy", name.full),
                perform_full_copy=bool(body.get("perform_full_copy", False)), seed_state=state)
            self._engine.seed(table, pipeline, copy=state in _DATA_STATES)
            return render.legacy_table(table, self._engine.view(table)).as_dict()


def _missing(name: str) -> Exception:
    return not_found(f"Online table '{name}' does not exist.")
