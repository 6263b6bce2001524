"""Areas' state as JSON: dataclasses (the emulator's records and the databricks-sdk's), enums,
tuples, non-string dict keys and the values Delta tables hold, encoded and decoded without
per-type code, so a field added to a record later is kept without touching this module.

A dataclass is stored as its class and its ``__init__`` fields and rebuilt by calling the class:
fields added since the state was written take their defaults, fields removed since are dropped.
Fields marked ``field(metadata=TRANSIENT)`` are not stored (live objects such as a deployment's
model futures; the owning area rebuilds them on restore); ``init=False`` fields are derived by the
class itself. Exceptions (a failed SQL statement's error) keep their attributes and ``args``.

Only classes from the emulator, the databricks-sdk and a few standard modules are rebuilt, so a
state file cannot name arbitrary code.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import decimal
import enum
import importlib
import json
import uuid
from pathlib import PurePath
from typing import Any

TRANSIENT = {"persist": False}  # field metadata: not stored
TAG = "~t"  # marks an encoded non-JSON value; plain dicts never carry it
TRUSTED_MODULES = ("lakeserve.emulator.", "databricks.sdk.")
TRUSTED_STANDARD = {"builtins", "datetime", "decimal", "uuid", "pathlib"}

_INIT_FIELDS: dict[type, tuple[str, ...]] = {}


class StateFormatError(ValueError):
    """Stored state that does not decode (a class that is gone, or an untrusted one)."""


def dumps(value: Any) -> str:
    return json.dumps(encode(value), separators=(",", ":"), ensure_ascii=False)


def loads(text: str) -> Any:
    return decode(json.loads(text))


def encode(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)) \
            and not isinstance(value, enum.Enum):
        return value
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        return _encode_dict(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {TAG: "dc", "cls": _class_name(type(value)),
                "fields": {name: encode(getattr(value, name)) for name in _fields(type(value))}}
    if isinstance(value, enum.Enum):
        return {TAG: "enum", "cls": _class_name(type(value)), "value": encode(value.value)}
    return _encode_scalar(value)


def _encode_dict(value: dict) -> Any:
    if all(isinstance(key, str) for key in value) and TAG not in value:
        return {key: encode(item) for key, item in value.items()}
    return {TAG: "map", "items": [[encode(key), encode(item)] for key, item in value.items()]}


def _encode_scalar(value: Any) -> Any:
    if isinstance(value, tuple):
        return {TAG: "tuple", "items": [encode(item) for item in value]}
    if isinstance(value, (set, frozenset)):
        return {TAG: type(value).__name__, "items": [encode(item) for item in value]}
    if isinstance(value, bytes):
        return {TAG: "bytes", "b64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, datetime.datetime):
        return {TAG: "datetime", "iso": value.isoformat()}
    if isinstance(value, datetime.date):
        return {TAG: "date", "iso": value.isoformat()}
    if isinstance(value, datetime.time):
        return {TAG: "time", "iso": value.isoformat()}
    if isinstance(value, datetime.timedelta):
        return {TAG: "timedelta", "seconds": value.total_seconds()}
    if isinstance(value, decimal.Decimal):
        return {TAG: "decimal", "text": str(value)}
    if isinstance(value, uuid.UUID):
        return {TAG: "uuid", "text": str(value)}
    if isinstance(value, PurePath):
        return {TAG: "path", "cls": _class_name(type(value)), "text": str(value)}
    if isinstance(value, type):
        return {TAG: "type", "cls": _class_name(value)}
    if isinstance(value, BaseException):
        return {TAG: "exception", "cls": _class_name(type(value)),
                "args": encode(list(value.args)), "attrs": encode(dict(vars(value)))}
    raise TypeError(f"cannot store a {type(value).__module__}.{type(value).__qualname__} "
                    "(mark the field TRANSIENT and rebuild it on restore)")


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    tag = value.get(TAG)
    if tag is None:
        return {key: decode(item) for key, item in value.items()}
    decoder = _DECODERS.get(tag)
    if decoder is None:
        raise StateFormatError(f"unknown stored value kind '{tag}'")
    return decoder(value)


def _decode_dataclass(value: dict) -> Any:
    cls = _class(value["cls"])
    if not dataclasses.is_dataclass(cls):
        raise StateFormatError(f"{value['cls']} is no longer a dataclass")
    known = set(_fields(cls))
    return cls(**{name: decode(item) for name, item in value["fields"].items() if name in known})


def _decode_exception(value: dict) -> BaseException:
    cls = _class(value["cls"])
    error = cls.__new__(cls)
    error.args = tuple(decode(value["args"]))
    vars(error).update(decode(value["attrs"]))
    return error


_DECODERS = {
    "dc": _decode_dataclass,
    "enum": lambda v: _class(v["cls"])(decode(v["value"])),
    "map": lambda v: {decode(key): decode(item) for key, item in v["items"]},
    "tuple": lambda v: tuple(decode(item) for item in v["items"]),
    "set": lambda v: {decode(item) for item in v["items"]},
    "frozenset": lambda v: frozenset(decode(item) for item in v["items"]),
    "bytes": lambda v: base64.b64decode(v["b64"]),
    "datetime": lambda v: datetime.datetime.fromisoformat(v["iso"]),
    "date": lambda v: datetime.date.fromisoformat(v["iso"]),
    "time": lambda v: datetime.time.fromisoformat(v["iso"]),
    "timedelta": lambda v: datetime.timedelta(seconds=v["seconds"]),
    "decimal": lambda v: decimal.Decimal(v["text"]),
    "uuid": lambda v: uuid.UUID(v["text"]),
    "path": lambda v: _class(v["cls"])(v["text"]),
    "type": lambda v: _class(v["cls"]),
    "exception": _decode_exception,
}


def _fields(cls: type) -> tuple[str, ...]:
    names = _INIT_FIELDS.get(cls)
    if names is None:
        names = _INIT_FIELDS[cls] = tuple(
            f.name for f in dataclasses.fields(cls)
            if f.init and f.metadata.get("persist", True))
    return names


def _class_name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _class(name: str) -> Any:
    module_name, _, qualname = name.partition(":")
    if not (module_name.startswith(TRUSTED_MODULES) or module_name in TRUSTED_STANDARD):
        raise StateFormatError(f"stored state names a class outside the emulator: {name}")
    try:
        found: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        raise StateFormatError(f"stored state names a class that no longer exists: {name}") \
            from None
    if not isinstance(found, type):
        raise StateFormatError(f"stored state names something that is not a class: {name}")
    return found
