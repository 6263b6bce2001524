"""``/_emulator/serving/...``: make deployments of chosen model versions fail."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from lakeserve.emulator.errors import invalid
from lakeserve.emulator.serving.service import ServingService
from lakeserve.emulator.wire import json_response, read_json_object

DEFAULT_FAILURE_MESSAGE = "Served entity failed to deploy: the container exited during startup."


def build_control_router(service: ServingService) -> APIRouter:
    router = APIRouter(prefix="/_emulator/serving")

    @router.get("/deployment-failures")
    async def list_failures() -> Response:
        return json_response({"failures": service.failures.as_list()})

    @router.post("/deployment-failures")
    async def add_failure(request: Request) -> Response:
        name, version, message = _failure(await read_json_object(request))
        service.failures.add(name, version, message or DEFAULT_FAILURE_MESSAGE)
        return json_response({"failures": service.failures.as_list()})

    @router.delete("/deployment-failures")
    async def clear_failures(request: Request) -> Response:
        body = await read_json_object(request)
        if body:
            name, version, _ = _failure(body)
            service.failures.remove(name, version)
        else:
            service.failures.remove()
        return json_response({"failures": service.failures.as_list()})

    return router


def _failure(body: dict) -> tuple[str, str, str | None]:
    name, version = body.get("entity_name"), body.get("entity_version")
    message = body.get("message")
    if not isinstance(name, str) or not name:
        raise invalid("entity_name is required")
    if not isinstance(version, (str, int)) or isinstance(version, bool) or str(version) == "":
        raise invalid("entity_version is required")
    if message is not None and not isinstance(message, str):
        raise invalid("message must be a string")
    return name, str(version), message
