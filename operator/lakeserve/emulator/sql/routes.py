"""REST paths of SQL warehouses and the Statement Execution API (``/api/2.0/sql``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from databricks.sdk.service.sql import ListWarehousesResponse
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from lakeserve.emulator.catalog.paging import principal
from lakeserve.emulator.sql.statements import CANCEL, StatementService
from lakeserve.emulator.sql.warehouses import Warehouses
from lakeserve.emulator.wire import json_response, read_json_object

SQL = "/api/2.0/sql"
_SLACK = 0.01  # sleep a little past the finish time, so the clock agrees it has passed


def build_router(warehouses: Warehouses, statements: StatementService,
                 user: Callable[[], str]) -> APIRouter:
    router = APIRouter()

    @router.get(SQL + "/warehouses")
    def list_warehouses(request: Request) -> Response:
        return json_response(ListWarehousesResponse(
            warehouses=warehouses.list(str(request.base_url))).as_dict())

    @router.get(SQL + "/warehouses/{warehouse_id}")
    def get_warehouse(warehouse_id: str, request: Request) -> Response:
        return json_response(warehouses.get(warehouse_id, str(request.base_url)).as_dict())

    @router.post(SQL + "/statements")
    async def execute(request: Request) -> Response:
        body = await read_json_object(request)
        statement_id, wait = await run_in_threadpool(statements.submit, body,
                                                     principal(request, user()))
        if wait.seconds > 0:
            remaining = await run_in_threadpool(statements.remaining, statement_id)
            if remaining <= wait.seconds:
                await asyncio.sleep(remaining + _SLACK if remaining else 0)
            else:
                await asyncio.sleep(wait.seconds)
                if wait.on_timeout is CANCEL:
                    await run_in_threadpool(statements.cancel, statement_id)
        return json_response(await run_in_threadpool(statements.response, statement_id))

    @router.get(SQL + "/statements/{statement_id}")
    def get_statement(statement_id: str) -> Response:
        return json_response(statements.response(statement_id))

    @router.post(SQL + "/statements/{statement_id}/cancel")
    def cancel(statement_id: str) -> Response:
        statements.cancel(statement_id)
        return json_response({})

    return router
