"""SQL warehouses, statement execution and UC functions through the real SDK."""

from __future__ import annotations

import pytest
from databricks.sdk.errors import NotFound, ResourceAlreadyExists
from databricks.sdk.service.catalog import (
    ColumnTypeName,
    CreateFunction,
    CreateFunctionParameterStyle,
    CreateFunctionRoutineBody,
    CreateFunctionSecurityType,
    CreateFunctionSqlDataAccess,
    FunctionInfoRoutineBody,
    FunctionParameterInfo,
    FunctionParameterInfos,
)
from databricks.sdk.service.sql import ExecuteStatementRequestOnWaitTimeout, StatementState

from lakeserve.api.featurefunction import FeatureFunctionSpec
from lakeserve.emulator.sql.warehouses import WAREHOUSE_ID
from lakeserve.resources.featurefunction import client as featurefunction, sql

from ..conftest import Calls, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

NOTEBOOK_FUNCTION = """\
CREATE OR REPLACE FUNCTION monthly_charges_avrg (TotalCharges DOUBLE, tenure DOUBLE)
RETURNS DOUBLE
LANGUAGE PYTHON AS
$$
avrg = TotalCharges / tenure
return avrg
$$"""
NAME = "main.default.monthly_charges_avrg"


def execute(workspace, statement: str, wait: str = "5s", **extra):
    return workspace.statement_execution.execute_statement(
        statement=statement, warehouse_id=WAREHOUSE_ID, wait_timeout=wait,
        on_wait_timeout=ExecuteStatementRequestOnWaitTimeout.CONTINUE, **extra)


def test_the_default_warehouse_is_listed_and_running(workspace):
    (warehouse,) = list(workspace.warehouses.list())
    assert warehouse.id == WAREHOUSE_ID
    assert workspace.warehouses.get(WAREHOUSE_ID).state.value == "RUNNING"
    with pytest.raises(NotFound):
        workspace.warehouses.get("nope")


def test_the_notebooks_create_function_succeeds_and_the_function_reads_back(workspace):
    response = execute(workspace, NOTEBOOK_FUNCTION, catalog="main", schema="default")
    assert response.status.state == StatementState.SUCCEEDED
    info = workspace.functions.get(NAME)
    assert (info.routine_body, info.external_language) == (FunctionInfoRoutineBody.EXTERNAL,
                                                            "PYTHON")
    assert [(p.name, p.type_text, p.type_name, p.position)
            for p in info.input_params.parameters] == [
        ("TotalCharges", "double", ColumnTypeName.DOUBLE, 0),
        ("tenure", "double", ColumnTypeName.DOUBLE, 1)]
    assert info.full_data_type == "double" and info.data_type == ColumnTypeName.DOUBLE
    assert info.routine_definition == "avrg = TotalCharges / tenure\nreturn avrg"
    assert info.function_id and info.owner and info.created_at and info.metastore_id


def test_the_function_computes_total_charges_over_tenure(workspace, emulator):
    execute(workspace, NOTEBOOK_FUNCTION)
    answer = emulator.control("POST", "/_emulator/functions/call", {
        "name": NAME, "arguments": {"TotalCharges": 1889.5, "tenure": 34}})
    assert answer["result"] == pytest.approx(1889.5 / 34)


def test_a_bad_python_body_fails_the_statement_with_http_200(workspace, emulator):
    calls = Calls(emulator)
    response = execute(workspace, NOTEBOOK_FUNCTION.replace("return avrg", "return avrg +"))
    assert response.status.state == StatementState.FAILED
    assert response.status.error.message.startswith("[PYTHON_UDF_BODY_SYNTAX_ERROR]")
    assert "line 2 of the body" in response.status.error.message
    assert calls.statuses("POST", "/api/2.0/sql/statements") == [200]
    with pytest.raises(NotFound):
        workspace.functions.get(NAME)


def test_an_async_statement_is_polled_until_it_finishes(workspace, emulator):
    emulator.control("PUT", "/_emulator/settings", {"statement_seconds": 0.5})
    submitted = execute(workspace, NOTEBOOK_FUNCTION, wait="0s")
    assert submitted.status.state in (StatementState.PENDING, StatementState.RUNNING)
    done = wait_for(lambda: (r := workspace.statement_execution.get_statement(
        submitted.statement_id)).status.state not in (StatementState.PENDING,
                                                      StatementState.RUNNING) and r)
    assert done.status.state == StatementState.SUCCEEDED
    assert workspace.functions.get(NAME).name == "monthly_charges_avrg"


def test_a_statement_longer_than_the_wait_keeps_running_or_is_canceled(workspace, emulator):
    emulator.control("PUT", "/_emulator/settings", {"statement_seconds": 30})
    running = execute(workspace, NOTEBOOK_FUNCTION)
    assert running.status.state == StatementState.RUNNING
    canceled = workspace.statement_execution.execute_statement(
        statement=NOTEBOOK_FUNCTION, warehouse_id=WAREHOUSE_ID, wait_timeout="5s",
        on_wait_timeout=ExecuteStatementRequestOnWaitTimeout.CANCEL)
    assert canceled.status.state == StatementState.CANCELED
    workspace.statement_execution.cancel_execution(running.statement_id)
    assert workspace.statement_execution.get_statement(running.statement_id).status.state == \
        StatementState.CANCELED


def test_sql_errors_for_missing_schemas_and_existing_functions(workspace):
    missing = execute(workspace, NOTEBOOK_FUNCTION.replace("monthly_charges_avrg (",
                                                           "nowhere.f("))
    assert missing.status.error.message.startswith("[SCHEMA_NOT_FOUND]")
    execute(workspace, NOTEBOOK_FUNCTION)
    again = execute(workspace, NOTEBOOK_FUNCTION.replace("OR REPLACE ", ""))
    assert again.status.error.message.startswith("[ROUTINE_ALREADY_EXISTS]")
    dropped = execute(workspace, f"DROP FUNCTION IF EXISTS {NAME}")
    assert dropped.status.state == StatementState.SUCCEEDED
    unsupported = execute(workspace, "SELECT 1")
    assert "not supported by the local workspace" in unsupported.status.error.message


def test_what_the_operator_sends_reads_back_without_a_diff(workspace):
    spec = FeatureFunctionSpec.model_validate({
        "catalog": "main", "schema": "default", "name": "avg_charges",
        "parameters": [{"name": "TotalCharges", "type": "DOUBLE"},
                       {"name": "tenure", "type": "INTEGER", "comment": "months (can't be 0)"}],
        "returns": "DOUBLE", "body": "return TotalCharges / tenure",
        "comment": "customer's average", "deterministic": False,
        "warehouseId": WAREHOUSE_ID})
    assert execute(workspace, sql.create_or_replace(spec)).status.state == \
        StatementState.SUCCEEDED
    info = workspace.functions.get("main.default.avg_charges")
    assert featurefunction.definition_diff(spec, info) == []
    workspace.functions.delete("main.default.avg_charges")
    assert workspace.functions.create(function_info=featurefunction.create_request(spec))
    assert featurefunction.definition_diff(spec, workspace.functions.get(
        "main.default.avg_charges")) == []


def rest_function(name: str = "add_one", body: str = "return x + 1") -> CreateFunction:
    return CreateFunction(
        name=name, catalog_name="main", schema_name="default",
        input_params=FunctionParameterInfos(parameters=[FunctionParameterInfo(
            name="x", type_text="int", type_name=ColumnTypeName.INT, position=0)]),
        data_type=ColumnTypeName.INT, full_data_type="int",
        routine_body=CreateFunctionRoutineBody.EXTERNAL, routine_definition=body,
        parameter_style=CreateFunctionParameterStyle.S, is_deterministic=True,
        sql_data_access=CreateFunctionSqlDataAccess.NO_SQL, is_null_call=False,
        security_type=CreateFunctionSecurityType.DEFINER, specific_name=name,
        external_language="Python", comment="demo")


def test_functions_rest_create_get_list_update_delete(workspace, emulator):
    created = workspace.functions.create(function_info=rest_function())
    assert created.full_name == "main.default.add_one" and created.external_language == "PYTHON"
    with pytest.raises(ResourceAlreadyExists):
        workspace.functions.create(function_info=rest_function())
    for name in ("b_fn", "c_fn"):
        workspace.functions.create(function_info=rest_function(name))
    listed = [f.name for f in workspace.functions.list("main", "default", max_results=2)]
    assert listed == ["add_one", "b_fn", "c_fn"]  # followed over two pages
    assert workspace.functions.update("main.default.add_one", owner="team").owner == "team"
    assert emulator.control("POST", "/_emulator/functions/call",
                            {"name": "main.default.add_one", "arguments": {"x": 41}}) == \
        {"result": 42}
    workspace.functions.delete("main.default.add_one")
    with pytest.raises(NotFound):
        workspace.functions.get("main.default.add_one")


def test_a_bad_rest_body_is_refused(workspace):
    from databricks.sdk.errors import InvalidParameterValue

    with pytest.raises(InvalidParameterValue, match="Invalid Python function body"):
        workspace.functions.create(function_info=rest_function(body="return (x"))
