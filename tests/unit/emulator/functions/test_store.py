"""Functions defined once, read the same way, and callable in-process."""

from __future__ import annotations

import pytest

from lakeserve.emulator.catalog.names import ObjectName
from lakeserve.emulator.catalog.store import DeltaCatalog
from lakeserve.emulator.errors import ApiError
from lakeserve.emulator.functions import rest
from lakeserve.emulator.functions.store import (
    Definition,
    FunctionCallError,
    FunctionExists,
    FunctionStore,
    Parameter,
)
from lakeserve.emulator.sql.parser import parse_type

USER = "someone@example.com"
NAME = ObjectName("main", "default", "monthly_charges_avrg")
DOUBLE = parse_type("DOUBLE")


def definition(body: str = "avrg = TotalCharges / tenure\nreturn avrg") -> Definition:
    return Definition(NAME, (Parameter("TotalCharges", DOUBLE), Parameter("tenure", DOUBLE)),
                      DOUBLE, body)


@pytest.fixture
def functions(ctx) -> FunctionStore:
    return FunctionStore(DeltaCatalog(ctx.data_dir, ctx.clock), ctx.clock)


def test_the_feature_function_computes_total_charges_over_tenure(functions):
    functions.define(definition(), USER, replace=False)
    assert functions.call(NAME.full, TotalCharges=120.0, tenure=4) == 30.0
    assert functions.callable(NAME.full)(TotalCharges="10", tenure=4) == 2.5  # coerced


def test_the_body_is_compiled_once_per_definition(functions, monkeypatch):
    from lakeserve.emulator.functions import pybody

    compiled = []
    original = pybody.compile_function
    monkeypatch.setattr(pybody, "compile_function",
                        lambda *args: compiled.append(args) or original(*args))
    functions.define(definition(), USER, replace=False)
    for _ in range(3):
        functions.call(NAME.full, TotalCharges=1.0, tenure=1.0)
    functions.define(definition("return 0.0"), USER, replace=True)
    assert functions.call(NAME.full, TotalCharges=1.0, tenure=1.0) == 0.0
    assert len(compiled) == 2


def test_call_errors_say_what_went_wrong(functions):
    functions.define(definition(), USER, replace=False)
    with pytest.raises(FunctionCallError, match="ZeroDivisionError"):
        functions.call(NAME.full, TotalCharges=1.0, tenure=0)
    with pytest.raises(FunctionCallError, match="needs a value for parameter 'tenure'"):
        functions.call(NAME.full, TotalCharges=1.0)
    with pytest.raises(FunctionCallError, match="no parameter"):
        functions.call(NAME.full, TotalCharges=1.0, tenure=1, extra=2)
    with pytest.raises(ApiError) as missing:
        functions.call("main.default.nothing")
    assert missing.value.status == 404


def test_info_is_what_databricks_returns(functions):
    info = functions.define(definition(), USER, replace=False).as_dict()
    assert info["full_name"] == NAME.full and info["function_id"]
    assert info["routine_body"] == "EXTERNAL" and info["external_language"] == "PYTHON"
    assert (info["data_type"], info["full_data_type"]) == ("DOUBLE", "double")
    assert [(p["name"], p["type_text"], p["type_name"], p["position"])
            for p in info["input_params"]["parameters"]] == \
        [("TotalCharges", "double", "DOUBLE", 0), ("tenure", "double", "DOUBLE", 1)]
    assert info["owner"] == info["created_by"] == USER


def test_replacing_keeps_creation_and_refusing_without_replace(functions, clock):
    first = functions.define(definition(), USER, replace=False)
    with pytest.raises(FunctionExists):
        functions.define(definition(), USER, replace=False)
    clock.advance(5)
    second = functions.define(definition("return 1.0"), "other@example.com", replace=True)
    assert second.created_at == first.created_at and second.updated_at > first.updated_at
    assert second.function_id != first.function_id


def test_a_missing_schema_is_a_404(functions):
    missing = Definition(ObjectName("main", "nowhere", "f"), (), DOUBLE, "return 1.0")
    with pytest.raises(ApiError) as failure:
        functions.define(missing, USER, replace=False)
    assert (failure.value.status, failure.value.error_code) == (404, "SCHEMA_DOES_NOT_EXIST")


def rest_body(body: str = "return TotalCharges / tenure", **extra) -> dict:
    params = [{"name": n, "type_text": "double", "type_name": "DOUBLE", "position": i}
              for i, n in enumerate(["TotalCharges", "tenure"])]
    return {"function_info": {
        "name": "f", "catalog_name": "main", "schema_name": "default",
        "input_params": {"parameters": params}, "data_type": "DOUBLE",
        "full_data_type": "double", "routine_body": "EXTERNAL", "routine_definition": body,
        "parameter_style": "S", "is_deterministic": True, "sql_data_access": "NO_SQL",
        "is_null_call": False, "security_type": "DEFINER", "specific_name": "f",
        "external_language": "Python", **extra}}


def test_the_rest_body_becomes_the_same_definition():
    made = rest.definition(rest_body())
    assert [p.name for p in made.params] == ["TotalCharges", "tenure"]
    assert made.returns.text == "double" and made.name.full == "main.default.f"


@pytest.mark.parametrize("body, fragment", [
    (rest_body("return (TotalCharges"), "Invalid Python function body"),
    (rest_body(routine_body="SQL"), "runs Python functions only"),
    (rest_body(external_language="Scala"), "runs Python functions only"),
    (rest_body(sql_data_access="READS_SQL_DATA"), "NO_SQL"),
    ({"function_info": {"name": "f"}}, "Missing required field"),
])
def test_bad_rest_bodies_are_400s(body, fragment):
    with pytest.raises(ApiError) as failure:
        rest.definition(body)
    assert failure.value.status == 400 and fragment in failure.value.message


def with_param(type_text: str, type_json: str | None, **extra) -> dict:
    param = {"name": "x", "type_text": type_text, "position": 0, **extra}
    if type_json is not None:
        param["type_json"] = type_json
    return rest_body("return x", input_params={"parameters": [param]})


ARRAY_JSON = ('{"name":"x","type":{"type":"array","elementType":"string","containsNull":true},'
              '"nullable":true,"metadata":{}}')


# (reason, type_text, type_json, extra fields, accepted?)
TYPE_JSON = [
    ("a scalar described right", "double",
     '{"name":"x","type":"double","nullable":true,"metadata":{}}', {}, True),
    ("an array as Spark writes it", "array<string>", ARRAY_JSON, {}, True),
    ("an array written as a type name", "array<string>",
     '{"name":"x","type":"array<string>","nullable":true,"metadata":{}}', {}, False),
    ("another parameter's name", "double",
     '{"name":"y","type":"double","nullable":true,"metadata":{}}', {}, False),
    ("not JSON", "double", "double", {}, False),
    ("decimal with its precision and scale", "decimal(10,0)",
     '{"name":"x","type":"decimal(10,0)","nullable":true,"metadata":{}}',
     {"type_precision": 10, "type_scale": 0}, True),
    ("decimal with another scale", "decimal(10,0)", None,
     {"type_precision": 10, "type_scale": 2}, False),
]


@pytest.mark.parametrize("case, text, type_json, extra, accepted", TYPE_JSON,
                         ids=[t[0] for t in TYPE_JSON])
def test_type_json_must_describe_the_parameter(case, text, type_json, extra, accepted):
    body = with_param(text, type_json, **extra)
    if accepted:
        assert rest.definition(body).params[0].name == "x"
        return
    with pytest.raises(ApiError) as failure:
        rest.definition(body)
    assert failure.value.status == 400


SPEC = ObjectName("main", "default", "churn_features")


def test_a_feature_spec_is_a_function_that_cannot_be_called(functions):
    document = {"name": SPEC.full, "features": []}
    info = functions.define_feature_spec(SPEC, document, USER)
    assert functions.get(SPEC.full).function_id == info.function_id
    assert [f.name for f in functions.list_functions("main", "default")] == ["churn_features"]
    assert functions.feature_spec(SPEC.full) == document
    assert functions.definition(SPEC.full) is None
    with pytest.raises(FunctionCallError, match="is a feature spec"):
        functions.call(SPEC.full)
    with pytest.raises(FunctionExists):
        functions.define_feature_spec(SPEC, document, USER)


def test_feature_specs_survive_a_snapshot_and_go_with_drop(functions, ctx):
    functions.define_feature_spec(SPEC, {"name": SPEC.full}, USER)
    restored = FunctionStore(DeltaCatalog(ctx.data_dir, ctx.clock), ctx.clock)
    restored.restore(functions.snapshot())
    assert restored.feature_spec(SPEC.full) == {"name": SPEC.full}
    assert restored.drop(SPEC.full)
    assert restored.feature_spec(SPEC.full) is None
