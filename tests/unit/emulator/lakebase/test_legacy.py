"""Legacy online tables: creation refused, seeded ones read, synced again, deleted."""

from __future__ import annotations

import pytest
from databricks.sdk.service.pipelines import UpdateInfoCause

from lakeserve.emulator.errors import ApiError

from .conftest import SOURCE, USER

LEGACY = "main.default.online_features"


def seed(legacy, **extra) -> dict:
    return legacy.seed({"name": LEGACY, "source_table_full_name": SOURCE,
                        "primary_key_columns": ["customerID"], **extra}, USER)


def test_creation_is_refused_pointing_to_the_replacements(legacy):
    with pytest.raises(ApiError) as refused:
        legacy.create({"name": LEGACY})
    assert refused.value.status == 400
    assert "no longer supported" in refused.value.message
    assert "synced table" in refused.value.message


def test_a_seeded_table_is_online_and_serves_lookups(legacy, engine):
    table = seed(legacy)
    assert table["status"]["detailed_state"] == "ONLINE_NO_PENDING_UPDATE"
    assert table["unity_catalog_provisioning_state"] == "ACTIVE"
    assert table["spec"]["run_triggered"] == {} and table["spec"]["pipeline_id"]
    assert table["status"]["triggered_update_status"]["triggered_update_progress"][
        "synced_row_count"] == 2
    assert engine.lookup(LEGACY, [{"customerID": "b"}])[0]["tenure"] == 2.0
    assert engine.find_online_table(SOURCE) == LEGACY


def test_a_seeded_state_holds_until_a_sync_runs(legacy, engine, clock):
    table = seed(legacy, state="ONLINE_PIPELINE_FAILED")
    assert table["status"]["detailed_state"] == "ONLINE_PIPELINE_FAILED"
    assert "failed_status" in table["status"]
    engine.start_update(table["spec"]["pipeline_id"], UpdateInfoCause.API_CALL, False)
    clock.advance(1.6)
    assert legacy.get(LEGACY)["status"]["detailed_state"] == "ONLINE_TRIGGERED_UPDATE"
    clock.advance(4)
    assert legacy.get(LEGACY)["status"]["detailed_state"] == "ONLINE_NO_PENDING_UPDATE"


def test_offline_seeds_have_no_data(legacy, engine):
    seed(legacy, state="OFFLINE_FAILED")
    with pytest.raises(LookupError):
        engine.lookup(LEGACY, [{"customerID": "a"}])


def test_delete_removes_the_table_and_its_data(legacy, engine):
    seed(legacy)
    legacy.delete(LEGACY)
    with pytest.raises(ApiError) as missing:
        legacy.get(LEGACY)
    assert missing.value.status == 404
    assert engine.store.keys() == []


def test_seeding_checks_the_source(legacy):
    with pytest.raises(ApiError) as missing:
        legacy.seed({"name": LEGACY, "source_table_full_name": "main.default.nope",
                     "primary_key_columns": ["id"]}, USER)
    assert missing.value.status == 404
    with pytest.raises(ApiError, match="Column 'id'"):
        seed(legacy, primary_key_columns=["id"])
