"""REST paths of feature specs (``/api/2.0/feature-engineering/feature-specs``)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from lakeserve.emulator.catalog.paging import principal
from lakeserve.emulator.functions.feature_specs import FeatureSpecs
from lakeserve.emulator.wire import json_response, read_json_object

FEATURE_SPECS = "/api/2.0/feature-engineering/feature-specs"


def build_router(specs: FeatureSpecs, user: Callable[[], str]) -> APIRouter:
    router = APIRouter()

    @router.post(FEATURE_SPECS)
    async def create(request: Request) -> Response:
        body = await read_json_object(request)
        created = await run_in_threadpool(specs.create, body, principal(request, user()))
        return json_response(created)

    @router.get(FEATURE_SPECS + "/{name}")
    def get(name: str) -> Response:
        return json_response(specs.get(name))

    @router.delete(FEATURE_SPECS + "/{name}")
    def delete(name: str) -> Response:
        specs.delete(name)
        return json_response({})

    return router
