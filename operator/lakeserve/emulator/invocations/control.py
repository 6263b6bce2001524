"""``/_emulator/invocations/...``: seed the traffic split (repeatable tests) and list the models
loaded for serving."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from lakeserve.emulator.errors import invalid
from lakeserve.emulator.invocations.models import ModelStore
from lakeserve.emulator.invocations.service import InvocationService
from lakeserve.emulator.wire import json_response, read_json_object

PREFIX = "/_emulator/invocations"


def build_control_router(service: InvocationService, models: ModelStore) -> APIRouter:
    router = APIRouter(prefix=PREFIX)

    @router.post("/seed")
    async def seed(request: Request) -> Response:
        value = (await read_json_object(request)).get("seed")
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise invalid("seed must be an integer or null")
        service.seed(value)
        return json_response({"seed": value})

    @router.get("/models")
    async def loaded_models() -> Response:
        return json_response({"models": models.loaded()})

    return router
