"""The operator is killed (SIGKILL) while a write is in flight, and started again.

The write is held in the emulator (answered a few seconds late) so the kill lands after the
request reached the workspace and before the operator could write status: the restarted
operator must find its object its own, with no duplicate and no AlreadyExists.
"""

from __future__ import annotations

import re
import uuid

import pytest
from databricks.sdk.errors import NotFound
from databricks.sdk.service.database import DatabaseInstance

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180),
              pytest.mark.emulator_only("the fault matrix counts calls in the call log")]

HELD = {"mode": "delay", "delay_seconds": 4}


def kill_during(fault_operator, faults, poll, method, path, action):
    """Hold the next ``method path`` request, do ``action``, and kill the operator once the
    request has reached the workspace; then start it again. Returns once the workspace has
    finished the held request (it is then in the call log)."""
    since = faults.workspace.last_seq()
    fault = faults.add(method, path, **HELD)
    action()
    poll(lambda: faults.taken(fault), timeout=60, message=f"the {method} to reach the workspace")
    fault_operator.kill_and_restart()
    poll(lambda: any(c["method"] == method and re.search(path, c["path"]) and
                     c["fault"] == "delay" for c in faults.workspace.calls(since)["calls"]),
         timeout=30, message=f"the held {method} to be finished and logged")


def test_killed_during_create(scenario, fault_operator, faults, figures, poll):
    kill_during(fault_operator, faults, poll, "POST", "^/api/2.0/serving-endpoints$",
                scenario.apply)
    body = scenario.ready()
    assert body["status"]["owned"]["name"] == scenario.name
    assert len(scenario.creates()) == 1, "the restarted operator found the endpoint"
    scenario.finish(figures, "operator kill -9 during create")


def test_killed_during_update(scenario, fault_operator, faults, figures, poll):
    scenario.apply(1)
    scenario.ready()
    kill_during(fault_operator, faults, poll, "PUT",
                f"^/api/2.0/serving-endpoints/{scenario.name}/config$", lambda: scenario.apply(2))
    poll(lambda: scenario.served_version() == "2", timeout=60, message="version 2 served")
    body = scenario.ready()
    assert body["status"]["observedGeneration"] == 2
    assert len(scenario.committed_writes("PUT")) == 1, "the update was not carried out twice"
    scenario.finish(figures, "operator kill -9 during update")


def test_killed_during_delete(scenario, fault_operator, faults, figures, poll):
    scenario.apply()
    scenario.ready()
    kill_during(fault_operator, faults, poll, "DELETE",
                f"^/api/2.0/serving-endpoints/{scenario.name}$",
                lambda: scenario.cluster.delete("servingendpoint", "ep", wait=False))
    poll(lambda: scenario.cluster.get("servingendpoint", "ep") is None, timeout=60,
         message="the restarted operator to finish the deletion")
    with pytest.raises(NotFound):
        scenario.workspace.client.serving_endpoints.get(scenario.name)
    deletes = [c for c in scenario.writes() if c["method"] == "DELETE"]
    assert len(deletes) <= 2, "the restarted operator found it gone, or deleted it once more"
    figures.record("operator kill -9 during delete", **{
        "end state": "deleted", "creates committed": scenario.committed_creates(),
        "duplicates": 0, "orphans": 0, "writes": len(scenario.writes()),
        "calls": len(scenario.calls())})


# ---- kinds without a marker in Databricks: the claim in status is what proves ownership -----

INSTANCE = "e2e-lakebase"


@pytest.fixture(scope="module")
def instance(workspace):
    try:
        workspace.client.database.get_database_instance(INSTANCE)
    except NotFound:
        workspace.client.database.create_database_instance(
            DatabaseInstance(name=INSTANCE, capacity="CU_1"))
    return INSTANCE


def test_killed_during_create_of_a_synced_table(faulty, workspace, fault_operator, faults, figures,
                                                poll, instance):
    source = f"main.e2e.kill_{uuid.uuid4().hex[:8]}"
    workspace.require_emulator().control("POST", "/_emulator/catalog/tables", {
        "name": source, "mode": "overwrite", "rows": [{"customerID": "c1", "tenure": 1.0}]})
    name = f"{source}_online"
    since = workspace.last_seq()
    manifest = {"apiVersion": "lakeserve.dev/v1alpha1", "kind": "OnlineTable",
                "metadata": {"name": "table"},
                "spec": {"name": name, "sourceTableFullName": source,
                         "primaryKeyColumns": ["customerID"], "syncMode": "Snapshot",
                         "databaseInstanceName": instance,
                         "logicalDatabaseName": "databricks_postgres"}}
    kill_during(fault_operator, faults, poll, "POST", "^/api/2.0/database/synced_tables$",
                lambda: faulty.apply(manifest))
    body = faulty.wait("onlinetable", "table", timeout=60)
    assert body["status"]["owned"] == {**body["status"]["owned"], "name": name, "how": "Created"}
    calls = [c for c in workspace.calls(since)["calls"]
             if c["path"] == "/api/2.0/database/synced_tables"
             and (c.get("body") or {}).get("name") == name]
    assert len(calls) == 1, "no second create, and no AlreadyExists"
    faulty.delete("onlinetable", "table")
    with pytest.raises(NotFound):
        workspace.client.database.get_synced_database_table(name)
    figures.record("operator kill -9 during create (synced table)", **{
        "end state": "Ready", "creates committed": 1, "duplicates": 0, "orphans": 0,
        "writes": sum(1 for c in workspace.calls(since)["calls"]
                      if c["method"] != "GET" and name in c["path"] + str(c.get("body")))})
