"""The body of ``POST /serving-endpoints/{name}/invocations`` for custom (MLflow) models.

Exactly one input field (``dataframe_split``, ``dataframe_records``, ``instances``, ``inputs``),
optional ``params``, ``client_request_id`` and ``usage_context``. Errors are 400 ``BAD_REQUEST``
(the code MLflow's scoring server, which Databricks runs for custom models, gives bad input), or
``INVALID_PARAMETER_VALUE`` for a wrongly typed optional field; a body over the 16 MB limit is 413.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lakeserve.emulator.errors import ApiError, invalid

BAD_REQUEST = "BAD_REQUEST"
# Databricks documents 16 MB per request for custom models (read here as MiB).
MAX_PAYLOAD_BYTES = 16 * 1024 * 1024
INPUT_FIELDS = ("dataframe_split", "dataframe_records", "instances", "inputs")
_NO_INPUT = (f"The input must be a JSON dictionary with exactly one of the input fields "
             f"{', '.join(INPUT_FIELDS)}")


@dataclass(frozen=True)
class InvocationRequest:
    input_field: str
    data: dict[str, Any]  # {input_field: value}, what MLflow's input parser takes
    params: dict[str, Any] | None = None
    client_request_id: str | None = None
    usage_context: dict[str, str] | None = None


def bad_request(message: str) -> ApiError:
    return ApiError(400, BAD_REQUEST, message)


def check_size(size: int | str | None) -> None:
    """Refuse a body over the limit, from its ``Content-Length`` (before reading) or its length."""
    if size is None:
        return
    try:
        length = int(size)
    except ValueError:
        return  # a malformed header: the length of the body read is checked next
    if length > MAX_PAYLOAD_BYTES:
        raise ApiError(413, BAD_REQUEST,
                       f"The request payload is {length} bytes, which exceeds the limit of "
                       f"{MAX_PAYLOAD_BYTES} bytes (16 MB) per request for custom model "
                       "serving endpoints. Reduce the payload size, for example by splitting "
                       "the input into smaller batches.")


def parse_request(raw: bytes) -> InvocationRequest:
    body = _decode(raw)
    present = [key for key in INPUT_FIELDS if key in body]
    if len(present) != 1:
        raise bad_request(f"{_NO_INPUT}. Received dictionary with input fields: "
                          f"{list(body)}.")
    field = present[0]
    value = body[field]
    _check_input(field, value)
    return InvocationRequest(
        input_field=field, data={field: value}, params=_params(body.get("params")),
        client_request_id=_client_request_id(body.get("client_request_id")),
        usage_context=_usage_context(body.get("usage_context")))


def _decode(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        raise bad_request(f"{_NO_INPUT}. Received an empty request body.")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request("Ensure that input is a valid JSON formatted string. "
                          f"Error: '{exc}'") from None
    if isinstance(body, list):
        raise bad_request(f"{_NO_INPUT}. Received a list.")
    if not isinstance(body, dict):
        raise bad_request(f"{_NO_INPUT}. Received unexpected input type "
                          f"'{type(body).__name__}'.")
    return body


def _check_input(field: str, value: Any) -> None:
    if field == "dataframe_records":
        if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
            raise bad_request("dataframe_records must be a list of records: one JSON object "
                              "per row, mapping column names to values.")
        rows = value
    elif field == "dataframe_split":
        if not isinstance(value, dict) or not isinstance(value.get("data"), list):
            raise bad_request("dataframe_split must be a JSON object with 'data' (a list of "
                              "rows) and optionally 'columns' and 'index'.")
        for key in ("columns", "index"):
            if value.get(key) is not None and not isinstance(value[key], list):
                raise bad_request(f"dataframe_split.{key} must be a list.")
        rows = value["data"]
    else:
        rows = value
    if rows is None or (isinstance(rows, (list, dict, str)) and not rows):
        raise bad_request(f"The input {field} is empty: send at least one row to score.")


def _params(value: Any) -> dict[str, Any] | None:
    if value is not None and not isinstance(value, dict):
        raise invalid("params must be a JSON object mapping parameter names to values.")
    return value or None


def _client_request_id(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise invalid("client_request_id must be a string.")
    return value


def _usage_context(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise invalid("usage_context must be a JSON object mapping strings to strings.")
    return value
