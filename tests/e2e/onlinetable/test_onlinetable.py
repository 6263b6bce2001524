"""OnlineTable: a Lakebase synced table of a Delta feature table."""

from __future__ import annotations

import uuid

import pytest
from databricks.sdk.errors import NotFound
from databricks.sdk.service.database import DatabaseInstance

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(150)]

INSTANCE = "e2e-lakebase"
ANNOTATION = "lakeserve.dev/sync-requested-at"


@pytest.fixture(scope="module")
def instance(workspace):
    try:
        workspace.client.database.get_database_instance(INSTANCE)
    except NotFound:
        workspace.client.database.create_database_instance(
            DatabaseInstance(name=INSTANCE, capacity="CU_1"))
    return INSTANCE


@pytest.fixture
def source(workspace):
    """A fresh source Delta table main.e2e.<random> with three customers."""
    emulator = workspace.require_emulator()
    name = f"main.e2e.src_{uuid.uuid4().hex[:8]}"
    emulator.control("POST", "/_emulator/catalog/tables", {"name": name, "mode": "overwrite", "rows": [
        {"customerID": f"c{i}", "tenure": float(i + 1), "TotalCharges": 100.0 * (i + 1)}
        for i in range(3)]})
    return name


def online_table(name, source, table_name=None, annotations=None, **spec):
    """An OnlineTable manifest (``annotations`` e.g. lakeserve.dev/adopt for a legacy table)."""
    return {"apiVersion": "lakeserve.dev/v1alpha1", "kind": "OnlineTable",
            "metadata": {"name": name, **({"annotations": annotations} if annotations else {})},
            "spec": {"name": table_name or f"{source}_online", "sourceTableFullName": source,
                     "primaryKeyColumns": ["customerID"], "syncMode": "Triggered",
                     "databaseInstanceName": INSTANCE, **spec}}


def test_create_sync_and_delete(cluster, workspace, instance, source, kubectl):
    cluster.apply(online_table("features", source))
    body = cluster.wait("onlinetable", "features")
    status = body["status"]
    assert status["detailedState"].startswith("SYNCED_TABLE_ONLINE")
    assert status["syncedRowCount"] == 3 and status["pipelineId"]
    assert "features" in kubectl("get", "lakeserve", "-n", cluster.namespace).stdout
    cluster.delete("onlinetable", "features")
    with pytest.raises(NotFound):
        workspace.client.database.get_synced_database_table(f"{source}_online")


def test_sync_request_annotation_starts_a_pipeline_update(cluster, workspace, instance, source,
                                                          poll):
    emulator = workspace.require_emulator()
    cluster.apply(online_table("resync", source))
    body = cluster.wait("onlinetable", "resync")
    pipeline = body["status"]["pipelineId"]
    emulator.control("POST", "/_emulator/catalog/tables", {"name": source, "mode": "append",
                                                          "rows": [{"customerID": "c9",
                                                                    "tenure": 9.0,
                                                                    "TotalCharges": 900.0}]})
    since = workspace.last_seq()
    cluster.kubectl("annotate", "onlinetable", "resync", "-n", cluster.namespace,
                    f"{ANNOTATION}=2026-11-25T10:00:00Z")
    poll(lambda: workspace.count(f"POST /api/2.0/pipelines/{pipeline}/updates", since) == 1,
         timeout=30, message="a pipeline update for the request")
    body = poll(lambda: (lambda b: b if b["status"].get("syncRequestHandled") ==
                         "2026-11-25T10:00:00Z" and b["status"].get("syncedRowCount") == 4
                         else None)(cluster.get("onlinetable", "resync")), timeout=30,
                message="the new row to be synced")
    cluster.wait("onlinetable", "resync")
    assert workspace.count(f"POST /api/2.0/pipelines/{pipeline}/updates", since) == 1


def test_recreate_policy_replaces_the_table(cluster, workspace, instance, source, poll):
    emulator = workspace.require_emulator()
    cluster.apply(online_table("replaced", source, updatePolicy="Recreate"))
    cluster.wait("onlinetable", "replaced")
    since = workspace.last_seq()
    cluster.apply(online_table("replaced", source, updatePolicy="Recreate", syncMode="Snapshot"))
    poll(lambda: workspace.count("POST /api/2.0/database/synced_tables", since) == 1,
         timeout=40, message="the table to be created again")
    body = cluster.wait("onlinetable", "replaced")
    assert body["status"]["observedGeneration"] == 2
    assert workspace.count(f"DELETE /api/2.0/database/synced_tables/{source}_online", since) == 1
    table = workspace.client.database.get_synced_database_table(f"{source}_online")
    assert table.spec.scheduling_policy.value == "SNAPSHOT"
    assert emulator  # the call-log assertions above need the emulator


def test_orphan_keeps_the_table(cluster, workspace, instance, source):
    cluster.apply(online_table("kept", source, deletionPolicy="Orphan"))
    cluster.wait("onlinetable", "kept")
    cluster.delete("onlinetable", "kept")
    assert workspace.client.database.get_synced_database_table(f"{source}_online").name


# (reason, spec change, expected text in the Stalled message)
REFUSED = [
    ("missing source table", {"sourceTableFullName": "main.e2e.does_not_exist"},
     "does_not_exist"),
    ("primary key not in the source", {"primaryKeyColumns": ["customer_id"]}, "customer_id"),
]


@pytest.mark.parametrize("case, change, text", REFUSED, ids=[r[0] for r in REFUSED])
def test_what_only_the_workspace_can_tell_stalls(cluster, workspace, instance, source, case,
                                                  change, text):
    manifest = online_table("refused", source, **change)
    cluster.apply(manifest)
    body = cluster.wait("onlinetable", "refused", condition="Stalled")
    stalled = next(c for c in body["status"]["conditions"] if c["type"] == "Stalled")
    assert text in stalled["message"]
    with pytest.raises(NotFound):  # nothing half-created
        workspace.client.database.get_synced_database_table(manifest["spec"]["name"])


def test_legacy_online_table_is_adopted_and_migrated(cluster, workspace, instance, source, poll):
    emulator = workspace.require_emulator()
    name = f"{source}_legacy"
    emulator.control("POST", "/_emulator/legacy-online-tables", {
        "name": name, "source_table_full_name": source, "primary_key_columns": ["customerID"]})
    adopt = {"lakeserve.dev/adopt": "true"}  # the legacy table was not created by the operator
    cluster.apply(online_table("legacy", source, table_name=name, annotations=adopt))
    body = cluster.wait("onlinetable", "legacy")
    assert body["status"]["legacy"] is True
    since = workspace.last_seq()
    poll(lambda: workspace.count(f"GET /api/2.0/online-tables/{name}", since) >= 2,
         timeout=30, message="two drift passes")
    assert workspace.count(f"GET /api/2.0/database/synced_tables/{name}", since) == 0, \
        "an adopted legacy table costs one read per pass"
    cluster.apply(online_table("legacy", source, table_name=name, annotations=adopt,
                               updatePolicy="Recreate"))
    body = poll(lambda: (lambda b: b if not b["status"].get("legacy") and any(
        c["type"] == "Ready" and c["status"] == "True" for c in b["status"]["conditions"])
        else None)(cluster.get("onlinetable", "legacy")), timeout=60,
        message="the legacy table to be migrated to a synced table")
    assert body["status"]["detailedState"].startswith("SYNCED_TABLE_")
    with pytest.raises(NotFound):
        workspace.client.online_tables.get(name)
