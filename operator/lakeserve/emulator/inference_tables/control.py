"""``/_emulator/inference-tables``: list the payload tables (rows written, rows still buffered) and
flush the buffers now, so a test reads a complete table."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from lakeserve.emulator.inference_tables.writer import InferenceTableWriter
from lakeserve.emulator.wire import json_response

PREFIX = "/_emulator/inference-tables"


def build_control_router(writer: InferenceTableWriter) -> APIRouter:
    router = APIRouter(prefix=PREFIX)

    @router.get("")
    async def list_tables() -> Response:
        return json_response({"tables": await run_in_threadpool(writer.tables)})

    @router.post("/flush")
    async def flush() -> Response:
        await run_in_threadpool(writer.flush)
        return json_response({"tables": await run_in_threadpool(writer.tables)})

    return router
