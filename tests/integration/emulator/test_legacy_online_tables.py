"""Legacy online tables: creation refused since 2026-01-15, seeded ones read and deleted."""

from __future__ import annotations

import pytest
from databricks.sdk.errors import BadRequest, NotFound
from databricks.sdk.service.catalog import (
    OnlineTable,
    OnlineTableSpec,
    OnlineTableSpecTriggeredSchedulingPolicy,
    OnlineTableState,
    ProvisioningInfoState,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

SOURCE = "main.default.features"
LEGACY = "main.default.online_features"


@pytest.fixture
def seeded(emulator) -> dict:
    emulator.control("POST", "/_emulator/catalog/tables", {"name": SOURCE, "rows": [
        {"customerID": "a", "tenure": 1.0}, {"customerID": "b", "tenure": 2.0}]})
    return emulator.control("POST", "/_emulator/legacy-online-tables", {
        "name": LEGACY, "source_table_full_name": SOURCE, "primary_key_columns": ["customerID"]})


def test_creating_a_legacy_online_table_is_refused(workspace, emulator):
    table = OnlineTable(name=LEGACY, spec=OnlineTableSpec(
        source_table_full_name=SOURCE, primary_key_columns=["customerID"],
        run_triggered=OnlineTableSpecTriggeredSchedulingPolicy(), perform_full_copy=True))
    with pytest.raises(BadRequest, match="no longer supported") as refused:
        workspace.online_tables.create(table)
    assert refused.value.error_code == "FEATURE_DISABLED"
    assert "synced table" in str(refused.value)


def test_a_seeded_table_reads_like_databricks_returns_it(workspace, emulator, seeded):
    table = workspace.online_tables.get(LEGACY)
    assert table.status.detailed_state == OnlineTableState.ONLINE_NO_PENDING_UPDATE
    assert table.unity_catalog_provisioning_state == ProvisioningInfoState.ACTIVE
    assert table.spec.source_table_full_name == SOURCE
    assert table.spec.pipeline_id == seeded["spec"]["pipeline_id"]
    assert table.status.triggered_update_status.triggered_update_progress.synced_row_count == 2
    rows = emulator.control("POST", "/_emulator/lakebase/lookup",
                            {"table": LEGACY, "keys": [{"customerID": "b"}]})["rows"]
    assert rows == [{"customerID": "b", "tenure": 2.0}]


def test_a_seeded_table_is_not_a_synced_table(workspace, seeded):
    with pytest.raises(NotFound):
        workspace.database.get_synced_database_table(LEGACY)


def test_delete(workspace, seeded):
    workspace.online_tables.delete(LEGACY)
    with pytest.raises(NotFound):
        workspace.online_tables.get(LEGACY)


# (setting, HTTP status, error code) of every route when the API is set to answer as retired
RETIRED = [("not_implemented", 501, "NOT_IMPLEMENTED"), ("feature_disabled", 400, "FEATURE_DISABLED"),
           ("not_found", 404, "ENDPOINT_NOT_FOUND"), ("gone", 410, "GONE")]


@pytest.mark.parametrize("setting, status, code", RETIRED, ids=[r[0] for r in RETIRED])
def test_a_retired_api_refuses_every_route(workspace, emulator, seeded, setting, status, code):
    emulator.control("PUT", "/_emulator/settings", {"legacy_online_tables": setting})
    answers = []
    for call in (lambda: workspace.online_tables.get(LEGACY),
                 lambda: workspace.online_tables.delete(LEGACY)):
        with pytest.raises(Exception) as refused:
            call()
        answers.append(getattr(refused.value, "error_code", None))
    assert answers == [code, code]
    calls = emulator.control("GET", "/_emulator/calls")["calls"]
    assert {c["status"] for c in calls if c["path"].startswith("/api/2.0/online-tables")} == \
        {status}
    emulator.control("PUT", "/_emulator/settings", {"legacy_online_tables": "available"})
    assert workspace.online_tables.get(LEGACY).name == LEGACY, "seeded table untouched"
