"""The Unity Catalog paths MLflow's native UC registry store writes through
(``MLFLOW_ENABLE_UC_NATIVE_MODEL_REGISTRY=true``): create and finalize a version and its temporary
credentials. Its reads use the SDK's paths (``routes``); registration is the same as over the
MLflow UC protocol (``registration``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from mlflow.protos import unity_catalog_messages_pb2 as ucm
from starlette.responses import Response

from lakeserve.emulator.clock import Clock, millis
from lakeserve.emulator.protojson import read_message, required
from lakeserve.emulator.registry import convert
from lakeserve.emulator.registry.names import ModelName, parse_full_name, parse_version
from lakeserve.emulator.registry.registration import NewVersion, Registration
from lakeserve.emulator.registry.store import ModelRegistry
from lakeserve.emulator.wire import json_response

UC = "/api/2.1/unity-catalog"
CREDENTIAL_SECONDS = 3600


def build_router(registry: ModelRegistry, registration: Registration, clock: Clock) -> APIRouter:
    router = APIRouter()

    def answer(name: ModelName, version) -> Response:
        return json_response(convert.version_info(version, name, registry.owner(),
                                                  include_aliases=False).as_dict())

    @router.post(UC + "/models/versions")
    async def create(request: Request) -> Response:
        body = await read_message(request, ucm.CreateModelVersion)
        required(body, "catalog_name", "schema_name", "model_name", "source")
        name = ModelName(body.catalog_name, body.schema_name, body.model_name)
        new = NewVersion(name.full, body.source, body.run_id, body.comment,
                         {tag.key: tag.value for tag in body.tags})
        return answer(name, await run_in_threadpool(registration.create, new))

    @router.patch(UC + "/models/{full_name}/versions/{version}/finalize")
    def finalize(full_name: str, version: str) -> Response:
        return answer(parse_full_name(full_name), registration.finalize(full_name, version))

    @router.post(UC + "/temporary-model-version-credentials")
    async def credentials(request: Request) -> Response:
        body = await read_message(request, ucm.GenerateTemporaryModelVersionCredential)
        name = ModelName(body.catalog_name, body.schema_name, body.model_name)
        registry.version(name, parse_version(body.version))
        return json_response({"storage_mode": "DEFAULT_STORAGE",
                              "expiration_time": millis(clock.now() + CREDENTIAL_SECONDS)})

    return router
