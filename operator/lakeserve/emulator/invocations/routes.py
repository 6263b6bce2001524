"""The query path of Model Serving (no ``/api/2.0`` prefix; Bearer auth like the rest)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from lakeserve.emulator.invocations.service import InvocationService


def build_router(service: InvocationService) -> APIRouter:
    router = APIRouter()

    @router.post("/serving-endpoints/{name}/invocations")
    async def invocations(name: str, request: Request) -> Response:
        return await service.invoke(name, request)

    return router
