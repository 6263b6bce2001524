"""The Functions REST create body (``CreateFunction``) -> a :class:`Definition`, with UC's 400s.

Only Python UDFs run here: ``routine_body`` EXTERNAL with ``external_language`` Python (any case);
for EXTERNAL functions UC requires ``sql_data_access`` NO_SQL and no ``return_params``. A
parameter's ``type_json``, when sent, must be the Spark StructField JSON of that parameter (its
name, and the type ``type_text`` names), and a DECIMAL's ``type_precision``/``type_scale`` must
agree with it.
"""

from __future__ import annotations

import json
from typing import Any

from databricks.sdk.service.catalog import (
    CreateFunction,
    CreateFunctionRoutineBody,
    CreateFunctionSqlDataAccess,
    FunctionInfoSqlDataAccess,
    FunctionParameterInfo,
)

from lakeserve.emulator.catalog.names import ObjectName, identifier
from lakeserve.emulator.catalog.types import SqlType, from_spark_json
from lakeserve.emulator.errors import invalid
from lakeserve.emulator.functions import pybody
from lakeserve.emulator.functions.store import Definition, Parameter
from lakeserve.emulator.sql.parser import parse_type
from lakeserve.emulator.wire import parse

_REQUIRED = ("name", "catalog_name", "schema_name", "data_type", "full_data_type",
             "routine_body", "routine_definition")


def definition(body: dict[str, Any]) -> Definition:
    raw = body.get("function_info")
    if not isinstance(raw, dict):
        raise invalid("Missing required field: function_info")
    request = parse(raw, CreateFunction, "function_info")
    for field in _REQUIRED:
        if getattr(request, field) in (None, ""):
            raise invalid(f"Missing required field: function_info.{field}")
    _check_python(request)
    name = ObjectName(identifier(request.catalog_name, "catalog_name"),
                      identifier(request.schema_name, "schema_name"),
                      identifier(request.name, "name"))
    params = _parameters(request.input_params.parameters if request.input_params else None)
    returns = _type(request.full_data_type, "function_info.full_data_type")
    result = Definition(name=name, params=params, returns=returns,
                        body=request.routine_definition,
                        deterministic=request.is_deterministic is not False,
                        comment=request.comment, data_access=FunctionInfoSqlDataAccess.NO_SQL)
    check_body(result)
    return result


def check_body(result: Definition) -> None:
    try:
        pybody.check(result.body, [p.name for p in result.params])
    except pybody.BodyError as exc:
        raise invalid(f"Invalid Python function body for '{result.name.full}': {exc}") from None


def _check_python(request: CreateFunction) -> None:
    if request.routine_body is not CreateFunctionRoutineBody.EXTERNAL or \
            (request.external_language or "").upper() != "PYTHON":
        raise invalid("The local workspace (lakeserve emulator) runs Python functions only: "
                      "routine_body EXTERNAL with external_language Python")
    if request.sql_data_access not in (None, CreateFunctionSqlDataAccess.NO_SQL):
        raise invalid("sql_data_access must be NO_SQL when routine_body is EXTERNAL")
    if request.return_params is not None:
        raise invalid("return_params cannot be used when routine_body is EXTERNAL")


def _parameters(infos: list[FunctionParameterInfo] | None) -> tuple[Parameter, ...]:
    ordered = sorted(infos or [], key=lambda p: p.position if p.position is not None else -1)
    params = []
    for index, info in enumerate(ordered):
        where = f"function_info.input_params.parameters[{index}]"
        if not info.name:
            raise invalid(f"Missing required field: {where}.name")
        if info.position != index:
            raise invalid(f"Parameter positions must be 0..{len(ordered) - 1} without gaps; "
                          f"'{info.name}' has position {info.position}")
        text = info.type_text or (info.type_name.value if info.type_name else None)
        if not text:
            raise invalid(f"Missing required field: {where}.type_text")
        sql_type = _type(text, f"{where}.type_text")
        _check_type_json(info, sql_type, where)
        _check_decimal(info, sql_type, where)
        params.append(Parameter(info.name, sql_type, info.comment, info.parameter_default))
    names = [p.name.lower() for p in params]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise invalid(f"Duplicate parameter name(s): {', '.join(duplicates)}")
    return tuple(params)


def _check_type_json(info: FunctionParameterInfo, sql_type: SqlType, where: str) -> None:
    if info.type_json is None:
        return
    try:
        field = json.loads(info.type_json)
        described = from_spark_json(field["type"])
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise invalid(f"Invalid {where}.type_json: not the JSON of a Spark StructField "
                      f"({exc})") from None
    if not isinstance(field, dict) or field.get("name") != info.name or described != sql_type:
        raise invalid(f"{where}.type_json {info.type_json} does not describe parameter "
                      f"'{info.name}' of type {sql_type.text}")


def _check_decimal(info: FunctionParameterInfo, sql_type: SqlType, where: str) -> None:
    given = (info.type_precision, info.type_scale)
    if sql_type.name == "DECIMAL" and given != (None, None) and \
            given != (sql_type.precision, sql_type.scale):
        raise invalid(f"{where}: type_precision/type_scale {given} do not match "
                      f"{sql_type.text}")


def _type(text: str, field: str) -> SqlType:
    try:
        return parse_type(text)
    except ValueError as exc:
        raise invalid(f"Invalid {field}: {exc}") from None
