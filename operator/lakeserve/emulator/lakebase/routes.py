"""REST paths of Lakebase (``/api/2.0/database``), legacy online tables
(``/api/2.0/online-tables``) and the sync pipelines (``/api/2.0/pipelines``)."""

from __future__ import annotations

from collections.abc import Callable

from databricks.sdk.service.database import (
    ListDatabaseInstancesResponse,
    ListSyncedDatabaseTablesResponse,
)
from databricks.sdk.service.pipelines import (
    GetUpdateResponse,
    ListUpdatesResponse,
    StartUpdateCause,
    StartUpdateResponse,
    UpdateInfoCause,
)
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from lakeserve.emulator.catalog.paging import int_param, page, principal
from lakeserve.emulator.errors import ApiError, invalid, not_found
from lakeserve.emulator.lakebase import render
from lakeserve.emulator.lakebase.engine import SyncEngine
from lakeserve.emulator.lakebase.instances import InstanceService
from lakeserve.emulator.lakebase.legacy import LegacyOnlineTables
from lakeserve.emulator.lakebase.synced import SyncedTables
from lakeserve.emulator.wire import check_shape, json_response, query_flag, read_json_object

DATABASE = "/api/2.0/database"
ONLINE_TABLES = "/api/2.0/online-tables"
PIPELINES = "/api/2.0/pipelines"


def build_router(instances: InstanceService, synced: SyncedTables, legacy: LegacyOnlineTables,
                 engine: SyncEngine, user: Callable[[], str]) -> APIRouter:
    router = APIRouter()
    _instance_routes(router, instances, user)
    _synced_routes(router, synced, user)
    _legacy_routes(router, legacy)
    _pipeline_routes(router, engine)
    return router


def _instance_routes(router: APIRouter, instances: InstanceService,
                     user: Callable[[], str]) -> None:
    @router.post(DATABASE + "/instances")
    async def create(request: Request) -> Response:
        body = await read_json_object(request)
        return json_response(instances.create(body, principal(request, user())))

    @router.get(DATABASE + "/instances")
    def list_instances(request: Request) -> Response:
        items, token = instances.list(int_param(request, "page_size"),
                                      request.query_params.get("page_token"))
        return json_response(ListDatabaseInstancesResponse.from_dict(
            {"database_instances": items, "next_page_token": token}).as_dict())

    @router.get(DATABASE + "/instances:findByUid")
    def find_by_uid(request: Request) -> Response:
        uid = request.query_params.get("uid")
        if not uid:
            raise invalid("Missing required parameter: uid")
        return json_response(instances.find_by_uid(uid))

    @router.get(DATABASE + "/instances/{name}")
    def get(name: str) -> Response:
        return json_response(instances.get(name))

    @router.patch(DATABASE + "/instances/{name}")
    async def update(name: str, request: Request) -> Response:
        body = await read_json_object(request)
        return json_response(instances.update(name, body,
                                              request.query_params.get("update_mask")))

    @router.delete(DATABASE + "/instances/{name}")
    def delete(name: str, request: Request) -> Response:
        instances.delete(name, request.query_params.get("purge"))
        return json_response({})

    @router.post(DATABASE + "/catalogs")
    async def create_catalog(request: Request) -> Response:
        return json_response(instances.create_catalog(await read_json_object(request)))

    @router.get(DATABASE + "/catalogs/{name}")
    def get_catalog(name: str) -> Response:
        return json_response(instances.get_catalog(name))

    @router.delete(DATABASE + "/catalogs/{name}")
    def delete_catalog(name: str) -> Response:
        instances.delete_catalog(name)
        return json_response({})

    @router.patch(DATABASE + "/catalogs/{name}")
    def update_catalog(name: str) -> Response:
        raise ApiError(501, "NOT_IMPLEMENTED", "Update Database Catalog is not yet implemented")


def _synced_routes(router: APIRouter, synced: SyncedTables, user: Callable[[], str]) -> None:
    @router.post(DATABASE + "/synced_tables")
    async def create(request: Request) -> Response:
        body = await read_json_object(request)
        return json_response(await run_in_threadpool(synced.create, body,
                                                     principal(request, user())))

    @router.get(DATABASE + "/synced_tables/{name}")
    def get(name: str) -> Response:
        return json_response(synced.get(name))

    @router.patch(DATABASE + "/synced_tables/{name}")
    def update(name: str) -> Response:
        raise ApiError(501, "NOT_IMPLEMENTED",
                       "Update Synced Database Table is not yet implemented.")

    @router.delete(DATABASE + "/synced_tables/{name}")
    def delete(name: str, request: Request) -> Response:
        synced.delete(name, query_flag(request, "purge_data"))
        return json_response({})

    @router.get(DATABASE + "/instances/{instance}/synced_tables")
    def list_synced(instance: str, request: Request) -> Response:
        items, token = synced.list(instance, int_param(request, "page_size"),
                                   request.query_params.get("page_token"))
        return json_response(ListSyncedDatabaseTablesResponse.from_dict(
            {"synced_tables": items, "next_page_token": token}).as_dict())


def _legacy_routes(router: APIRouter, legacy: LegacyOnlineTables) -> None:
    @router.post(ONLINE_TABLES)
    async def create(request: Request) -> Response:
        legacy.refuse_if_retired("POST", request.url.path)
        return json_response(legacy.create(await read_json_object(request)))

    @router.get(ONLINE_TABLES + "/{name}")
    def get(name: str, request: Request) -> Response:
        legacy.refuse_if_retired("GET", request.url.path)
        return json_response(legacy.get(name))

    @router.delete(ONLINE_TABLES + "/{name}")
    def delete(name: str, request: Request) -> Response:
        legacy.refuse_if_retired("DELETE", request.url.path)
        legacy.delete(name)
        return json_response({})


def _pipeline_routes(router: APIRouter, engine: SyncEngine) -> None:
    @router.post(PIPELINES + "/{pipeline_id}/updates")
    async def start_update(pipeline_id: str, request: Request) -> Response:
        body = await read_json_object(request)
        check_shape(body.get("cause"), StartUpdateCause, "cause")
        check_shape(body.get("full_refresh"), bool, "full_refresh")
        cause = UpdateInfoCause(body.get("cause", StartUpdateCause.API_CALL.value))
        update_id = await run_in_threadpool(engine.start_update, pipeline_id, cause,
                                            bool(body.get("full_refresh")))
        return json_response(StartUpdateResponse(update_id=update_id).as_dict())

    @router.get(PIPELINES + "/{pipeline_id}")
    def get(pipeline_id: str) -> Response:
        with engine.lock:
            pipeline = engine.pipeline(pipeline_id)
            states = [(u, engine.update_state(pipeline, u)) for u in pipeline.updates]
            return json_response(render.pipeline(pipeline, states).as_dict())

    @router.get(PIPELINES + "/{pipeline_id}/updates")
    def list_updates(pipeline_id: str, request: Request) -> Response:
        with engine.lock:
            pipeline = engine.pipeline(pipeline_id)
            newest_first = list(reversed(pipeline.updates))
            items, token = page(newest_first, int_param(request, "max_results"),
                                request.query_params.get("page_token"))
            infos = [render.update_info(pipeline, u, engine.update_state(pipeline, u))
                     for u in items]
            return json_response(ListUpdatesResponse(updates=infos,
                                                     next_page_token=token).as_dict())

    @router.get(PIPELINES + "/{pipeline_id}/updates/{update_id}")
    def get_update(pipeline_id: str, update_id: str) -> Response:
        with engine.lock:
            pipeline = engine.pipeline(pipeline_id)
            update = next((u for u in pipeline.updates if u.update_id == update_id), None)
            if update is None:
                raise not_found(f"Update '{update_id}' of pipeline '{pipeline_id}' does not "
                                "exist.")
            info = render.update_info(pipeline, update, engine.update_state(pipeline, update))
            return json_response(GetUpdateResponse(update=info).as_dict())
