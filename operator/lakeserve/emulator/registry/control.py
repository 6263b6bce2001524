"""``/_emulator/registry/...``: register a READY model version in one call (tests, demo)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from lakeserve.emulator.errors import invalid
from lakeserve.emulator.registry.store import ModelRegistry
from lakeserve.emulator.wire import json_response, read_json_object


def build_control_router(registry: ModelRegistry) -> APIRouter:
    router = APIRouter(prefix="/_emulator/registry")

    @router.get("")
    def describe() -> Response:
        return json_response({"registry_uri": registry.uri})

    @router.post("/model-versions")
    async def register_version(request: Request) -> Response:
        body = await read_json_object(request)
        name, source, aliases = body.get("name"), body.get("source"), body.get("aliases", [])
        if not isinstance(name, str) or not name:
            raise invalid("name (catalog.schema.model) is required")
        if source is not None and not isinstance(source, str):
            raise invalid("source must be a string")
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise invalid("aliases must be a list of strings")
        info = await run_in_threadpool(registry.register_version, name, source, aliases,
                                       body.get("run_id"))
        return json_response({"name": name, "version": info.version,
                              "model_version": info.as_dict()})

    return router
