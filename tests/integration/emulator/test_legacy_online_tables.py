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
