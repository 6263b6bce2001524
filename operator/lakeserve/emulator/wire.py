"""JSON in and out, checked against the databricks-sdk dataclasses so the format cannot drift.

``parse(raw, Cls, "config")`` checks the raw JSON against ``Cls``'s type hints (wrong JSON types are
``MALFORMED_REQUEST``, unknown enum values ``INVALID_PARAMETER_VALUE``, each naming the field), then
builds the dataclass with ``Cls.from_dict``. Unknown fields are ignored, as Databricks does.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import typing
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from lakeserve.emulator.errors import invalid, malformed

T = TypeVar("T")

_HINTS: dict[type, dict[str, Any]] = {}
_JSON_KINDS = {str: "a string", bool: "a boolean", int: "an integer", float: "a number"}


def decode_json_object(raw: bytes) -> dict[str, Any]:
    """The request body as a JSON object; an empty body is ``{}``."""
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise malformed("Invalid JSON given in the body of the request - "
                        "failed to parse given JSON") from None
    if not isinstance(value, dict):
        raise malformed("Invalid JSON given in the body of the request - expected a map")
    return value


async def read_json_object(request: Request) -> dict[str, Any]:
    return decode_json_object(await request.body())


def parse(raw: dict[str, Any], cls: type[T], path: str = "") -> T:
    check_shape(raw, cls, path)
    return cls.from_dict(raw)  # type: ignore[attr-defined]


def parse_list(raw: Any, cls: type[T], path: str) -> list[T]:
    check_shape(raw, list[cls], path)  # type: ignore[valid-type]
    return [cls.from_dict(item) for item in raw or []]  # type: ignore[attr-defined]


def check_shape(value: Any, hint: Any, path: str) -> None:
    """Raise if ``value`` (decoded JSON) does not fit ``hint`` (a dataclass field type)."""
    if value is None or hint is Any:
        return
    origin = typing.get_origin(hint)
    if origin is typing.Union:
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
        check_shape(value, hint, path)
    elif origin is list:
        _expect(isinstance(value, list), "an array", path)
        (item,) = typing.get_args(hint)
        for index, element in enumerate(value):
            check_shape(element, item, f"{path}[{index}]")
    elif origin is dict:
        _expect(isinstance(value, dict), "a map", path)
        item = typing.get_args(hint)[1]
        for key, element in value.items():
            check_shape(element, item, f"{path}.{key}")
    elif isinstance(hint, type) and issubclass(hint, enum.Enum):
        _check_enum(value, hint, path)
    elif dataclasses.is_dataclass(hint):
        _expect(isinstance(value, dict), "a map", path)
        hints = _hints(hint)
        for key, element in value.items():
            if key in hints:
                check_shape(element, hints[key], f"{path}.{key}" if path else key)
    else:
        _check_scalar(value, hint, path)


def _check_scalar(value: Any, hint: Any, path: str) -> None:
    if hint is bool:
        ok = isinstance(value, bool)
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif hint is str:
        ok = isinstance(value, str)
    else:
        return
    _expect(ok, _JSON_KINDS[hint], path)


def _check_enum(value: Any, cls: type[enum.Enum], path: str) -> None:
    _expect(isinstance(value, str), "a string", path)
    allowed = [member.value for member in cls]
    if value not in allowed:
        raise invalid(f"Invalid value '{value}' for {path}; expected one of: {', '.join(allowed)}")


def _expect(ok: bool, kind: str, path: str) -> None:
    if not ok:
        raise malformed("Invalid JSON given in the body of the request - "
                        f"expected {kind} for field '{path}'")


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


def json_response(content: Any, status: int = 200,
                  headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(content, separators=(",", ":")).encode(), status_code=status,
                    headers=headers, media_type="application/json")


def query_flag(request: Request, name: str) -> bool:
    """A boolean query parameter as the SDK sends it (``true``/``false``)."""
    return request.query_params.get(name, "").lower() == "true"
