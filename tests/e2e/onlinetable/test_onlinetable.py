"""OnlineTable: a Lakebase synced table of a Delta feature table."""

from __future__ import annotations

import uuid

import pytest
from databricks.sdk.errors import NotFound

from lakeserve.emulator.settings import FIDELITY_CHOICES
from lakeserve.resources.onlinetable.client import SYNC_FAILED
from tests.e2e.conftest import answers

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(150)]

ANNOTATION = "lakeserve.dev/sync-requested-at"
ADOPT = "lakeserve.dev/adopt"
LEGACY_API = "/api/2.0/online-tables"


@pytest.fixture(scope="module")
def instance(workspace):
    return workspace.database_instance()


ROWS = [{"customerID": f"c{i}", "tenure": float(i + 1), "TotalCharges": 100.0 * (i + 1)}
        for i in range(3)]


def make_source(workspace, change_data_feed=True):
    """A fresh source Delta table in the run's schema with three customers, made through SQL."""
    return workspace.tables.create("src", ROWS, change_data_feed=change_data_feed)


@pytest.fixture
def source(workspace):
    return make_source(workspace)


def online_table(name, source, table_name=None, annotations=None, instance=None, **spec):
    """An OnlineTable manifest (``annotations`` e.g. lakeserve.dev/adopt for a legacy table)."""
    return {"apiVersion": "lakeserve.dev/v1alpha1", "kind": "OnlineTable",
            "metadata": {"name": name, **({"annotations": annotations} if annotations else {})},
            "spec": {"name": table_name or f"{source}_online", "sourceTableFullName": source,
                     "primaryKeyColumns": ["customerID"], "syncMode": "Triggered",
                     "databaseInstanceName": instance,
                     "logicalDatabaseName": "databricks_postgres", **spec}}


def legacy_calls(workspace, since):
    return [c for c in workspace.calls(since)["calls"] if c["path"].startswith(LEGACY_API)]


@pytest.mark.parametrize("legacy_api", answers("legacy_online_tables"))
def test_create_sync_and_delete(cluster, workspace, workspace_settings, instance, source, kubectl,
                                legacy_api):
    """However the retired legacy API answers, it is not asked at all."""
    workspace_settings(legacy_online_tables=legacy_api)
    since = workspace.last_seq() if workspace.emulator else 0
    cluster.apply(online_table("features", source, instance=instance))
    body = cluster.wait("onlinetable", "features")
    status = body["status"]
    assert status["detailedState"].startswith("SYNCED_TABLE_ONLINE")
    assert status["syncedRowCount"] == 3 and status["pipelineId"]
    assert "features" in kubectl("get", "lakeserve", "-n", cluster.namespace).stdout
    cluster.delete("onlinetable", "features")
    with pytest.raises(NotFound):
        workspace.client.database.get_synced_database_table(f"{source}_online")
    if workspace.emulator:
        assert legacy_calls(workspace, since) == []


def test_sync_request_annotation_starts_a_pipeline_update(cluster, workspace, instance, source,
                                                          poll):
    cluster.apply(online_table("resync", source, instance=instance))
    body = cluster.wait("onlinetable", "resync")
    pipeline = body["status"]["pipelineId"]
    workspace.tables.insert(source, [{"customerID": "c9", "tenure": 9.0, "TotalCharges": 900.0}])
    since = workspace.last_seq() if workspace.emulator else 0
    cluster.kubectl("annotate", "onlinetable", "resync", "-n", cluster.namespace,
                    f"{ANNOTATION}=2026-11-25T10:00:00Z")
    body = poll(lambda: (lambda b: b if b["status"].get("syncRequestHandled") ==
                         "2026-11-25T10:00:00Z" and b["status"].get("syncedRowCount") == 4
                         else None)(cluster.get("onlinetable", "resync")), timeout=30,
                message="the new row to be synced")
    cluster.wait("onlinetable", "resync")
    if workspace.emulator:  # one pipeline update for the request
        assert workspace.count(f"POST /api/2.0/pipelines/{pipeline}/updates", since) == 1


def test_recreate_policy_replaces_the_table(cluster, workspace, instance, source, poll):
    cluster.apply(online_table("replaced", source, instance=instance, updatePolicy="Recreate"))
    cluster.wait("onlinetable", "replaced")
    since = workspace.last_seq() if workspace.emulator else 0
    cluster.apply(online_table("replaced", source, instance=instance, updatePolicy="Recreate",
                               syncMode="Snapshot"))
    poll(lambda: cluster.get("onlinetable", "replaced")["status"]["observedGeneration"] == 2,
         timeout=40, message="the new spec to be applied")
    cluster.wait("onlinetable", "replaced")
    table = workspace.client.database.get_synced_database_table(f"{source}_online")
    assert table.spec.scheduling_policy.value == "SNAPSHOT"
    if workspace.emulator:  # replaced by a delete and a create, not an update
        assert workspace.count("POST /api/2.0/database/synced_tables", since) == 1
        assert workspace.count(f"DELETE /api/2.0/database/synced_tables/{source}_online",
                               since) == 1


def test_orphan_keeps_the_table(cluster, workspace, instance, source):
    cluster.apply(online_table("kept", source, instance=instance, deletionPolicy="Orphan"))
    cluster.wait("onlinetable", "kept")
    cluster.delete("onlinetable", "kept")
    assert workspace.client.database.get_synced_database_table(f"{source}_online").name


# (reason, spec change, expected text in the Stalled message)
REFUSED = [
    ("missing source table", {"sourceTableFullName": "main.default.does_not_exist"},
     "does_not_exist"),
    ("primary key not in the source", {"primaryKeyColumns": ["customer_id"]}, "customer_id"),
]


@pytest.mark.parametrize("case, change, text", REFUSED, ids=[r[0] for r in REFUSED])
def test_what_only_the_workspace_can_tell_stalls(cluster, workspace, instance, source, case,
                                                  change, text):
    manifest = online_table("refused", source, instance=instance, **change)
    cluster.apply(manifest)
    body = cluster.wait("onlinetable", "refused", condition="Stalled")
    stalled = next(c for c in body["status"]["conditions"] if c["type"] == "Stalled")
    assert text in stalled["message"]
    with pytest.raises(NotFound):  # nothing half-created
        workspace.client.database.get_synced_database_table(manifest["spec"]["name"])


@pytest.mark.emulator_only("makes a legacy online table through /_emulator/")
def test_legacy_online_table_is_adopted_and_migrated(cluster, workspace, instance, source, poll):
    emulator = workspace.require_emulator()
    name = f"{source}_legacy"
    emulator.control("POST", "/_emulator/legacy-online-tables", {
        "name": name, "source_table_full_name": source, "primary_key_columns": ["customerID"]})
    cluster.apply(online_table("legacy", source, instance=instance, table_name=name,
                               annotations={ADOPT: "true"}))
    body = cluster.wait("onlinetable", "legacy")
    assert body["status"]["legacy"] is True
    since = workspace.last_seq()
    poll(lambda: workspace.count(f"GET /api/2.0/online-tables/{name}", since) >= 2,
         timeout=30, message="two drift passes")
    assert workspace.count(f"GET /api/2.0/database/synced_tables/{name}", since) == 0, \
        "an adopted legacy table costs one read per pass"
    cluster.apply(online_table("legacy", source, instance=instance, table_name=name,
                               annotations={ADOPT: "true"}, updatePolicy="Recreate"))
    body = poll(lambda: (lambda b: b if not b["status"].get("legacy") and any(
        c["type"] == "Ready" and c["status"] == "True" for c in b["status"]["conditions"])
        else None)(cluster.get("onlinetable", "legacy")), timeout=60,
        message="the legacy table to be migrated to a synced table")
    assert body["status"]["detailedState"].startswith("SYNCED_TABLE_")
    with pytest.raises(NotFound):
        workspace.client.online_tables.get(name)


@pytest.mark.emulator_only("chooses how the retired legacy API answers")
@pytest.mark.parametrize("legacy_api", ["not_implemented", "gone"])
def test_adoption_asked_of_a_retired_api_creates_a_synced_table(cluster, workspace,
                                                                 workspace_settings, instance,
                                                                 source, legacy_api):
    workspace.require_emulator()
    workspace_settings(legacy_online_tables=legacy_api)
    since = workspace.last_seq()
    cluster.apply(online_table("adopting", source, instance=instance, annotations={ADOPT: "true"}))
    body = cluster.wait("onlinetable", "adopting")
    assert not body["status"].get("legacy")
    assert legacy_calls(workspace, since), "adoption was asked for, so the legacy API was read"
    cluster.delete("onlinetable", "adopting")


@pytest.mark.parametrize("cdf_missing", answers("change_data_feed_missing"))
def test_a_source_without_change_data_feed_stalls_with_what_to_do(cluster, workspace,
                                                                  workspace_settings, instance,
                                                                  cdf_missing):
    """Refused at create or failing its first sync, the message says how to fix it; Snapshot
    needs no Change Data Feed."""
    workspace_settings(change_data_feed_missing=cdf_missing)
    plain = make_source(workspace, change_data_feed=False)
    cluster.apply(online_table("no-cdf", plain, instance=instance))
    body = cluster.wait("onlinetable", "no-cdf", condition="Stalled")
    stalled = next(c for c in body["status"]["conditions"] if c["type"] == "Stalled")
    assert "delta.enableChangeDataFeed = true" in stalled["message"]
    assert "syncMode: Snapshot" in stalled["message"]
    cluster.delete("onlinetable", "no-cdf")
    cluster.apply(online_table("snapshot", plain, instance=instance, syncMode="Snapshot"))
    cluster.wait("onlinetable", "snapshot")


@pytest.mark.emulator_only("counts writes over drift passes in the call log")
def test_in_a_database_catalog_the_database_is_inferred(cluster, workspace, instance, source,
                                                         poll):
    """No logicalDatabaseName: Databricks takes the catalog's database, reports it as the
    effective one, and that is no difference over later passes."""
    workspace.require_emulator()
    catalog = f"pg_{uuid.uuid4().hex[:6]}"
    workspace.client.api_client.do("POST", "/api/2.0/database/catalogs", body={
        "name": catalog, "database_instance_name": instance, "database_name": "appdb"})
    manifest = online_table("in-pg", source, instance=instance,
                            table_name=f"{catalog}.public.features",
                            pipeline={"storageCatalog": workspace.names.catalog,
                                      "storageSchema": workspace.names.schema})
    del manifest["spec"]["logicalDatabaseName"]
    cluster.apply(manifest)
    cluster.wait("onlinetable", "in-pg")
    table = workspace.client.database.get_synced_database_table(f"{catalog}.public.features")
    assert table.effective_logical_database_name == "appdb"
    since = workspace.last_seq()
    poll(lambda: workspace.count(f"GET /api/2.0/database/synced_tables/{catalog}.public.features",
                                 since) >= 2, timeout=30, message="two drift passes")
    writes = [c for c in workspace.calls(since)["calls"] if c["method"] != "GET"
              and catalog in c["path"]]
    assert writes == []
    assert cluster.get("onlinetable", "in-pg")["status"]["observedGeneration"] == 1


@pytest.mark.emulator_only("sets the synced table's state through /_emulator/")
def test_an_offline_table_stalls_with_the_state_the_sdk_cannot_decode(cluster, workspace,
                                                                       instance, source):
    """Databricks sends SYNCED_TABLE_OFFLINE, which the SDK's enum misspells and decodes to
    None: the raw state is read, shown, and stalls instead of 'Provisioning' forever."""
    emulator = workspace.require_emulator()
    cluster.apply(online_table("offline", source, instance=instance))
    cluster.wait("onlinetable", "offline")
    emulator.control("POST", "/_emulator/lakebase/table-state", {
        "table": f"{source}_online", "state": "SYNCED_TABLE_OFFLINE",
        "message": "The database instance was stopped."})
    body = cluster.wait("onlinetable", "offline", condition="Stalled", timeout=30)
    stalled = next(c for c in body["status"]["conditions"] if c["type"] == "Stalled")
    assert stalled["reason"] == "SyncFailed"
    assert "SYNCED_TABLE_OFFLINE" in stalled["message"]
    assert "instance was stopped" in stalled["message"]
    assert body["status"]["detailedState"] == "SYNCED_TABLE_OFFLINE"
    emulator.control("DELETE", "/_emulator/lakebase/table-state", {"table": f"{source}_online"})
    cluster.wait("onlinetable", "offline", timeout=30)


def test_mixed_case_names_neither_stall_nor_cost_writes(cluster, workspace, instance, source,
                                                        poll):
    """Unity Catalog stores names in lower case: a mixed-case spec is the same table."""
    catalog, schema, table = source.split(".")
    mixed_source = f"{catalog.upper()}.{schema.upper()}.{table}"
    manifest = online_table("mixed", mixed_source, instance=instance,
                            table_name=f"{catalog.title()}.{schema.upper()}.{table}_Online")
    cluster.apply(manifest)
    cluster.wait("onlinetable", "mixed")
    if workspace.emulator:  # three drift passes cost no write
        since = workspace.last_seq()
        path = f"/api/2.0/database/synced_tables/{source}_online"
        poll(lambda: workspace.count(f"GET {path}", since) >= 3, timeout=30,
             message="three drift passes")
        assert [c for c in workspace.calls(since)["calls"]
                if c["method"] != "GET" and path in c["path"]] == []
    body = cluster.get("onlinetable", "mixed")
    ready = next(c for c in body["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "True"


@pytest.mark.emulator_only("slows pipeline updates and reads the refusals in the call log")
@pytest.mark.parametrize("running", FIDELITY_CHOICES["pipeline_update_running"])
def test_a_sync_requested_while_one_runs_waits_for_it(cluster, workspace, workspace_settings,
                                                      instance, source, poll, running):
    """However Databricks refuses a second pipeline update, the request waits and is applied,
    never stalls. (A queued update leaves the table looking idle, so the request is sent.)"""
    workspace.require_emulator()
    workspace_settings(pipeline_update_running=running, pipeline_update_seconds=6.0)
    cluster.apply(online_table("busy", source, instance=instance))
    body = cluster.wait("onlinetable", "busy")
    updates = f"/api/2.0/pipelines/{body['status']['pipelineId']}/updates"
    since = workspace.last_seq()

    def request_sync(stamp):
        cluster.kubectl("annotate", "onlinetable", "busy", "-n", cluster.namespace,
                        f"{ANNOTATION}={stamp}", "--overwrite")

    request_sync("2026-11-25T10:00:00Z")
    poll(lambda: cluster.get("onlinetable", "busy")["status"].get("syncRequestHandled") ==
         "2026-11-25T10:00:00Z", timeout=30, message="the first update to start")
    request_sync("2026-11-25T10:00:01Z")  # while the first update is queued or runs
    body = poll(lambda: (lambda b: b if b["status"].get("syncRequestHandled") ==
                         "2026-11-25T10:00:01Z" else None)(cluster.get("onlinetable", "busy")),
                timeout=40, message="the second request to be applied after the first")
    assert not any(c["type"] == "Stalled" and c["status"] == "True"
                   for c in body["status"]["conditions"])
    refused = [c["status"] for c in workspace.calls(since)["calls"]
               if c["method"] == "POST" and c["path"] == updates and c["status"] >= 400]
    assert refused, "the second request met the running (still queued) update"
    cluster.wait("onlinetable", "busy", timeout=30)


@pytest.mark.emulator_only("makes the sync pipeline fail through /_emulator/")
@pytest.mark.produces(SYNC_FAILED)
def test_a_failed_sync_stalls_and_a_new_sync_request_recovers(cluster, workspace, instance,
                                                              source, poll, figures):
    emulator = workspace.require_emulator()
    cluster.apply(online_table("failing", source, instance=instance))
    cluster.wait("onlinetable", "failing")
    emulator.control("POST", "/_emulator/lakebase/pipeline-failures", {
        "table": f"{source}_online", "message": "source table lost its change data feed"})
    cluster.kubectl("annotate", "onlinetable", "failing", "-n", cluster.namespace,
                    f"{ANNOTATION}=first")
    body = cluster.wait("onlinetable", "failing", condition="Stalled", timeout=60)
    stalled = next(c for c in body["status"]["conditions"] if c["type"] == "Stalled")
    assert stalled["reason"] == "SyncFailed"
    assert "change data feed" in stalled["message"] and ANNOTATION in stalled["message"]
    since = workspace.last_seq()
    cluster.kubectl("annotate", "onlinetable", "failing", "-n", cluster.namespace,
                    f"{ANNOTATION}=second", "--overwrite")
    cluster.wait("onlinetable", "failing", timeout=60)
    pipeline = body["status"]["pipelineId"]
    assert workspace.count(f"POST /api/2.0/pipelines/{pipeline}/updates", since) == 1
    figures.record("sync pipeline fails (online table)", **{
        "end state": "Stalled, then Ready after a sync request", "writes": 1,
        "notes": "no sync retried until asked; the stale data kept being served"})
