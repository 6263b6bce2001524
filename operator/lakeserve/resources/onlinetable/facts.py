"""Observed online-table facts for the OnlineTable status (camelCase, None removes a field).

A synced table is read as raw JSON before it becomes the SDK dataclass: the SDK decodes enum
values it does not know to None, and the real offline state ``SYNCED_TABLE_OFFLINE`` is one (its
``SyncedTableState`` spells it ``SYNCED_TABLED_OFFLINE``). The state string is kept as sent.
"""

from __future__ import annotations

from typing import Any

from databricks.sdk.service.catalog import OnlineTable
from databricks.sdk.service.database import SyncedDatabaseTable


def absent(name: str) -> dict[str, Any]:
    return {"tableName": name, "legacy": None, "detailedState": None, "provisioningState": None,
            "message": None, "pipelineId": None, "lastSync": None, "syncedRowCount": None}


def read_synced_table(w: Any, name: str) -> tuple[SyncedDatabaseTable, str | None]:
    """The synced table and its detailed state as Databricks spelled it."""
    raw = w.api_client.do("GET", f"/api/2.0/database/synced_tables/{name}") or {}
    state = (raw.get("data_synchronization_status") or {}).get("detailed_state")
    return SyncedDatabaseTable.from_dict(raw), state


def synced_table_facts(table: SyncedDatabaseTable, raw_state: str | None = None) -> dict[str, Any]:
    status = table.data_synchronization_status
    last_sync = status.last_sync if status else None
    decoded = _value(status.detailed_state) if status else None
    return {
        **absent(table.name),
        "detailedState": raw_state or decoded,
        "provisioningState": _value(table.unity_catalog_provisioning_state),
        "message": status.message if status else None,
        "pipelineId": status.pipeline_id if status else None,
        "lastSync": last_sync.sync_end_timestamp if last_sync else None,
        "syncedRowCount": _synced_rows(status),
    }


def legacy_facts(table: OnlineTable) -> dict[str, Any]:
    status = table.status
    return {
        **absent(table.name),
        "legacy": True,
        "detailedState": _value(status.detailed_state) if status else None,
        "provisioningState": _value(table.unity_catalog_provisioning_state),
        "message": status.message if status else None,
        "pipelineId": table.spec.pipeline_id if table.spec else None,
        "syncedRowCount": _synced_rows(status),
    }


def _synced_rows(status: Any) -> int | None:
    """The row count from whichever progress object the current state carries."""
    if status is None:
        return None
    candidates = [
        getattr(getattr(status, "provisioning_status", None), "initial_pipeline_sync_progress",
                None),
        getattr(getattr(status, "triggered_update_status", None), "triggered_update_progress",
                None),
        getattr(getattr(status, "continuous_update_status", None),
                "initial_pipeline_sync_progress", None),
    ]
    counts = [c.synced_row_count for c in candidates if c and c.synced_row_count is not None]
    return max(counts) if counts else None


def _value(enum: Any) -> str | None:
    return enum.value if enum is not None else None
