"""The e2e suite's end-of-run sweep deletes only what the run created: its prefix, and for
endpoints also the operator's owner tag (a shared workspace holds other people's objects)."""

from __future__ import annotations

import pytest
from databricks.sdk.service.serving import EndpointCoreConfigInput, EndpointTag, ServedEntityInput
from databricks.sdk.service.sql import StatementState

from lakeserve.emulator.sql.warehouses import WAREHOUSE_ID
from tests.e2e.sql_tables import SqlTables
from tests.e2e.workspace_mode import OWNER_TAG, Names, ensure_schema, sweep, warehouse_id

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

RUN = Names("main", "lakeserve_e2e", run="lse2e0a0a0a")
OTHER_RUN = Names("main", "lakeserve_e2e", run="lse2e0b0b0b")


def endpoint(workspace, name: str, model: str, tagged: bool) -> None:
    tags = [EndpointTag(key=OWNER_TAG, value="ns/obj")] if tagged else None
    workspace.serving_endpoints.create(name=name, tags=tags, config=EndpointCoreConfigInput(
        name=name, served_entities=[ServedEntityInput(entity_name=model, entity_version="1",
                                           workload_size="Small")]))


def function(workspace, name: str) -> None:
    statement = (f"CREATE OR REPLACE FUNCTION {RUN.catalog}.{RUN.schema}.{name} (x DOUBLE) "
                 "RETURNS DOUBLE LANGUAGE PYTHON AS $$\nreturn x\n$$")
    answer = workspace.statement_execution.execute_statement(
        statement=statement, warehouse_id=WAREHOUSE_ID, wait_timeout="10s")
    assert answer.status.state == StatementState.SUCCEEDED, answer.status


def test_the_sweep_deletes_the_runs_objects_and_nothing_else(workspace, model_version):
    ensure_schema(workspace, RUN)
    ensure_schema(workspace, RUN)  # the second time it exists
    mine, theirs = RUN.model("churn"), OTHER_RUN.model("churn")
    for model in (mine, theirs, "main.lakeserve_e2e.someone_elses"):
        model_version(model)
    endpoint(workspace, RUN.endpoint("ours"), mine, tagged=True)
    endpoint(workspace, RUN.endpoint("by-hand"), mine, tagged=False)  # prefix, no tag: kept
    endpoint(workspace, OTHER_RUN.endpoint("ours"), theirs, tagged=True)
    endpoint(workspace, "production", theirs, tagged=True)
    function(workspace, RUN.object("avg"))
    function(workspace, "someone_elses_avg")
    rows = [{"customerID": "c1", "tenure": 1.0}]
    SqlTables(workspace, WAREHOUSE_ID, "main", "lakeserve_e2e", RUN.run).create("src", rows)
    theirs_table = SqlTables(workspace, WAREHOUSE_ID, "main", "lakeserve_e2e",
                             OTHER_RUN.run).create("src", rows)

    assert sweep(workspace, RUN) == []

    assert {e.name for e in workspace.serving_endpoints.list()} == {
        RUN.endpoint("by-hand"), OTHER_RUN.endpoint("ours"), "production"}
    models = {m.full_name for m in workspace.registered_models.list(
        catalog_name="main", schema_name="lakeserve_e2e")}
    assert models == {theirs, "main.lakeserve_e2e.someone_elses"}
    functions = {f.name for f in workspace.functions.list("main", "lakeserve_e2e")}
    assert functions == {"someone_elses_avg"}
    tables = {t.full_name for t in workspace.tables.list("main", "lakeserve_e2e")}
    assert tables == {theirs_table}


def test_the_warehouse_is_the_variable_or_the_first_listed(workspace, monkeypatch):
    monkeypatch.delenv("LAKESERVE_E2E_WAREHOUSE_ID", raising=False)
    assert warehouse_id(workspace) == WAREHOUSE_ID
    monkeypatch.setenv("LAKESERVE_E2E_WAREHOUSE_ID", "abc123")
    assert warehouse_id(workspace) == "abc123"


def test_names_carry_the_run_prefix_in_each_namespace():
    assert RUN.endpoint("ready") == "lse2e0a0a0a-ready"
    assert RUN.model("churn") == "main.lakeserve_e2e.lse2e0a0a0a_churn"
    assert RUN.owns("lse2e0a0a0a_churn") and not RUN.owns("lse2e0b0b0b_churn")
    assert Names("c", "s").run != Names("c", "s").run
