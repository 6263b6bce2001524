import json

import pytest
from databricks.sdk.service.catalog import FunctionInfo

from lakeserve.api.featurefunction import FeatureFunctionSpec
from lakeserve.resources.featurefunction import sql, types
from lakeserve.resources.featurefunction.client import create_request, definition_diff

NOTEBOOK = FeatureFunctionSpec.model_validate({
    "catalog": "main", "schema": "ml", "name": "monthly_charges_avrg",
    "parameters": [{"name": "TotalCharges", "type": "DOUBLE"}, {"name": "tenure", "type": "double"}],
    "returns": "DOUBLE",
    "body": "    avrg = TotalCharges / tenure\n    return avrg\n",
})


def test_notebook_function_renders_as_databricks_documents_it():
    assert sql.create_or_replace(NOTEBOOK) == (
        "CREATE OR REPLACE FUNCTION `main`.`ml`.`monthly_charges_avrg`"
        "(`TotalCharges` DOUBLE, `tenure` DOUBLE)\n"
        "RETURNS DOUBLE\nLANGUAGE PYTHON\nDETERMINISTIC\nAS $$\n"
        "avrg = TotalCharges / tenure\nreturn avrg\n$$")


def test_comments_are_quoted_safely():
    spec = NOTEBOOK.model_copy(update={"comment": "it's 'avg'"})
    assert "COMMENT 'it\\'s \\'avg\\''" in sql.create_or_replace(spec)


# (reason for the case, spelling, canonical)
TYPE_SPELLINGS = [("synonym long", "long", "BIGINT"), ("synonym integer", "Integer", "INT"),
                  ("decimal spacing", "decimal(10, 2)", "DECIMAL(10,2)"),
                  ("nested synonym", "array<long>", "ARRAY<BIGINT>")]


def test_type_spellings_are_canonical():
    for case, spelling, canonical in TYPE_SPELLINGS:
        assert types.canonical(spelling) == canonical, case


def echo(**changes):
    data = {"full_name": "main.ml.monthly_charges_avrg", "routine_definition":
            "avrg = TotalCharges / tenure\nreturn avrg", "data_type": "DOUBLE",
            "full_data_type": "double", "is_deterministic": True, "external_language": "PYTHON",
            "input_params": {"parameters": [
                {"name": "TotalCharges", "type_text": "double", "position": 0},
                {"name": "tenure", "type_text": "double", "position": 1}]}}
    data.update(changes)
    return FunctionInfo.from_dict(data)


def test_function_read_back_matches_its_spec():
    assert definition_diff(NOTEBOOK, echo()) == []


def test_changed_body_parameters_and_return_are_seen():
    info = echo(routine_definition="return 0", full_data_type="bigint",
                input_params={"parameters": [{"name": "x", "type_text": "double", "position": 0}]})
    assert definition_diff(NOTEBOOK, info) == ["body", "parameters", "returns"]


def test_rest_body_for_a_python_udf():
    body = create_request(NOTEBOOK).as_dict()
    assert body["routine_body"] == "EXTERNAL" and body["external_language"] == "Python"
    assert body["sql_data_access"] == "NO_SQL"
    assert body["input_params"]["parameters"][1] == {
        "name": "tenure", "type_text": "double", "type_name": "DOUBLE", "position": 1,
        "type_json": '{"name":"tenure","type":"double","nullable":true,"metadata":{}}'}


def test_definition_hash_ignores_indentation_but_not_code():
    indented = NOTEBOOK.model_copy(update={"body": "avrg = TotalCharges / tenure\nreturn avrg"})
    changed = NOTEBOOK.model_copy(update={"body": "return 1"})
    assert sql.definition_hash(indented) == sql.definition_hash(NOTEBOOK)
    assert sql.definition_hash(changed) != sql.definition_hash(NOTEBOOK)


# (reason, SQL type, the Spark JSON ``type`` of the parameter)
SPARK_TYPES = [
    ("scalar", "double", "double"),
    ("synonym", "LONG", "long"),
    ("bare decimal is decimal(10,0)", "DECIMAL", "decimal(10,0)"),
    ("decimal", "decimal(12, 2)", "decimal(12,2)"),
    ("array", "ARRAY<STRING>", {"type": "array", "elementType": "string", "containsNull": True}),
    ("map", "map<string, bigint>", {"type": "map", "keyType": "string", "valueType": "long",
                                    "valueContainsNull": True}),
    ("struct keeps field names", "STRUCT<userId: INT, tags: ARRAY<STRING>>",
     {"type": "struct", "fields": [
         {"name": "userId", "type": "integer", "nullable": True, "metadata": {}},
         {"name": "tags", "type": {"type": "array", "elementType": "string",
                                   "containsNull": True}, "nullable": True, "metadata": {}}]}),
]


@pytest.mark.parametrize("case, sql_type, spark", SPARK_TYPES, ids=[t[0] for t in SPARK_TYPES])
def test_type_json_is_a_spark_struct_field(case, sql_type, spark):
    assert json.loads(types.type_json("p", sql_type)) == {
        "name": "p", "type": spark, "nullable": True, "metadata": {}}


def test_a_bare_decimal_compares_equal_to_its_echo():
    spec = NOTEBOOK.model_copy(update={"returns": "DECIMAL"})
    assert definition_diff(spec, echo(full_data_type="decimal(10,0)")) == []
    with_decimal = FeatureFunctionSpec.model_validate({
        **NOTEBOOK.to_wire(), "parameters": [{"name": "x", "type": "decimal"}]})
    param = create_request(with_decimal).as_dict()["input_params"]["parameters"][0]
    assert (param["type_precision"], param["type_scale"], param["type_name"]) == \
        (10, 0, "DECIMAL")


def test_struct_field_names_keep_their_case_in_sql():
    spec = NOTEBOOK.model_copy(update={"returns": "struct<avg: double, Count: int>"})
    assert "RETURNS STRUCT<avg:DOUBLE,Count:INT>" in sql.create_or_replace(spec)
