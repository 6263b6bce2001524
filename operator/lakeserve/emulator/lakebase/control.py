"""Test knobs of the feature side: seed legacy online tables, fail sync runs, read the store.

- ``POST /_emulator/legacy-online-tables`` ``{"name", "source_table_full_name",
  "primary_key_columns", "timeseries_key"?, "state"?: "ONLINE_NO_PENDING_UPDATE",
  "run_continuously"?: false, "perform_full_copy"?: false}``: a legacy online table as it existed
  before the deprecation; rows are copied from the source now when the state is ONLINE*.
- ``POST /_emulator/lakebase/pipeline-failures`` ``{"table": "c.s.t", "message"?}``: the next
  sync run of that table (initial, triggered or continuous) fails with ``message``; ``GET`` lists
  pending failures, ``DELETE`` (optionally ``{"table"}``) clears them.
- ``POST /_emulator/lakebase/lookup`` ``{"table": "c.s.t", "keys": [{"id": 1}]}`` ->
  ``{"rows": [row | null, ...]}``: the in-process lookup over HTTP.
- ``GET /_emulator/lakebase/online-store``: the Postgres-side tables and their row counts
  (a synced table deleted without ``purge_data`` stays here).
- ``POST /_emulator/lakebase/table-state`` ``{"table": "c.s.t", "state":
  "SYNCED_TABLE_OFFLINE", "message"?}``: GET of that synced table reports this detailed state,
  written raw (also states the SDK cannot decode); ``DELETE`` with ``{"table"}`` stops that.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from lakeserve.emulator.catalog.control import jsonable
from lakeserve.emulator.catalog.names import parse_object_name
from lakeserve.emulator.errors import invalid, not_found
from lakeserve.emulator.lakebase.engine import (
    DEFAULT_FAILURE_MESSAGE,
    OnlineTableUnavailable,
    SyncEngine,
)
from lakeserve.emulator.lakebase.legacy import LegacyOnlineTables
from lakeserve.emulator.lakebase.model import OnlineTable
from lakeserve.emulator.wire import json_response, read_json_object


def build_control_router(engine: SyncEngine, legacy: LegacyOnlineTables,
                         user: Callable[[], str]) -> APIRouter:
    router = APIRouter(prefix="/_emulator")

    @router.post("/legacy-online-tables")
    async def seed_legacy(request: Request) -> Response:
        body = await read_json_object(request)
        return json_response(await run_in_threadpool(legacy.seed, body, user()))

    @router.get("/lakebase/pipeline-failures")
    def list_failures() -> Response:
        return json_response(_failures(engine))

    @router.post("/lakebase/pipeline-failures")
    async def add_failure(request: Request) -> Response:
        body = await read_json_object(request)
        name = parse_object_name(body.get("table"), "table").full
        message = body.get("message", DEFAULT_FAILURE_MESSAGE)
        if not isinstance(message, str) or not message:
            raise invalid("message must be a non-empty string")
        with engine.lock:
            engine.failures[name] = message
        return json_response(_failures(engine))

    @router.delete("/lakebase/pipeline-failures")
    async def clear_failures(request: Request) -> Response:
        body = await read_json_object(request)
        with engine.lock:
            if body.get("table"):
                engine.failures.pop(parse_object_name(body["table"], "table").full, None)
            else:
                engine.failures.clear()
        return json_response(_failures(engine))

    @router.post("/lakebase/lookup")
    async def lookup(request: Request) -> Response:
        body = await read_json_object(request)
        keys = body.get("keys")
        if not isinstance(keys, list) or not all(isinstance(k, dict) for k in keys):
            raise invalid("keys must be a list of objects")
        try:
            rows = await run_in_threadpool(engine.lookup, str(body.get("table")), keys)
        except OnlineTableUnavailable as exc:
            raise not_found(str(exc)) from None
        except ValueError as exc:
            raise invalid(str(exc)) from None
        return json_response({"rows": jsonable(rows)})

    @router.post("/lakebase/table-state")
    async def set_table_state(request: Request) -> Response:
        body = await read_json_object(request)
        state, message = body.get("state"), body.get("message", "")
        if not isinstance(state, str) or not state or not isinstance(message, str):
            raise invalid("state must be a non-empty string and message a string")
        _synced(engine, body.get("table")).state_override = (state, message)
        return json_response({"table": body.get("table"), "state": state})

    @router.delete("/lakebase/table-state")
    async def clear_table_state(request: Request) -> Response:
        body = await read_json_object(request)
        _synced(engine, body.get("table")).state_override = None
        return json_response({"table": body.get("table")})

    @router.get("/lakebase/online-store")
    def online_store() -> Response:
        tables = [{"key": list(key), "row_count": engine.store.row_count(key)}
                  for key in engine.store.keys()]
        return json_response({"tables": tables})

    return router


def _synced(engine: SyncEngine, name: object) -> OnlineTable:
    full = parse_object_name(name, "table").full
    table = engine.tables.get(full)
    if table is None:
        raise not_found(f"Synced table '{full}' does not exist.")
    return table


def _failures(engine: SyncEngine) -> dict:
    with engine.lock:
        return {"failures": [{"table": t, "message": m}
                             for t, m in sorted(engine.failures.items())]}
