"""REST paths of Unity Catalog functions (``/api/2.1/unity-catalog/functions``)."""

from __future__ import annotations

from collections.abc import Callable

from databricks.sdk.service.catalog import ListFunctionsResponse
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from lakeserve.emulator.catalog.names import identifier
from lakeserve.emulator.catalog.paging import int_param, page, principal
from lakeserve.emulator.errors import already_exists, invalid
from lakeserve.emulator.functions import rest
from lakeserve.emulator.functions.store import FunctionExists, FunctionStore
from lakeserve.emulator.wire import json_response, read_json_object

FUNCTIONS = "/api/2.1/unity-catalog/functions"


def build_router(functions: FunctionStore, user: Callable[[], str]) -> APIRouter:
    router = APIRouter()

    @router.get(FUNCTIONS)
    def list_functions(request: Request) -> Response:
        catalog = identifier(_query(request, "catalog_name"), "catalog_name")
        schema = identifier(_query(request, "schema_name"), "schema_name")
        items, token = page(functions.list_functions(catalog, schema),
                            int_param(request, "max_results"),
                            request.query_params.get("page_token"))
        return json_response(ListFunctionsResponse(functions=items,
                                                   next_page_token=token).as_dict())

    @router.post(FUNCTIONS)
    async def create(request: Request) -> Response:
        definition = rest.definition(await read_json_object(request))
        try:
            info = await run_in_threadpool(functions.define, definition,
                                           principal(request, user()), replace=False)
        except FunctionExists:
            raise already_exists(f"Routine or Model '{definition.name.full}' already "
                                 "exists.") from None
        return json_response(info.as_dict())

    @router.get(FUNCTIONS + "/{name}")
    def get(name: str) -> Response:
        return json_response(functions.get(name).as_dict())

    @router.patch(FUNCTIONS + "/{name}")
    async def update(name: str, request: Request) -> Response:
        body = await read_json_object(request)
        owner = body.get("owner")
        if owner is not None and (not isinstance(owner, str) or not owner):
            raise invalid("owner must be a non-empty string")
        return json_response(functions.set_owner(name, owner, principal(request, user()))
                             .as_dict())

    @router.delete(FUNCTIONS + "/{name}")
    def delete(name: str) -> Response:
        info = functions.get(name)
        functions.drop(info.full_name)
        return json_response({})

    return router


def _query(request: Request, name: str) -> str:
    value = request.query_params.get(name)
    if not value:
        raise invalid(f"Missing required parameter: {name}")
    return value
