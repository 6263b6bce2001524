"""MLflow's REST bodies: protobuf messages as JSON, the way MLflow's clients send and read them.

MLflow sends a GET's fields as query parameters and every other method's as a JSON body; answers
are the response message as JSON with int64 fields as numbers (MLflow's own ``message_to_json``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from google.protobuf.message import Message
from mlflow.exceptions import MlflowException
from mlflow.utils.proto_json_utils import message_to_json, parse_dict
from starlette.requests import Request
from starlette.responses import Response

from lakeserve.emulator.errors import ApiError, invalid
from lakeserve.emulator.wire import decode_json_object

M = TypeVar("M", bound=Message)
Handler = Callable[[Any], Message]
Route = tuple[str, str, type[Message], Handler]  # method, path, request message, handler


def add_routes(router: APIRouter, prefix: str, routes: list[Route],
               headers: dict[str, str] | None = None) -> None:
    """One route per entry: the request message in, the handler's message out (in a thread),
    with ``headers`` on every answer."""
    for method, path, request_cls, handler in routes:
        router.add_api_route(prefix + path, _endpoint(request_cls, handler, headers or {}),
                             methods=[method])


def _endpoint(request_cls: type[Message], handler: Handler, headers: dict[str, str]):
    async def endpoint(request: Request) -> Response:
        message = await read_message(request, request_cls)
        response = message_response(await run_in_threadpool(_call, handler, message))
        response.headers.update(headers)
        return response
    return endpoint


def _call(handler: Handler, message: Message) -> Message:
    try:
        return handler(message)
    except MlflowException as exc:  # MLflow's own stores raise these, with Databricks' codes
        raise ApiError(exc.get_http_status_code(), exc.error_code, exc.message) from None


async def read_message(request: Request, cls: type[M]) -> M:
    """The request message from the query (GET) or JSON body, plus the path's parameters."""
    fields: dict = dict(request.query_params)
    if request.method != "GET":
        fields.update(decode_json_object(await request.body()))
    fields.update(request.path_params)
    message = cls()
    try:
        parse_dict(fields, message)
    except Exception as exc:  # noqa: BLE001 - json_format raises several types
        raise invalid(f"Invalid request for {cls.__name__}: {exc}") from None
    return message


def message_response(message: Message) -> Response:
    return Response(json.dumps(json.loads(message_to_json(message)), separators=(",", ":")),
                    media_type="application/json")


def required(message: Message, *fields: str) -> None:
    for field in fields:
        if not getattr(message, field):
            raise invalid(f"Missing required field: {field}")
