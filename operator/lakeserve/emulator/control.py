"""``/_emulator/...`` knobs shared by every area: health, call log, settings, faults, reset.

No auth (loopback only, enforced by the gateway); JSON in and out.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from lakeserve.emulator.calllog import count_calls
from lakeserve.emulator.context import EmulatorContext
from lakeserve.emulator.errors import invalid
from lakeserve.emulator.faults import parse_fault
from lakeserve.emulator.wire import json_response, read_json_object

PREFIX = "/_emulator"


def build_router(ctx: EmulatorContext) -> APIRouter:
    router = APIRouter(prefix=PREFIX)

    @router.get("/health")
    async def health() -> Response:
        return json_response({"status": "ok", "workspace_id": ctx.workspace_id})

    @router.get("/calls")
    async def calls(request: Request) -> Response:
        selected = ctx.calls.since(_since(request))
        return json_response({"calls": [call.as_dict() for call in selected],
                              "counts": count_calls(selected), "last_seq": ctx.calls.last_seq})

    @router.delete("/calls")
    async def clear_calls() -> Response:
        ctx.calls.clear()
        return json_response({"last_seq": ctx.calls.last_seq})

    @router.get("/settings")
    async def get_settings() -> Response:
        return json_response(ctx.settings.as_dict())

    @router.put("/settings")
    async def put_settings(request: Request) -> Response:
        ctx.update_settings(await read_json_object(request))
        return json_response(ctx.settings.as_dict())

    @router.get("/faults")
    async def list_faults() -> Response:
        return json_response({"faults": [fault.as_dict() for fault in ctx.faults.list()]})

    @router.post("/faults")
    async def add_fault(request: Request) -> Response:
        fault = ctx.faults.add(parse_fault(await read_json_object(request)))
        return json_response(fault.as_dict())

    @router.delete("/faults")
    async def clear_faults() -> Response:
        ctx.faults.clear()
        return json_response({"faults": []})

    @router.post("/reset")
    async def reset(request: Request) -> Response:
        options = await read_json_object(request)
        await run_in_threadpool(ctx.reset, options)  # may delete registry rows (SQLite)
        return json_response({"reset": True, "registry": bool(options.get("registry"))})

    return router


def _since(request: Request) -> int:
    text = request.query_params.get("since", "0")
    try:
        return int(text)
    except ValueError:
        raise invalid(f"since must be an integer, got '{text}'") from None
