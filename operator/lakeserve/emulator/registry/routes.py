"""REST paths of the UC model registry (``/api/2.1/unity-catalog/models``), as the SDK's
``w.registered_models`` and ``w.model_versions`` call them."""

from __future__ import annotations

from databricks.sdk.service.catalog import (
    ListModelVersionsResponse,
    ListRegisteredModelsResponse,
    RegisteredModelInfo,
)
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from lakeserve.emulator.errors import invalid
from lakeserve.emulator.registry.names import parse_version
from lakeserve.emulator.registry.store import ModelRegistry
from lakeserve.emulator.wire import json_response, parse, query_flag, read_json_object

UC_MODELS = "/api/2.1/unity-catalog/models"


def build_router(registry: ModelRegistry) -> APIRouter:
    router = APIRouter()

    @router.get(UC_MODELS)
    def list_models(request: Request) -> Response:
        query = request.query_params
        models, token = registry.list_models(query.get("catalog_name"), query.get("schema_name"),
                                             _max_results(request), query.get("page_token"))
        return json_response(ListRegisteredModelsResponse(registered_models=models,
                                                          next_page_token=token).as_dict())

    @router.post(UC_MODELS)
    async def create_model(request: Request) -> Response:
        body = parse(await read_json_object(request), RegisteredModelInfo)
        for field in ("catalog_name", "schema_name", "name"):
            if not getattr(body, field):
                raise invalid(f"Missing required field: {field}")
        created = await run_in_threadpool(registry.create_model, body.catalog_name,
                                          body.schema_name, body.name, body.comment)
        return json_response(created.as_dict())

    @router.get(UC_MODELS + "/{full_name}")
    def get_model(full_name: str, request: Request) -> Response:
        return json_response(
            registry.get_model(full_name, query_flag(request, "include_aliases")).as_dict())

    @router.delete(UC_MODELS + "/{full_name}")
    def delete_model(full_name: str) -> Response:
        registry.delete_model(full_name)
        return json_response({})

    @router.get(UC_MODELS + "/{full_name}/versions")
    def list_versions(full_name: str, request: Request) -> Response:
        versions, token = registry.list_versions(full_name, _max_results(request),
                                                 request.query_params.get("page_token"))
        return json_response(ListModelVersionsResponse(model_versions=versions,
                                                       next_page_token=token).as_dict())

    @router.get(UC_MODELS + "/{full_name}/versions/{version}")
    def get_version(full_name: str, version: str, request: Request) -> Response:
        info = registry.get_version(full_name, parse_version(version),
                                    query_flag(request, "include_aliases"))
        return json_response(info.as_dict())

    @router.get(UC_MODELS + "/{full_name}/aliases/{alias}")
    def get_by_alias(full_name: str, alias: str, request: Request) -> Response:
        info = registry.get_version_by_alias(full_name, alias,
                                             query_flag(request, "include_aliases"))
        return json_response(info.as_dict())

    @router.put(UC_MODELS + "/{full_name}/aliases/{alias}")
    async def set_alias(full_name: str, alias: str, request: Request) -> Response:
        body = await read_json_object(request)
        version = body.get("version_num")
        if version is None:
            raise invalid("Missing required field: version_num")
        if isinstance(version, bool) or not isinstance(version, (int, str)):
            raise invalid(f"Invalid version_num '{version}': expected a positive integer")
        result = await run_in_threadpool(registry.set_alias, full_name, alias,
                                         parse_version(version))
        return json_response(result.as_dict())

    @router.delete(UC_MODELS + "/{full_name}/aliases/{alias}")
    def delete_alias(full_name: str, alias: str) -> Response:
        registry.delete_alias(full_name, alias)
        return json_response({})

    return router


def _max_results(request: Request) -> int | None:
    text = request.query_params.get("max_results")
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise invalid(f"Invalid max_results '{text}': expected an integer") from None
