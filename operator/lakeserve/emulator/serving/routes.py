"""REST paths of Model Serving's control plane (``/api/2.0/serving-endpoints``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from lakeserve.emulator.context import EmulatorContext
from lakeserve.emulator.serving.service import ServingService
from lakeserve.emulator.wire import json_response, read_json_object

BASE = "/api/2.0/serving-endpoints"


def build_router(service: ServingService, ctx: EmulatorContext) -> APIRouter:
    router = APIRouter()

    def principal(request: Request) -> str:
        return getattr(request.state, "principal", None) or ctx.settings.user_name

    @router.post(BASE)
    async def create(request: Request) -> Response:
        body = await read_json_object(request)
        host = str(request.base_url)
        # Registry lookups touch SQLite: keep them off the event loop.
        return json_response(await run_in_threadpool(service.create, body, principal(request),
                                                     host))

    @router.get(BASE)
    async def list_endpoints() -> Response:
        return json_response(service.list())

    @router.get(BASE + "/{name}")
    async def get(name: str) -> Response:
        return json_response(service.get(name))

    @router.delete(BASE + "/{name}")
    async def delete(name: str) -> Response:
        service.delete(name)
        return json_response({})

    @router.put(BASE + "/{name}/config")
    async def update_config(name: str, request: Request) -> Response:
        body = await read_json_object(request)
        return json_response(await run_in_threadpool(service.update_config, name, body,
                                                     principal(request)))

    @router.patch(BASE + "/{name}/tags")
    async def patch_tags(name: str, request: Request) -> Response:
        # A bare array, as the REST reference shows (the SDK then parses an empty EndpointTags).
        return json_response(service.patch_tags(name, await read_json_object(request)))

    @router.put(BASE + "/{name}/ai-gateway")
    async def put_ai_gateway(name: str, request: Request) -> Response:
        return json_response(service.put_ai_gateway(name, await read_json_object(request)))

    @router.patch(BASE + "/{name}/notifications")
    async def update_notifications(name: str, request: Request) -> Response:
        return json_response(service.update_notifications(name, await read_json_object(request)))

    @router.put(BASE + "/{name}/rate-limits")
    async def put_rate_limits(name: str, request: Request) -> Response:
        return json_response(service.put_rate_limits(name, await read_json_object(request)))

    @router.patch(BASE + "/{name}/telemetry-config")
    async def patch_telemetry(name: str, request: Request) -> Response:
        return json_response(service.patch_telemetry(name, await read_json_object(request)))

    return router
