"""REST paths of Unity Catalog catalogs, schemas and tables (``/api/2.1/unity-catalog``)."""

from __future__ import annotations

from collections.abc import Callable

from databricks.sdk.service.catalog import (
    ListCatalogsResponse,
    ListSchemasResponse,
    ListTablesResponse,
    TableConstraint,
)
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from lakeserve.emulator.catalog import render
from lakeserve.emulator.catalog.constraints import Constraints
from lakeserve.emulator.catalog.names import identifier
from lakeserve.emulator.catalog.paging import int_param, page, principal
from lakeserve.emulator.catalog.store import DeltaCatalog
from lakeserve.emulator.errors import invalid
from lakeserve.emulator.wire import json_response, parse, query_flag, read_json_object

UC = "/api/2.1/unity-catalog"


def build_router(catalog: DeltaCatalog, constraints: Constraints,
                 user: Callable[[], str]) -> APIRouter:
    router = APIRouter()

    @router.get(UC + "/catalogs")
    def list_catalogs(request: Request) -> Response:
        items, token = _paged(request, catalog.catalogs())
        return json_response(ListCatalogsResponse(
            catalogs=[render.catalog_info(c, user()) for c in items],
            next_page_token=token).as_dict())

    @router.post(UC + "/catalogs")
    async def create_catalog(request: Request) -> Response:
        body = await read_json_object(request)
        name, comment = _required(body, "name"), _optional_text(body, "comment")
        created = await run_in_threadpool(catalog.create_catalog, name, comment,
                                          principal(request, user()))
        return json_response(render.catalog_info(created, user()).as_dict())

    @router.get(UC + "/catalogs/{name}")
    def get_catalog(name: str) -> Response:
        return json_response(render.catalog_info(catalog.catalog(name), user()).as_dict())

    @router.get(UC + "/schemas")
    def list_schemas(request: Request) -> Response:
        name = identifier(_query(request, "catalog_name"), "catalog_name")
        items, token = _paged(request, catalog.schemas(name))
        return json_response(ListSchemasResponse(
            schemas=[render.schema_info(name, s, user()) for s in items],
            next_page_token=token).as_dict())

    @router.post(UC + "/schemas")
    async def create_schema(request: Request) -> Response:
        body = await read_json_object(request)
        catalog_name, name = _required(body, "catalog_name"), _required(body, "name")
        created = await run_in_threadpool(catalog.create_schema, catalog_name, name,
                                          _optional_text(body, "comment"),
                                          principal(request, user()))
        return json_response(
            render.schema_info(catalog_name.lower(), created, user()).as_dict())

    @router.get(UC + "/schemas/{full_name}")
    def get_schema(full_name: str) -> Response:
        container = catalog.schema(full_name)
        return json_response(render.schema_info(full_name.split(".")[0].lower(), container,
                                                user()).as_dict())

    @router.get(UC + "/tables")
    def list_tables(request: Request) -> Response:
        names = catalog.tables(_query(request, "catalog_name"), _query(request, "schema_name"))
        items, token = _paged(request, names)
        omit = query_flag(request, "omit_columns")
        tables = [render.table_info(catalog, n, user(), omit_columns=omit,
                                    constraints=constraints.of_table(n)) for n in items]
        return json_response(ListTablesResponse(tables=tables, next_page_token=token).as_dict())

    @router.get(UC + "/tables/{full_name}")
    def get_table(full_name: str) -> Response:
        name = catalog.require_table(full_name)
        return json_response(render.table_info(
            catalog, name, user(), constraints=constraints.of_table(name)).as_dict())

    @router.delete(UC + "/tables/{full_name}")
    def delete_table(full_name: str) -> Response:
        catalog.delete_table(full_name)
        return json_response({})

    @router.post(UC + "/constraints")
    async def create_constraint(request: Request) -> Response:
        body = await read_json_object(request)
        table = _required(body, "full_name_arg")
        constraint = parse(body.get("constraint") or {}, TableConstraint, "constraint")
        created = await run_in_threadpool(constraints.create, table, constraint)
        return json_response(created.as_dict())

    @router.delete(UC + "/constraints/{full_name}")
    def delete_constraint(full_name: str, request: Request) -> Response:
        constraints.delete(full_name, _query(request, "constraint_name"))
        return json_response({})

    return router


def _paged(request: Request, items: list) -> tuple[list, str | None]:
    return page(items, int_param(request, "max_results"), request.query_params.get("page_token"))


def _query(request: Request, name: str) -> str:
    value = request.query_params.get(name)
    if not value:
        raise invalid(f"Missing required parameter: {name}")
    return value


def _required(body: dict, name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise invalid(f"Missing required field: {name}")
    return value


def _optional_text(body: dict, name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise invalid(f"{name} must be a string")
    return value
