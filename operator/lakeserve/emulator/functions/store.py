"""Unity Catalog functions (Python UDFs), created by SQL or REST, and callable in-process.

Kept in memory like serving endpoints (persisted under ``--data-dir``); the schema a function
lives in must exist in the catalog's directory layout. Both ways of creating a function build a
:class:`Definition` and get the same ``FunctionInfo`` back.

In-process API (the invocation path): ``call(full_name, **kwargs)`` runs the function with its
parameters by name (arguments coerced like Spark does for scalar types); ``callable(full_name)``
returns that as a function. Compiled bodies are cached per definition (``function_id``).

Feature specs are Unity Catalog functions too (of type FEATURE_SPEC): ``define_feature_spec``
keeps the spec's document beside its ``FunctionInfo``, so it is listed, read and dropped like any
function, but cannot be called.
"""

from __future__ import annotations

import ast
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from databricks.sdk.service.catalog import (
    FunctionInfo,
    FunctionInfoParameterStyle,
    FunctionInfoRoutineBody,
    FunctionInfoSecurityType,
    FunctionInfoSqlDataAccess,
    FunctionParameterInfo,
    FunctionParameterInfos,
    FunctionParameterMode,
    FunctionParameterType,
)

from lakeserve.emulator.catalog.names import ObjectName, SchemaName, parse_object_name
from lakeserve.emulator.catalog.store import DeltaCatalog
from lakeserve.emulator.catalog.types import SqlType, coerce
from lakeserve.emulator.clock import Clock, millis
from lakeserve.emulator.context import METASTORE_ID
from lakeserve.emulator.errors import RESOURCE_DOES_NOT_EXIST, ApiError
from lakeserve.emulator.functions import pybody

PYTHON = "PYTHON"


@dataclass(frozen=True)
class Parameter:
    name: str
    type: SqlType
    comment: str | None = None
    default: str | None = None  # a SQL literal as written


@dataclass(frozen=True)
class Definition:
    name: ObjectName
    params: tuple[Parameter, ...]
    returns: SqlType
    body: str
    deterministic: bool = True
    comment: str | None = None
    data_access: FunctionInfoSqlDataAccess = FunctionInfoSqlDataAccess.NO_SQL


class FunctionExists(Exception):
    pass


class FunctionCallError(Exception):
    """The function's body raised, or the arguments do not fit its parameters."""


@dataclass
class _Compiled:
    function: Callable[..., Any]
    params: tuple[Parameter, ...]
    returns: SqlType
    defaults: dict[str, Any]


def function_missing(full_name: str) -> ApiError:
    return ApiError(404, RESOURCE_DOES_NOT_EXIST, f"Routine or Model '{full_name}' does not exist.")


class FunctionStore:
    def __init__(self, catalog: DeltaCatalog, clock: Clock):
        self._catalog = catalog
        self._clock = clock
        self._functions: dict[str, FunctionInfo] = {}
        self._definitions: dict[str, Definition] = {}
        self._feature_specs: dict[str, dict[str, Any]] = {}
        self._compiled: dict[str, _Compiled] = {}
        self._lock = threading.RLock()
        self._settlers: list[Callable[[], None]] = []

    def add_settler(self, settle: Callable[[], None]) -> None:
        """Run ``settle`` before every read (SQL statements finish their pending work there)."""
        self._settlers.append(settle)

    # ---- writes ------------------------------------------------------------------------

    def define(self, definition: Definition, principal: str, *, replace: bool) -> FunctionInfo:
        """Create (or with ``replace`` overwrite) a function. The caller has checked the body;
        raises the catalog's 404s for a missing schema and :class:`FunctionExists`."""
        self._catalog.require_schema(definition.name.schema_name)
        full = definition.name.full
        with self._lock:
            current = self._functions.get(full)
            if current is not None and not replace:
                raise FunctionExists(full)
            now = millis(self._clock.now())
            info = _info(definition, principal, now, current)
            self._functions[full] = info
            self._definitions[full] = definition
            self._feature_specs.pop(full, None)
            return info

    def define_feature_spec(self, name: ObjectName, document: dict[str, Any],
                            principal: str) -> FunctionInfo:
        """Store a feature spec as a function of type FEATURE_SPEC; raises :class:`FunctionExists`
        when any function of that name exists, and the catalog's 404 for a missing schema."""
        self._catalog.require_schema(name.schema_name)
        with self._lock:
            if name.full in self._functions:
                raise FunctionExists(name.full)
            now = millis(self._clock.now())
            info = FunctionInfo(
                name=name.name, catalog_name=name.catalog, schema_name=name.schema,
                full_name=name.full, function_id=str(uuid.uuid4()), owner=principal,
                created_at=now, created_by=principal, updated_at=now, updated_by=principal,
                metastore_id=METASTORE_ID)
            self._functions[name.full] = info
            self._feature_specs[name.full] = dict(document)
            return info

    def drop(self, full_name: str) -> bool:
        """Remove a function; False when there was none."""
        with self._lock:
            info = self._functions.pop(full_name, None)
            self._definitions.pop(full_name, None)
            self._feature_specs.pop(full_name, None)
            if info is not None:
                self._compiled.pop(info.function_id, None)
            return info is not None

    def set_owner(self, full_name: str, owner: str | None, principal: str) -> FunctionInfo:
        info = self.get(full_name)  # settles statements: before taking the lock
        with self._lock:
            if owner:
                info.owner = owner
                info.updated_at = millis(self._clock.now())
                info.updated_by = principal
            return info

    def reset(self, options: dict[str, Any] | None = None) -> None:
        with self._lock:
            self._functions.clear()
            self._definitions.clear()
            self._feature_specs.clear()
            self._compiled.clear()

    def snapshot(self) -> dict[str, Any]:
        """Functions, their definitions and feature specs (compiled bodies are a cache, built on
        first call)."""
        with self._lock:
            return {"functions": dict(self._functions), "definitions": dict(self._definitions),
                    "feature_specs": dict(self._feature_specs)}

    def restore(self, state: dict[str, Any]) -> None:
        with self._lock:
            self._functions = dict(state["functions"])
            self._definitions = dict(state["definitions"])
            self._feature_specs = dict(state.get("feature_specs") or {})
            self._compiled.clear()

    # ---- reads -------------------------------------------------------------------------

    def find(self, full_name: str) -> FunctionInfo | None:
        self._settle()
        return self.peek(full_name)

    def peek(self, full_name: str) -> FunctionInfo | None:
        """Like :meth:`find`, without settling pending statements first (for the settlers)."""
        with self._lock:
            return self._functions.get(full_name.lower())

    def get(self, full_name: str) -> FunctionInfo:
        name = parse_object_name(full_name, "name")
        info = self.find(name.full)
        if info is None:
            raise function_missing(name.full)
        return info

    def definition(self, full_name: str) -> Definition | None:
        """A Python function's definition; None for a feature spec or a missing function."""
        self._settle()
        with self._lock:
            return self._definitions.get(full_name.lower())

    def feature_spec(self, full_name: str) -> dict[str, Any] | None:
        """A feature spec's stored document, or None (no function, or not a feature spec)."""
        self._settle()
        with self._lock:
            document = self._feature_specs.get(full_name.lower())
            return dict(document) if document is not None else None

    def list_functions(self, catalog: str, schema: str) -> list[FunctionInfo]:
        self._catalog.require_schema(SchemaName(catalog, schema))
        self._settle()
        with self._lock:
            return [info for full, info in sorted(self._functions.items())
                    if info.catalog_name == catalog and info.schema_name == schema]

    # ---- in-process calls ----------------------------------------------------------------

    def callable(self, full_name: str) -> Callable[..., Any]:
        """The function as a Python callable taking its parameters by name."""
        name = full_name

        def call(**kwargs: Any) -> Any:
            return self.call(name, **kwargs)
        return call

    def call(self, full_name: str, /, **kwargs: Any) -> Any:
        """Run the function with its parameters by name; raises :class:`FunctionCallError`
        (bad arguments or an exception in the body) and 404 ``ApiError`` (no such function)."""
        compiled = self._compile(full_name)
        unknown = sorted(set(kwargs) - {p.name for p in compiled.params})
        if unknown:
            raise FunctionCallError(f"{full_name} has no parameter(s) {', '.join(unknown)}; its "
                                    f"parameters are: {_names(compiled.params)}")
        args = []
        for param in compiled.params:
            if param.name in kwargs:
                value = kwargs[param.name]
            elif param.name in compiled.defaults:
                value = compiled.defaults[param.name]
            else:
                raise FunctionCallError(f"{full_name} needs a value for parameter "
                                        f"'{param.name}'; its parameters are: "
                                        f"{_names(compiled.params)}")
            args.append(_coerce(full_name, param, value))
        try:
            result = compiled.function(*args)
        except Exception as exc:
            raise FunctionCallError(f"Python function {full_name} failed: "
                                    f"{type(exc).__name__}: {exc}") from exc
        return _coerce_result(full_name, result, compiled.returns)

    def _compile(self, full_name: str) -> _Compiled:
        info = self.get(full_name)
        with self._lock:
            if info.full_name in self._feature_specs:
                raise FunctionCallError(f"{info.full_name} is a feature spec (a function of type "
                                        "FEATURE_SPEC), not a Python function: it cannot be "
                                        "called")
            compiled = self._compiled.get(info.function_id)
            if compiled is None:
                definition = self._definitions[info.full_name]
                params = [p.name for p in definition.params]
                function = pybody.compile_function(definition.body, params, info.full_name)
                defaults = {p.name: _literal(p.default) for p in definition.params
                            if p.default is not None}
                compiled = self._compiled[info.function_id] = _Compiled(
                    function, definition.params, definition.returns, defaults)
            return compiled

    def _settle(self) -> None:
        for settle in self._settlers:
            settle()


def _info(definition: Definition, principal: str, now: int,
          replaced: FunctionInfo | None) -> FunctionInfo:
    name = definition.name
    params = [FunctionParameterInfo(
        name=p.name, type_text=p.type.text, type_name=p.type.type_name, position=i,
        type_json=p.type.field_json(p.name), type_precision=p.type.precision,
        type_scale=p.type.scale, comment=p.comment, parameter_default=p.default,
        parameter_mode=FunctionParameterMode.IN, parameter_type=FunctionParameterType.PARAM)
        for i, p in enumerate(definition.params)]
    created_at = replaced.created_at if replaced else now
    created_by = replaced.created_by if replaced else principal
    return FunctionInfo(
        name=name.name, catalog_name=name.catalog, schema_name=name.schema, full_name=name.full,
        function_id=str(uuid.uuid4()), input_params=FunctionParameterInfos(parameters=params),
        data_type=definition.returns.type_name, full_data_type=definition.returns.text,
        routine_body=FunctionInfoRoutineBody.EXTERNAL, routine_definition=definition.body,
        external_language=PYTHON, parameter_style=FunctionInfoParameterStyle.S,
        is_deterministic=definition.deterministic, sql_data_access=definition.data_access,
        is_null_call=False, security_type=FunctionInfoSecurityType.DEFINER,
        specific_name=name.name, comment=definition.comment,
        owner=replaced.owner if replaced else principal, created_at=created_at,
        created_by=created_by, updated_at=now, updated_by=principal, metastore_id=METASTORE_ID)


def _names(params: tuple[Parameter, ...]) -> str:
    return ", ".join(p.name for p in params) or "(none)"


def _coerce(full_name: str, param: Parameter, value: Any) -> Any:
    try:
        return coerce(value, param.type)
    except (TypeError, ValueError):
        raise FunctionCallError(f"{full_name}: cannot pass {value!r} as parameter "
                                f"'{param.name}' of type {param.type.text}") from None


def _coerce_result(full_name: str, value: Any, returns: SqlType) -> Any:
    try:
        return coerce(value, returns)
    except (TypeError, ValueError):
        raise FunctionCallError(f"{full_name} returned {value!r}, which is not a "
                                f"{returns.text}") from None


def _literal(text: str) -> Any:
    if text.upper() == "NULL":
        return None
    if text.upper() in ("TRUE", "FALSE"):
        return text.upper() == "TRUE"
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text

