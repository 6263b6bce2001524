"""FeatureFunction: a Unity Catalog Python UDF defined through SQL or the Functions API."""

from __future__ import annotations

import uuid

import pytest
from databricks.sdk.errors import NotFound

from lakeserve.resources.featurefunction.client import STATEMENT_FAILED

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def function(name, fn_name, body="avrg = TotalCharges / tenure\nreturn avrg\n", **spec):
    catalog, schema, fn_name = fn_name.split(".")
    return {"apiVersion": "lakeserve.dev/v1alpha1", "kind": "FeatureFunction",
            "metadata": {"name": name},
            "spec": {"catalog": catalog, "schema": schema, "name": fn_name,
                     "parameters": [{"name": "TotalCharges", "type": "DOUBLE"},
                                    {"name": "tenure", "type": "DOUBLE"}],
                     "returns": "DOUBLE", "body": body, **spec}}


@pytest.fixture
def fn_name(workspace):
    """The function's full name, in the run's schema."""
    names = workspace.names
    return f"{names.catalog}.{names.schema}.{names.object(f'avg_{uuid.uuid4().hex[:8]}')}"


@pytest.fixture
def warehouse(workspace):
    return {"warehouseId": workspace.warehouse_id}


def definition(workspace, fn_name):
    """The function's body, or "" while it is missing (the Functions API replaces by drop and
    create)."""
    try:
        return workspace.client.functions.get(fn_name).routine_definition
    except NotFound:
        return ""


@pytest.mark.parametrize("through", ["sql", "functions-api"])
def test_create_replace_delete(cluster, workspace, fn_name, warehouse, poll, through):
    extra = warehouse if through == "sql" else {}
    since = workspace.last_seq() if workspace.emulator else 0
    cluster.apply(function("monthly", fn_name, **extra))
    body = cluster.wait("featurefunction", "monthly")
    assert body["status"]["fullName"] == fn_name
    assert body["status"]["state"] == "Defined"
    assert "TotalCharges / tenure" in definition(workspace, fn_name)
    if workspace.emulator:
        path = "POST /api/2.0/sql/statements" if extra else \
            "POST /api/2.1/unity-catalog/functions"
        assert workspace.count(path, since) == 1
    cluster.apply(function("monthly", fn_name, body="return TotalCharges / max(tenure, 1)\n",
                           **extra))
    poll(lambda: "max(tenure, 1)" in definition(workspace, fn_name),
         message="the function to be replaced")
    body = cluster.wait("featurefunction", "monthly")
    assert body["status"]["observedGeneration"] == 2
    cluster.delete("featurefunction", "monthly")
    with pytest.raises(NotFound):
        workspace.client.functions.get(fn_name)


@pytest.mark.produces(STATEMENT_FAILED)
def test_body_that_does_not_parse_stalls_with_the_workspace_message(cluster, fn_name, warehouse):
    cluster.apply(function("broken", fn_name, body="return TotalCharges /\n",
                           **warehouse))
    body = cluster.wait("featurefunction", "broken", condition="Stalled")
    stalled = next(c for c in body["status"]["conditions"] if c["type"] == "Stalled")
    assert stalled["reason"] == "StatementFailed"
    assert "syntax" in stalled["message"].lower()
    cluster.apply(function("broken", fn_name, **warehouse))
    cluster.wait("featurefunction", "broken")


def test_orphan_keeps_the_function(cluster, workspace, fn_name):
    cluster.apply(function("kept", fn_name, deletionPolicy="Orphan"))
    cluster.wait("featurefunction", "kept")
    cluster.delete("featurefunction", "kept")
    assert workspace.client.functions.get(fn_name).full_name == fn_name


def test_function_dropped_behind_our_back_is_recreated(cluster, workspace, fn_name, warehouse,
                                                       poll):
    cluster.apply(function("dropped", fn_name, **warehouse))
    cluster.wait("featurefunction", "dropped")
    workspace.client.functions.delete(fn_name)

    def back():
        try:
            return workspace.client.functions.get(fn_name)
        except NotFound:
            return None
    poll(back, timeout=30, message="the function to be defined again")


# (case, how long the emulator keeps a finished statement readable)
SLOW_STATEMENTS = [("result kept", 12 * 3600.0), ("statement id expired", 0.0)]


@pytest.mark.parametrize("case, retention", SLOW_STATEMENTS, ids=[s[0] for s in SLOW_STATEMENTS])
@pytest.mark.emulator_only("makes statements slow and expires their ids")
def test_a_statement_outlasting_the_wait_is_polled(cluster, workspace, workspace_settings,
                                                   fn_name, warehouse, poll, case, retention):
    """A cold warehouse: the statement runs past the operator's synchronous wait (5 s). The
    object reconciles with the statement id and is Ready once it succeeded, also when the id has
    expired by the time it is polled (then the function itself is read)."""
    workspace.require_emulator()
    workspace_settings(statement_seconds=7.0, statement_retention_seconds=retention)
    cluster.apply(function("slow", fn_name, **warehouse))
    def waiting_for_the_statement():
        status = (cluster.get("featurefunction", "slow") or {}).get("status") or {}
        reconciling = [c for c in status.get("conditions", []) if c["type"] == "Reconciling"
                       and c["status"] == "True"]
        statement = status.get("statementId")
        return statement and reconciling and statement in reconciling[0]["message"]
    poll(waiting_for_the_statement, timeout=30,
         message="Reconciling, naming the running statement")
    body = cluster.wait("featurefunction", "slow", timeout=60)
    assert body["status"]["state"] == "Defined" and not body["status"].get("statementId")
    assert "TotalCharges / tenure" in definition(workspace, fn_name)


def test_a_decimal_function_through_the_functions_api(cluster, workspace, fn_name, poll):
    """Complex and DECIMAL types go to the REST API as valid Spark type JSON; a bare DECIMAL is
    DECIMAL(10,0) when read back, not a difference."""
    manifest = function("typed", fn_name, body="return float(len(tags)) if tags else 0.0\n")
    manifest["spec"]["parameters"] = [{"name": "tags", "type": "ARRAY<STRING>"},
                                      {"name": "amount", "type": "DECIMAL"}]
    manifest["spec"]["returns"] = "DOUBLE"
    since = workspace.last_seq() if workspace.emulator else 0
    cluster.apply(manifest)
    body = cluster.wait("featurefunction", "typed")
    assert body["status"]["state"] == "Defined"
    if workspace.emulator:
        ready_at = workspace.last_seq()
        poll(lambda: workspace.count(f"GET /api/2.1/unity-catalog/functions/{fn_name}",
                                     ready_at) >= 2, timeout=30,
             message="two drift passes")
        assert workspace.count("POST /api/2.1/unity-catalog/functions", since) == 1
