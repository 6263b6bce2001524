"""FeatureFunctionClient and the Statement Execution API's states."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from databricks.sdk.errors import NotFound
from databricks.sdk.service.catalog import FunctionInfo
from databricks.sdk.service.sql import StatementResponse

from lakeserve.api.featurefunction import FeatureFunctionSpec
from lakeserve.databricks.errors import SpecError
from lakeserve.databricks.limiter import WriteLimiter
from lakeserve.databricks.workspace import Workspace
from lakeserve.resources.base import Managed
from lakeserve.resources.featurefunction import FeatureFunctionClient, sql

SPEC = FeatureFunctionSpec.model_validate({
    "catalog": "main", "schema": "ml", "name": "avg", "warehouseId": "wh",
    "parameters": [{"name": "x", "type": "DOUBLE"}], "returns": "DOUBLE", "body": "return x"})
DEFINED = FunctionInfo.from_dict({
    "full_name": "main.ml.avg", "function_id": "f1", "routine_definition": "return x",
    "full_data_type": "double", "is_deterministic": True,
    "input_params": {"parameters": [{"name": "x", "type_text": "double", "position": 0}]}})


def statement(state: str, error: str | None = None) -> StatementResponse:
    status = {"state": state, **({"error": {"message": error}} if error else {})}
    return StatementResponse.from_dict({"statement_id": "s1", "status": status})


class FakeSdk:
    def __init__(self, executed: StatementResponse | None = None,
                 polled: StatementResponse | Exception | None = None):
        self.executed, self.polled = executed, polled
        self.calls: list[str] = []
        self.statement_execution = SimpleNamespace(execute_statement=self._execute,
                                                   get_statement=self._get_statement)
        self.functions = SimpleNamespace(get=self._get_function)

    def _execute(self, **kwargs):
        self.calls.append("execute")
        return self.executed

    def _get_statement(self, statement_id):
        self.calls.append("get_statement")
        if isinstance(self.polled, Exception):
            raise self.polled
        return self.polled

    def _get_function(self, name):
        self.calls.append("functions.get")
        return DEFINED


def managed(status=None) -> Managed:
    return Managed("FeatureFunction", "ns", "f", "uid", 1, SPEC, {}, status or {})


def client(sdk: FakeSdk) -> FeatureFunctionClient:
    return FeatureFunctionClient(Workspace(client=sdk, host="h", limiter=WriteLimiter()))


def running_status() -> dict:
    return {"statementId": "s1", "appliedHash": sql.definition_hash(SPEC)}


def test_a_closed_statement_is_a_success():
    result = client(FakeSdk(executed=statement("CLOSED"))).create(managed(), None)
    assert result.status["statementId"] is None


def test_a_failed_statement_stalls_with_its_message():
    with pytest.raises(SpecError, match="SyntaxError"):
        client(FakeSdk(executed=statement("FAILED", "SyntaxError: bad"))).create(managed(), None)


def test_a_statement_still_running_is_polled_on_later_passes():
    result = client(FakeSdk(executed=statement("RUNNING"))).create(managed(), None)
    assert result.status["statementId"] == "s1"
    observation = client(FakeSdk(polled=statement("RUNNING"))).observe(
        managed(running_status()))
    assert observation.busy and "s1" in observation.busy[1]
    assert observation.status["statementId"] == "s1"


def test_an_expired_statement_id_is_dropped_and_the_function_read():
    sdk = FakeSdk(polled=NotFound("Statement 's1' does not exist."))
    observation = client(sdk).observe(managed(running_status()))
    assert sdk.calls == ["get_statement", "functions.get"]
    assert observation.ready and observation.status["statementId"] is None


def test_a_closed_statement_found_on_a_later_pass_reads_the_function():
    sdk = FakeSdk(polled=statement("CLOSED"))
    assert client(sdk).observe(managed(running_status())).ready
