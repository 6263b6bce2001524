"""Synced tables through their states on a manual clock, with real Delta data underneath."""

from __future__ import annotations

import pytest
from databricks.sdk.service.pipelines import UpdateInfoCause, UpdateInfoState

from lakeserve.emulator.errors import ApiError
from lakeserve.emulator.lakebase.engine import OnlineTableUnavailable

from .conftest import ONLINE, SOURCE, USER, synced_body


def state(synced) -> str:
    return synced.get(ONLINE)["data_synchronization_status"]["detailed_state"]


def status(synced) -> dict:
    return synced.get(ONLINE)["data_synchronization_status"]


def test_provisioning_then_snapshot_then_online_with_row_counts(synced, clock):
    created = synced.create(synced_body(), USER)
    assert created["data_synchronization_status"]["detailed_state"] == \
        "SYNCED_TABLE_PROVISIONING_PIPELINE_RESOURCES"
    assert created["unity_catalog_provisioning_state"] == "PROVISIONING"
    clock.advance(2)
    snapshot = synced.get(ONLINE)
    assert snapshot["unity_catalog_provisioning_state"] == "ACTIVE"
    progress = snapshot["data_synchronization_status"]["provisioning_status"][
        "initial_pipeline_sync_progress"]
    assert snapshot["data_synchronization_status"]["detailed_state"] == \
        "SYNCED_TABLE_PROVISIONING_INITIAL_SNAPSHOT"
    assert (progress["total_row_count"], progress["synced_row_count"]) == (2, 0)
    clock.advance(2.9)
    assert state(synced) == "SYNCED_TABLE_PROVISIONING_INITIAL_SNAPSHOT"
    clock.advance(0.1)
    online = status(synced)
    assert online["detailed_state"] == "SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE"
    assert online["triggered_update_status"]["triggered_update_progress"][
        "synced_row_count"] == 2
    assert online["last_sync"]["delta_table_sync_info"]["delta_commit_version"] == 0
    assert online["pipeline_id"]


def test_continuous_tables_are_online_in_continuous_update(synced, clock):
    synced.create(synced_body("CONTINUOUS"), USER)
    clock.advance(5)
    assert state(synced) == "SYNCED_TABLE_ONLINE_CONTINUOUS_UPDATE"


def test_rows_are_copied_only_when_the_initial_sync_completes(synced, engine, clock):
    synced.create(synced_body(), USER)
    with pytest.raises(OnlineTableUnavailable, match="no synced data yet"):
        engine.lookup(ONLINE, [{"customerID": "a"}])
    clock.advance(5)
    assert engine.lookup(ONLINE, [{"customerID": "a"}, {"customerID": "zz"}]) == \
        [{"customerID": "a", "tenure": 1.0, "ts": 1}, None]


def test_a_triggered_update_copies_appended_rows_when_it_completes(synced, engine, catalog,
                                                                  clock):
    synced.create(synced_body(), USER)
    clock.advance(5)
    catalog.append(SOURCE, [{"customerID": "c", "tenure": 3.0, "ts": 2}])
    pipeline_id = status(synced)["pipeline_id"]
    update_id = engine.start_update(pipeline_id, UpdateInfoCause.API_CALL, False)
    pipeline = engine.pipeline(pipeline_id)
    update = pipeline.updates[-1]
    assert engine.update_state(pipeline, update) is UpdateInfoState.QUEUED
    clock.advance(1)
    assert engine.update_state(pipeline, update) is UpdateInfoState.INITIALIZING
    clock.advance(1)
    running = status(synced)
    assert running["detailed_state"] == "SYNCED_TABLE_ONLINE_TRIGGERED_UPDATE"
    assert running["triggered_update_status"]["last_processed_commit_version"] == 0
    assert engine.lookup(ONLINE, [{"customerID": "c"}]) == [None]  # old data serves meanwhile
    with pytest.raises(ApiError) as busy:
        engine.start_update(pipeline_id, UpdateInfoCause.API_CALL, False)
    assert busy.value.status == 409 and "already" in busy.value.message
    clock.advance(2)
    assert engine.update_state(pipeline, update) is UpdateInfoState.COMPLETED
    done = status(synced)
    assert done["detailed_state"] == "SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE"
    assert done["last_sync"]["delta_table_sync_info"]["delta_commit_version"] == 1
    assert engine.lookup(ONLINE, [{"customerID": "c"}])[0]["tenure"] == 3.0
    assert update.update_id == update_id


@pytest.mark.parametrize("setting, code", [("resource_conflict", "RESOURCE_CONFLICT"),
                                           ("invalid_state", "INVALID_STATE")])
def test_start_update_is_refused_while_the_initial_sync_runs(synced, engine, ctx, setting, code):
    ctx.settings.pipeline_update_running = setting
    synced.create(synced_body(), USER)
    with pytest.raises(ApiError) as busy:
        engine.start_update(status(synced)["pipeline_id"], UpdateInfoCause.API_CALL, False)
    assert busy.value.error_code == code


def test_a_continuous_table_picks_up_new_versions_by_itself(synced, engine, catalog, clock):
    synced.create(synced_body("CONTINUOUS"), USER)
    clock.advance(5)
    catalog.append(SOURCE, [{"customerID": "c", "tenure": 3.0, "ts": 2}])
    assert engine.lookup(ONLINE, [{"customerID": "c"}]) == [None]  # noticed, being synced
    clock.advance(4)
    assert engine.lookup(ONLINE, [{"customerID": "c"}])[0]["tenure"] == 3.0
    assert status(synced)["continuous_update_status"]["last_processed_commit_version"] == 1


def test_timeseries_key_keeps_the_latest_row_per_key(synced, engine, catalog, clock):
    catalog.append(SOURCE, [{"customerID": "a", "tenure": 9.0, "ts": 5},
                            {"customerID": "b", "tenure": 0.5, "ts": 0}])
    synced.create(synced_body(timeseries_key="ts"), USER)
    clock.advance(5)
    rows = engine.lookup(ONLINE, [{"customerID": "a"}, {"customerID": "b"}])
    assert [r["tenure"] for r in rows] == [9.0, 2.0]


def test_the_source_vanishing_before_the_initial_sync_ends_fails_the_table(synced, catalog,
                                                                           clock):
    synced.create(synced_body(), USER)
    catalog.delete_table(SOURCE)
    clock.advance(5)
    failed = status(synced)
    assert failed["detailed_state"] == "SYNCED_TABLE_OFFLINE_FAILED"
    assert SOURCE in failed["message"] and "does not exist" in failed["message"]
    assert "failed_status" in failed


def test_an_injected_failure_fails_the_next_update_and_old_rows_keep_serving(synced, engine,
                                                                             clock):
    synced.create(synced_body(), USER)
    clock.advance(5)
    engine.failures[ONLINE] = "boom"
    pipeline_id = status(synced)["pipeline_id"]
    engine.start_update(pipeline_id, UpdateInfoCause.API_CALL, False)
    clock.advance(4)
    failed = status(synced)
    assert failed["detailed_state"] == "SYNCED_TABLE_ONLINE_PIPELINE_FAILED"
    assert "boom" in failed["message"]
    pipeline = engine.pipeline(pipeline_id)
    assert engine.update_state(pipeline, pipeline.updates[-1]) is UpdateInfoState.FAILED
    assert engine.lookup(ONLINE, [{"customerID": "a"}])[0] is not None
    engine.start_update(pipeline_id, UpdateInfoCause.API_CALL, False)  # the knob was used up
    clock.advance(4)
    assert state(synced) == "SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE"


def test_an_injected_failure_of_the_initial_sync_leaves_the_table_offline(synced, engine, clock):
    engine.failures[ONLINE] = "no capacity"
    synced.create(synced_body(), USER)
    clock.advance(5)
    assert state(synced) == "SYNCED_TABLE_OFFLINE_FAILED"


def test_delays_are_read_when_evaluated(synced, ctx):
    synced.create(synced_body(), USER)
    ctx.settings.update({"synced_table_provision_seconds": 0, "synced_table_snapshot_seconds": 0})
    assert state(synced) == "SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE"


def test_find_online_table_by_source_prefers_tables_with_data(synced, engine, clock):
    synced.create(synced_body(name="main.default.first"), USER)
    clock.advance(5)
    synced.create(synced_body(name="main.default.second"), USER)
    assert engine.find_online_table(SOURCE) == "main.default.first"
    assert engine.online_tables_for_source(SOURCE) == ["main.default.first",
                                                       "main.default.second"]
    assert engine.find_online_table("main.default.other") is None


def test_delete_with_and_without_purge(synced, engine, clock):
    synced.create(synced_body(), USER)
    clock.advance(5)
    key = engine.tables[ONLINE].store_key
    synced.delete(ONLINE, purge_data=False)
    assert engine.store.has(key)  # the Postgres table stays
    with pytest.raises(ApiError) as gone:
        synced.get(ONLINE)
    assert gone.value.status == 404
    synced.create(synced_body(), USER)
    synced.delete(ONLINE, purge_data=True)
    assert not engine.store.has(key)
