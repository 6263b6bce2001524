"""Lakebase instances, synced tables and their pipelines through the real SDK."""

from __future__ import annotations

import pytest
from databricks.sdk.errors import (
    InvalidParameterValue,
    NotFound,
    ResourceAlreadyExists,
    ResourceConflict,
)
from databricks.sdk.service.database import (
    DatabaseInstance,
    DatabaseInstanceState,
    NewPipelineSpec,
    SyncedDatabaseTable,
    SyncedTableSchedulingPolicy,
    SyncedTableSpec,
    SyncedTableState,
)
from databricks.sdk.service.pipelines import PipelineState, UpdateInfoState

from ..conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

SOURCE = "main.default.features"
ONLINE = "main.default.features_online"
INSTANCE = "feature-store"
ROWS = [{"customerID": "7590-VHVEG", "TotalCharges": 29.85, "tenure": 1.0},
        {"customerID": "5575-GNVDE", "TotalCharges": 1889.5, "tenure": 34.0},
        {"customerID": "3668-QPYBK", "TotalCharges": 108.15, "tenure": 2.0}]
NEW_ROW = {"customerID": "9237-HQITU", "TotalCharges": 151.65, "tenure": 2.0}
ONLINE_STATES = (SyncedTableState.SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE,
                 SyncedTableState.SYNCED_TABLE_ONLINE_CONTINUOUS_UPDATE)


@pytest.fixture
def source(emulator) -> str:
    emulator.control("POST", "/_emulator/catalog/tables", {"name": SOURCE, "rows": ROWS})
    return SOURCE


@pytest.fixture
def instance(workspace) -> str:
    workspace.database.create_database_instance(DatabaseInstance(name=INSTANCE,
                                                                 capacity="CU_1"))
    return INSTANCE


def synced_table(policy=SyncedTableSchedulingPolicy.TRIGGERED, keys=("customerID",),
                 source_table=SOURCE, **spec) -> SyncedDatabaseTable:
    return SyncedDatabaseTable(
        name=ONLINE, database_instance_name=INSTANCE, logical_database_name="databricks_postgres",
        spec=SyncedTableSpec(source_table_full_name=source_table, primary_key_columns=list(keys),
                             scheduling_policy=policy, new_pipeline_spec=NewPipelineSpec(),
                             **spec))


def online(workspace, name=ONLINE) -> SyncedDatabaseTable:
    def probe():
        table = workspace.database.get_synced_database_table(name)
        return table if table.data_synchronization_status.detailed_state in ONLINE_STATES \
            else None
    return wait_for(probe)


def lookup(emulator, *ids: str) -> list:
    answer = emulator.control("POST", "/_emulator/lakebase/lookup",
                              {"table": ONLINE, "keys": [{"customerID": i} for i in ids]})
    return answer["rows"]


def test_an_instance_starts_and_becomes_available(workspace):
    created = workspace.database.create_database_instance(
        DatabaseInstance(name=INSTANCE, capacity="CU_2")).response
    assert created.state == DatabaseInstanceState.STARTING
    available = workspace.database.wait_get_database_instance_database_available(INSTANCE)
    assert available.state == DatabaseInstanceState.AVAILABLE
    assert available.read_write_dns and available.effective_capacity == "CU_2"
    assert [i.name for i in workspace.database.list_database_instances()] == [INSTANCE]


def test_create_answers_at_once_then_the_table_goes_online_with_its_rows(workspace, emulator,
                                                                        source, instance):
    created = workspace.database.create_synced_database_table(synced_table())
    assert created.data_synchronization_status.detailed_state == \
        SyncedTableState.SYNCED_TABLE_PROVISIONING_PIPELINE_RESOURCES
    assert created.data_synchronization_status.pipeline_id
    table = online(workspace)
    status = table.data_synchronization_status
    assert status.triggered_update_status.triggered_update_progress.synced_row_count == 3
    assert status.last_sync.delta_table_sync_info.delta_commit_version == 0
    assert table.unity_catalog_provisioning_state.value == "ACTIVE"
    assert [t.name for t in workspace.database.list_synced_database_tables(INSTANCE)] == [ONLINE]
    first, missing = lookup(emulator, "7590-VHVEG", "0000-NOONE")
    assert (first["TotalCharges"], missing) == (29.85, None)


def test_a_missing_source_table_is_not_found_and_named(workspace, instance):
    with pytest.raises(NotFound, match=f"Table '{SOURCE}' does not exist."):
        workspace.database.create_synced_database_table(synced_table())


def test_a_bad_primary_key_is_refused_naming_the_column(workspace, source, instance):
    with pytest.raises(InvalidParameterValue) as refused:
        workspace.database.create_synced_database_table(synced_table(keys=("customer_id",)))
    assert "Column 'customer_id'" in str(refused.value)
    assert "customerID, TotalCharges, tenure" in str(refused.value)


def test_a_missing_instance_and_a_taken_name(workspace, source, instance):
    with pytest.raises(NotFound, match="Database instance"):
        workspace.database.create_synced_database_table(
            SyncedDatabaseTable.from_dict({**synced_table().as_dict(),
                                           "database_instance_name": "nope"}))
    workspace.database.create_synced_database_table(synced_table())
    with pytest.raises(ResourceAlreadyExists):
        workspace.database.create_synced_database_table(synced_table())


def test_start_update_while_one_runs_is_a_conflict(workspace, emulator, source, instance):
    workspace.database.create_synced_database_table(synced_table())
    pipeline_id = online(workspace).data_synchronization_status.pipeline_id
    emulator.control("PUT", "/_emulator/settings", {"pipeline_update_seconds": 30})
    update = workspace.pipelines.start_update(pipeline_id)
    with pytest.raises(ResourceConflict, match="already"):
        workspace.pipelines.start_update(pipeline_id)
    pipeline = workspace.pipelines.get(pipeline_id)
    assert pipeline.state == PipelineState.RUNNING
    assert pipeline.latest_updates[0].update_id == update.update_id
    # queued: the table still shows its previous state, though the pipeline is busy
    assert workspace.database.get_synced_database_table(ONLINE).data_synchronization_status \
        .detailed_state == SyncedTableState.SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE


def test_a_triggered_update_copies_rows_appended_to_the_source(workspace, emulator, source,
                                                              instance):
    workspace.database.create_synced_database_table(synced_table())
    pipeline_id = online(workspace).data_synchronization_status.pipeline_id
    emulator.control("POST", "/_emulator/catalog/tables",
                     {"name": SOURCE, "rows": [NEW_ROW], "mode": "append"})
    assert lookup(emulator, NEW_ROW["customerID"]) == [None]
    update_id = workspace.pipelines.start_update(pipeline_id).update_id
    done = wait_for(lambda: (u := workspace.pipelines.get_update(pipeline_id, update_id).update)
                    .state in (UpdateInfoState.COMPLETED, UpdateInfoState.FAILED) and u)
    assert done.state == UpdateInfoState.COMPLETED
    status = online(workspace).data_synchronization_status
    assert status.last_sync.delta_table_sync_info.delta_commit_version == 1
    assert status.triggered_update_status.triggered_update_progress.synced_row_count == 4
    assert lookup(emulator, NEW_ROW["customerID"])[0]["TotalCharges"] == 151.65
    updates = workspace.pipelines.list_updates(pipeline_id).updates
    assert [u.update_id for u in updates][0] == update_id and len(updates) == 2
    assert workspace.pipelines.get(pipeline_id).state == PipelineState.IDLE


def test_a_continuous_table_picks_up_appends_by_itself(workspace, emulator, source, instance):
    workspace.database.create_synced_database_table(
        synced_table(SyncedTableSchedulingPolicy.CONTINUOUS))
    online(workspace)
    emulator.control("POST", "/_emulator/catalog/tables",
                     {"name": SOURCE, "rows": [NEW_ROW], "mode": "append"})

    def synced_version_1():
        status = workspace.database.get_synced_database_table(ONLINE).data_synchronization_status
        update = status.continuous_update_status
        return update and update.last_processed_commit_version == 1 and status
    status = wait_for(synced_version_1)
    assert status.detailed_state == SyncedTableState.SYNCED_TABLE_ONLINE_CONTINUOUS_UPDATE
    assert status.continuous_update_status.initial_pipeline_sync_progress.synced_row_count == 4
    assert lookup(emulator, NEW_ROW["customerID"])[0] is not None


def test_a_failed_update_keeps_serving_the_old_rows(workspace, emulator, source, instance):
    workspace.database.create_synced_database_table(synced_table())
    pipeline_id = online(workspace).data_synchronization_status.pipeline_id
    emulator.control("POST", "/_emulator/lakebase/pipeline-failures",
                     {"table": ONLINE, "message": "disk full"})
    workspace.pipelines.start_update(pipeline_id)

    def failed():
        status = workspace.database.get_synced_database_table(ONLINE).data_synchronization_status
        return status.detailed_state == SyncedTableState.SYNCED_TABLE_ONLINE_PIPELINE_FAILED \
            and status
    assert "disk full" in wait_for(failed).message
    assert lookup(emulator, "7590-VHVEG")[0] is not None


def test_delete_with_purge_drops_the_online_rows(workspace, emulator, source, instance):
    workspace.database.create_synced_database_table(synced_table())
    online(workspace)
    store = emulator.control("GET", "/_emulator/lakebase/online-store")["tables"]
    assert store == [{"key": [INSTANCE, "databricks_postgres", "default", "features_online"],
                      "row_count": 3}]
    workspace.database.delete_synced_database_table(ONLINE, purge_data=True)
    with pytest.raises(NotFound):
        workspace.database.get_synced_database_table(ONLINE)
    assert emulator.control("GET", "/_emulator/lakebase/online-store")["tables"] == []
    with pytest.raises(NotFound):
        workspace.database.delete_synced_database_table(ONLINE)
