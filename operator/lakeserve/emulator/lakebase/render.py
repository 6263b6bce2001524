"""Online-table views and pipelines -> the SDK response dataclasses.

Synced tables (``database``) and legacy online tables (``catalog``) share the status layout; the
status is built once as JSON and read through each API's own dataclass.
"""

from __future__ import annotations

from typing import Any

from databricks.sdk.service.catalog import (
    OnlineTable as OnlineTableInfo,
)
from databricks.sdk.service.catalog import (
    OnlineTableSpec,
    OnlineTableSpecContinuousSchedulingPolicy,
    OnlineTableSpecTriggeredSchedulingPolicy,
    OnlineTableStatus,
    ProvisioningInfoState,
)
from databricks.sdk.service.database import (
    SyncedDatabaseTable,
    SyncedTableStatus,
)
from databricks.sdk.service.database import (
    ProvisioningInfoState as DatabaseProvisioningState,
)
from databricks.sdk.service.pipelines import (
    GetPipelineResponse,
    GetPipelineResponseHealth,
    PipelineSpec,
    PipelineState,
    UpdateInfo,
    UpdateInfoState,
    UpdateStateInfo,
    UpdateStateInfoState,
)

from lakeserve.emulator.clock import millis
from lakeserve.emulator.lakebase import lifecycle
from lakeserve.emulator.lakebase.lifecycle import Progress, TableView
from lakeserve.emulator.lakebase.model import OnlineTable, Pipeline, Policy, Update
from lakeserve.emulator.lakebase.times import rfc3339

SYNCED_PREFIX = "SYNCED_TABLE_"
LATEST_UPDATES = 5


def synced_table(table: OnlineTable, view: TableView) -> SyncedDatabaseTable:
    request = table.request or SyncedDatabaseTable(name=table.name)
    status = status_json(view, SYNCED_PREFIX, synced=True)
    status["pipeline_id"] = table.pipeline_id
    last = view.last_sync
    if last is not None:
        status["last_sync"] = {
            "delta_table_sync_info": {"delta_commit_version": last.source_version,
                                      "delta_commit_timestamp": rfc3339(last.commit_time)},
            "sync_start_timestamp": rfc3339(last.started_at),
            "sync_end_timestamp": rfc3339(last.finished_at)}
    return SyncedDatabaseTable(
        name=table.name, database_instance_name=request.database_instance_name,
        logical_database_name=request.logical_database_name,
        effective_database_instance_name=table.store_key[0],
        effective_logical_database_name=table.store_key[1],
        spec=request.spec, data_synchronization_status=SyncedTableStatus.from_dict(status),
        unity_catalog_provisioning_state=DatabaseProvisioningState(view.provisioning.value))


def synced_table_json(table: OnlineTable, view: TableView) -> dict[str, Any]:
    """The synced table as JSON; a state override is written raw, past the SDK's enum."""
    body = synced_table(table, view).as_dict()
    if table.state_override is not None:
        state, message = table.state_override
        status = body.setdefault("data_synchronization_status", {})
        status.update(detailed_state=state, message=message)
    return body


def legacy_table(table: OnlineTable, view: TableView) -> OnlineTableInfo:
    continuous = table.policy is Policy.CONTINUOUS
    spec = OnlineTableSpec(
        source_table_full_name=table.source, primary_key_columns=list(table.primary_keys),
        timeseries_key=table.timeseries_key, perform_full_copy=table.perform_full_copy,
        pipeline_id=table.pipeline_id,
        run_continuously=OnlineTableSpecContinuousSchedulingPolicy() if continuous else None,
        run_triggered=None if continuous else OnlineTableSpecTriggeredSchedulingPolicy())
    return OnlineTableInfo(name=table.name, spec=spec,
                           status=OnlineTableStatus.from_dict(status_json(view, "", synced=False)),
                           unity_catalog_provisioning_state=ProvisioningInfoState.ACTIVE)


def status_json(view: TableView, prefix: str, synced: bool) -> dict[str, Any]:
    status: dict[str, Any] = {"detailed_state": prefix + view.state, "message": view.message}
    progress = _progress(view.progress, synced and view.status_object == lifecycle.PROVISIONING)
    last = view.last_sync
    version = last.source_version if last else None
    stamp = rfc3339(last.finished_at) if last else None
    kind = view.status_object
    if kind == lifecycle.PROVISIONING:
        status["provisioning_status"] = {"initial_pipeline_sync_progress": progress}
    elif kind == lifecycle.TRIGGERED:
        status["triggered_update_status"] = {"last_processed_commit_version": version,
                                             "timestamp": stamp,
                                             "triggered_update_progress": progress}
    elif kind == lifecycle.CONTINUOUS:
        status["continuous_update_status"] = {"initial_pipeline_sync_progress": progress,
                                              "last_processed_commit_version": version,
                                              "timestamp": stamp}
    else:
        failed = view.failed
        status["failed_status"] = {
            "last_processed_commit_version": version,
            "timestamp": rfc3339(failed.finished_at) if failed else stamp}
    return status


def _progress(progress: Progress | None, with_phase: bool) -> dict[str, Any] | None:
    if progress is None:
        return None
    body = {"total_row_count": progress.total_rows, "synced_row_count": progress.synced_rows,
            "sync_progress_completion": progress.completion,
            "latest_version_currently_processing": progress.version,
            "estimated_completion_time_seconds": progress.eta_seconds}
    if with_phase:
        body["provisioning_phase"] = "PROVISIONING_PHASE_MAIN"
    return {key: value for key, value in body.items() if value is not None}


def pipeline(p: Pipeline, states: list[tuple[Update, UpdateInfoState]]) -> GetPipelineResponse:
    active = any(lifecycle.is_active(state) for _, state in states)
    failed = bool(states) and states[-1][1] is UpdateInfoState.FAILED
    latest = [UpdateStateInfo(update_id=u.update_id, state=UpdateStateInfoState(state.value),
                              creation_time=rfc3339(u.created_at))
              for u, state in reversed(states[-LATEST_UPDATES:])]
    return GetPipelineResponse(
        pipeline_id=p.pipeline_id, name=p.name,
        state=PipelineState.RUNNING if active else PipelineState.IDLE,
        health=GetPipelineResponseHealth.UNHEALTHY if failed else GetPipelineResponseHealth.HEALTHY,
        latest_updates=latest, creator_user_name=p.creator, run_as_user_name=p.creator,
        last_modified=millis(states[-1][0].created_at if states else p.created_at),
        spec=PipelineSpec(id=p.pipeline_id, name=p.name, continuous=p.continuous,
                          catalog=p.storage_catalog, schema=p.storage_schema,
                          budget_policy_id=p.budget_policy_id, serverless=True))


def update_info(p: Pipeline, update: Update, state: UpdateInfoState) -> UpdateInfo:
    return UpdateInfo(pipeline_id=p.pipeline_id, update_id=update.update_id, state=state,
                      cause=update.cause, creation_time=millis(update.created_at),
                      full_refresh=update.full_refresh, validate_only=False)
