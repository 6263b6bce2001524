"""``/_emulator/functions/call``: run a UC function the way the invocation path does (tests,
debugging). Body ``{"name": "c.s.f", "arguments": {"x": 1}}`` -> ``{"result": ...}``; a failing
body is a 400 with the Python error."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from lakeserve.emulator.errors import invalid
from lakeserve.emulator.functions.store import FunctionCallError, FunctionStore
from lakeserve.emulator.wire import json_response, read_json_object


def build_control_router(functions: FunctionStore) -> APIRouter:
    router = APIRouter(prefix="/_emulator/functions")

    @router.post("/call")
    async def call(request: Request) -> Response:
        body = await read_json_object(request)
        name, arguments = body.get("name"), body.get("arguments", {})
        if not isinstance(name, str) or not isinstance(arguments, dict):
            raise invalid("name (catalog.schema.function) and arguments (an object) are needed")
        try:
            result = await run_in_threadpool(lambda: functions.call(name, **arguments))
        except FunctionCallError as exc:
            raise invalid(str(exc)) from None
        return json_response({"result": result})

    return router
