"""The only code that talks to Databricks about online tables.

Implemented on Lakebase synced tables through ``w.database`` (Lakebase Provisioned), not
``w.postgres`` (Lakebase Autoscaling): a synced table there is addressed by its Unity Catalog name
and a database instance name -- the notebook's own vocabulary -- and create/get/delete return the
table itself, where the postgres API needs project/branch resource names and long-running
operation polling for the same result. Its status carries the same detailed states and pipeline
id as legacy online tables, which keeps adoption of a legacy table and its migration simple.
Databricks cannot update a synced table (the update API is unimplemented): a changed spec is
refused at admission, or replaced with ``updatePolicy: Recreate``.
"""

from __future__ import annotations

from typing import Any

from databricks.sdk.errors import DatabricksError, NotFound
from databricks.sdk.service.catalog import OnlineTable
from databricks.sdk.service.database import (
    NewPipelineSpec,
    SyncedDatabaseTable,
    SyncedTableSchedulingPolicy,
    SyncedTableSpec,
)

from lakeserve.api.common import UpdatePolicy
from lakeserve.api.onlinetable import SYNC_REQUESTED_ANNOTATION, OnlineTableSpec, SyncMode
from lakeserve.databricks.workspace import Workspace
from lakeserve.reconcile import reasons
from lakeserve.resources.base import DeleteState, Event, Managed, Observation, WriteResult
from lakeserve.resources.onlinetable import facts
from lakeserve.resources.onlinetable.states import Health, health

SYNC_FAILED = "SyncFailed"
SYNCING = "Syncing"
PROVISIONING = "Provisioning"
SYNC_REQUEST = "sync requested"
LEGACY_MIGRATION = "legacy online table -> synced table"

_SCHEDULING = {SyncMode.SNAPSHOT: SyncedTableSchedulingPolicy.SNAPSHOT,
               SyncMode.TRIGGERED: SyncedTableSchedulingPolicy.TRIGGERED,
               SyncMode.CONTINUOUS: SyncedTableSchedulingPolicy.CONTINUOUS}


class OnlineTableClient:
    def __init__(self, workspace: Workspace):
        self._w = workspace.client
        self._pipeline_id: str | None = None

    # ---- observe -------------------------------------------------------------------------

    def observe(self, obj: Managed[OnlineTableSpec]) -> Observation:
        spec = obj.spec
        if obj.status.get("legacy"):
            # One read per pass at steady state: an adopted legacy table is looked at first.
            legacy = self._observe_legacy(obj)
            if legacy.exists:
                return legacy
        try:
            table = self._w.database.get_synced_database_table(spec.name)
        except NotFound:
            return self._observe_legacy(obj)
        status = table.data_synchronization_status
        self._pipeline_id = status.pipeline_id if status else None
        observation = Observation(exists=True, name=spec.name,
                                  status=facts.synced_table_facts(table))
        observation.diff = synced_spec_diff(spec, table)
        observation.updatable = not observation.diff
        self._judge(obj, health(observation.status.get("detailedState")), observation)
        return observation

    def _observe_legacy(self, obj: Managed[OnlineTableSpec]) -> Observation:
        spec = obj.spec
        try:
            table = self._w.online_tables.get(spec.name)
        except NotFound:
            return Observation(exists=False, name=spec.name, status=facts.absent(spec.name),
                               create_status=_create_status(obj))
        self._pipeline_id = table.spec.pipeline_id if table.spec else None
        observation = Observation(exists=True, name=spec.name,
                                  status=facts.legacy_facts(table))
        observation.diff = legacy_spec_diff(spec, table)
        if spec.update_policy == UpdatePolicy.RECREATE:
            observation.diff.append(LEGACY_MIGRATION)
        observation.updatable = not observation.diff
        self._judge(obj, health(observation.status.get("detailedState")), observation)
        return observation

    def _judge(self, obj: Managed[OnlineTableSpec], state: Health,
               observation: Observation) -> None:
        """Ready only once data is synced; a pending sync request is a difference to apply."""
        message = observation.status.get("message") or ""
        detailed = observation.status.get("detailedState") or "unknown"
        requested = _sync_requested(obj)
        if state is Health.ONLINE:
            observation.ready = not requested
        elif state is Health.SYNCING:
            observation.busy = (SYNCING, f"a sync is running ({detailed})")
        elif state is Health.PIPELINE_FAILED and not requested:
            observation.failed = (SYNC_FAILED, f"the sync pipeline failed ({detailed}): "
                                               f"{message}; data may be stale. Request a sync "
                                               f"with the {SYNC_REQUESTED_ANNOTATION} annotation")
        elif state is Health.FAILED:
            observation.failed = (SYNC_FAILED, f"the online table is offline ({detailed}): "
                                               f"{message}")
        elif state is not Health.PIPELINE_FAILED:
            observation.progress = (PROVISIONING, f"{detailed}: {message}".rstrip(": "))
        if requested and state in (Health.ONLINE, Health.PIPELINE_FAILED, Health.SYNCING) and \
                observation.updatable:
            observation.diff.append(SYNC_REQUEST)

    def locate(self, obj: Managed[OnlineTableSpec]) -> Observation:
        """A synced table, else a legacy online table, of the spec's name."""
        name = obj.spec.name
        for get in (self._w.database.get_synced_database_table, self._w.online_tables.get):
            try:
                get(name)
                return Observation(exists=True, name=name)
            except NotFound:
                continue
        return Observation(exists=False, name=name)

    # ---- writes --------------------------------------------------------------------------

    def create(self, obj: Managed[OnlineTableSpec], observation: Observation) -> WriteResult:
        spec = obj.spec
        self._w.database.create_synced_database_table(synced_table(spec))
        return WriteResult(
            events=[Event(reasons.CREATED, f"created synced table {spec.name} from "
                                           f"{spec.source_table_full_name} in database instance "
                                           f"{spec.database_instance_name}")],
            status=_create_status(obj))

    def update(self, obj: Managed[OnlineTableSpec], observation: Observation) -> WriteResult:
        """The only in-place change Databricks allows: start a sync of the pipeline."""
        requested = obj.annotations.get(SYNC_REQUESTED_ANNOTATION)
        if obj.spec.sync_mode == SyncMode.CONTINUOUS:
            return WriteResult(events=[Event(reasons.UPDATED, "sync requested, but a Continuous "
                                             "table syncs all the time: nothing to start")],
                               status={"syncRequestHandled": requested})
        try:
            update = self._w.pipelines.start_update(self._pipeline_id)
        except DatabricksError as exc:
            if _already_running(exc):
                return WriteResult(events=[Event(SYNCING, "a pipeline update is already "
                                                 "running; the requested sync starts after it")])
            raise
        return WriteResult(
            events=[Event(reasons.UPDATED, f"started sync {update.update_id} of pipeline "
                                           f"{self._pipeline_id} (request {requested})")],
            status={"syncRequestHandled": requested, "syncUpdateId": update.update_id})

    def delete(self, obj: Managed[OnlineTableSpec]) -> DeleteState:
        spec = obj.spec
        try:
            self._w.database.delete_synced_database_table(
                spec.name, purge_data=spec.purge_data_on_delete)
            return DeleteState.GONE
        except NotFound:
            pass
        try:
            self._w.online_tables.delete(spec.name)
        except NotFound:
            pass
        return DeleteState.GONE


def synced_table(spec: OnlineTableSpec) -> SyncedDatabaseTable:
    pipeline = spec.pipeline
    new_pipeline = None
    if pipeline is None or not pipeline.existing_pipeline_id:
        new_pipeline = NewPipelineSpec(
            storage_catalog=pipeline.storage_catalog if pipeline else None,
            storage_schema=pipeline.storage_schema if pipeline else None,
            budget_policy_id=pipeline.budget_policy_id if pipeline else None)
    return SyncedDatabaseTable(
        name=spec.name,
        database_instance_name=spec.database_instance_name,
        logical_database_name=spec.logical_database_name,
        spec=SyncedTableSpec(
            source_table_full_name=spec.source_table_full_name,
            primary_key_columns=list(spec.primary_key_columns),
            timeseries_key=spec.timeseries_key,
            scheduling_policy=_SCHEDULING[SyncMode(spec.sync_mode)],
            create_database_objects_if_missing=spec.create_database_objects_if_missing,
            existing_pipeline_id=pipeline.existing_pipeline_id if pipeline else None,
            new_pipeline_spec=new_pipeline,
        ),
    )


def synced_spec_diff(spec: OnlineTableSpec, table: SyncedDatabaseTable) -> list[str]:
    observed = table.spec or SyncedTableSpec()
    policy = observed.scheduling_policy.value if observed.scheduling_policy else None
    pairs: list[tuple[str, Any, Any]] = [
        ("sourceTableFullName", spec.source_table_full_name, observed.source_table_full_name),
        ("primaryKeyColumns", list(spec.primary_key_columns), observed.primary_key_columns or []),
        ("timeseriesKey", spec.timeseries_key, observed.timeseries_key),
        ("syncMode", _SCHEDULING[SyncMode(spec.sync_mode)].value, policy),
        ("databaseInstanceName", spec.database_instance_name,
         table.effective_database_instance_name or table.database_instance_name),
        ("logicalDatabaseName", spec.logical_database_name,
         table.effective_logical_database_name or table.logical_database_name),
    ]
    return [name for name, want, have in pairs if have is not None and want != have]


def legacy_spec_diff(spec: OnlineTableSpec, table: OnlineTable) -> list[str]:
    observed = table.spec
    if observed is None:
        return []
    pairs = [("sourceTableFullName", spec.source_table_full_name, observed.source_table_full_name),
             ("primaryKeyColumns", list(spec.primary_key_columns),
              observed.primary_key_columns or []),
             ("timeseriesKey", spec.timeseries_key, observed.timeseries_key)]
    return [name for name, want, have in pairs if want != have]


def _create_status(obj: Managed[OnlineTableSpec]) -> dict:
    # The initial sync answers any sync request made so far.
    return {"syncRequestHandled": obj.annotations.get(SYNC_REQUESTED_ANNOTATION)}


def _sync_requested(obj: Managed[OnlineTableSpec]) -> bool:
    requested = obj.annotations.get(SYNC_REQUESTED_ANNOTATION)
    return bool(requested) and requested != obj.status.get("syncRequestHandled")


def _already_running(exc: DatabricksError) -> bool:
    text = str(exc).lower()
    return exc.error_code in ("RESOURCE_CONFLICT", "ALREADY_EXISTS") or "already" in text and (
        "running" in text or "active" in text or "in progress" in text)
