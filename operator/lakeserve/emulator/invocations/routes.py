"""The query path of Model Serving (no ``/api/2.0`` prefix; Bearer auth like the rest)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from lakeserve.emulator.invocations.service import InvocationService
from lakeserve.emulator.serving.service import ROUTE_OPTIMIZED_PREFIX


def build_router(service: InvocationService) -> APIRouter:
    router = APIRouter()

    @router.post("/serving-endpoints/{name}/invocations")
    async def invocations(name: str, request: Request) -> Response:
        return await service.invoke(name, request)

    @router.post(ROUTE_OPTIMIZED_PREFIX + "/{endpoint_id}/serving-endpoints/{name}/invocations")
    async def route_optimized(endpoint_id: str, name: str, request: Request) -> Response:
        return await service.invoke(name, request, endpoint_id=endpoint_id)

    return router
