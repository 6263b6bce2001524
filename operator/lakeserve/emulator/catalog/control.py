"""``/_emulator/catalog/...``: make and read Delta tables in one call (tests, demo).

``POST /_emulator/catalog/tables`` with ``{"name": "c.s.t", "rows": [{...}], "mode":
"overwrite"|"append", "schema": {"col": "DOUBLE"}}`` (mode defaults to overwrite; schema optional,
SQL type names for columns whose inferred type would be wrong) creates the catalog and schema
directories as needed and answers ``{"name", "version", "row_count"}``. A table it creates has
Change Data Feed enabled (as feature tables synced online usually do) unless the body says
``"change_data_feed": false``. Writing a Delta table straight into
``<data_dir>/catalog/<c>/<s>/<t>/`` works too.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from lakeserve.emulator.catalog.names import parse_object_name
from lakeserve.emulator.catalog.store import DeltaCatalog
from lakeserve.emulator.catalog.types import SqlType
from lakeserve.emulator.errors import invalid
from lakeserve.emulator.sql.parser import parse_type
from lakeserve.emulator.wire import json_response, read_json_object

PREFIX = "/_emulator/catalog"


def build_control_router(catalog: DeltaCatalog) -> APIRouter:
    router = APIRouter(prefix=PREFIX)

    @router.post("/tables")
    async def write_table(request: Request) -> Response:
        body = await read_json_object(request)
        name = parse_object_name(body.get("name"), "name")
        rows, mode = body.get("rows", []), body.get("mode", "overwrite")
        schema = _schema(body.get("schema"))
        cdf = body.get("change_data_feed", True)
        if not isinstance(cdf, bool):
            raise invalid("change_data_feed must be true or false")
        properties = {"delta.enableChangeDataFeed": str(cdf).lower()}
        version = await run_in_threadpool(catalog.write, name, rows, mode, schema, properties)
        count = await run_in_threadpool(catalog.row_count, name)
        return json_response({"name": name.full, "version": version, "row_count": count})

    @router.get("/tables/{full_name}")
    def read_table(full_name: str) -> Response:
        name = catalog.require_table(full_name)
        return json_response({"name": name.full, "version": catalog.version(name),
                              "rows": jsonable(catalog.read_rows(name))})

    return router


def _schema(value: Any) -> dict[str, SqlType] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise invalid("schema must map column names to SQL type names, e.g. {\"tenure\": "
                      "\"DOUBLE\"}")
    try:
        return {column: parse_type(text) for column, text in value.items()}
    except ValueError as exc:
        raise invalid(f"Invalid schema: {exc}") from None


def jsonable(rows: list[dict[str, Any] | None]) -> list[dict[str, Any] | None]:
    """Rows with JSON-friendly values (timestamps as ISO text, decimals as text)."""
    return [None if row is None else {key: _value(value) for key, value in row.items()}
            for row in rows]


def _value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _value(v) for k, v in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
