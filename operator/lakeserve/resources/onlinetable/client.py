"""The only code that talks to Databricks about online tables.

Implemented on Lakebase synced tables through ``w.database`` (Lakebase Provisioned), not
``w.postgres`` (Lakebase Autoscaling): a synced table there is addressed by its Unity Catalog name
and a database instance name -- the notebook's own vocabulary -- and create/get/delete return the
table itself, where the postgres API needs project/branch resource names and long-running
operation polling for the same result. Its status carries the same detailed states and pipeline
id as legacy online tables, which keeps adoption of a legacy table and its migration simple.
Databricks cannot update a synced table (the update API is unimplemented): a changed spec is
refused at admission, or replaced with ``updatePolicy: Recreate``.

The legacy online-tables API is retired: it is read (and deleted through) only when the object
asks for adoption (annotation ``lakeserve.dev/adopt: "true"``) or adopted a legacy table before,
and then any answer a retired API gives means "no legacy table" (see ``legacy.py``).
"""

from __future__ import annotations

from typing import Any

from databricks.sdk.errors import BadRequest, DatabricksError, NotFound
from databricks.sdk.service.catalog import OnlineTable
from databricks.sdk.service.database import (
    NewPipelineSpec,
    SyncedDatabaseTable,
    SyncedTableSchedulingPolicy,
    SyncedTableSpec,
)

from lakeserve.api.common import UpdatePolicy
from lakeserve.api.onlinetable import (
    SYNC_REQUESTED_ANNOTATION,
    OnlineTableSpec,
    PipelineSpec,
    SyncMode,
)
from lakeserve.databricks.errors import SpecError
from lakeserve.databricks.workspace import Workspace
from lakeserve.reconcile import reasons
from lakeserve.resources.base import DeleteState, Event, Managed, Observation, WriteResult
from lakeserve.resources.ucnames import fold
from lakeserve.resources.onlinetable import facts, legacy
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
        adopted = bool(obj.status.get("legacy"))
        if adopted:
            # One read per pass at steady state: an adopted legacy table is looked at first.
            found = self._observe_legacy(obj)
            if found.exists:
                return found
        try:
            table, raw_state = facts.read_synced_table(self._w, fold(spec.name))
        except NotFound:
            if legacy.requested(obj) and not adopted:
                return self._observe_legacy(obj)
            return self._absent(obj)
        status = table.data_synchronization_status
        self._pipeline_id = status.pipeline_id if status else None
        observation = Observation(exists=True, name=fold(spec.name),
                                  status=facts.synced_table_facts(table, raw_state))
        observation.diff = synced_spec_diff(spec, table)
        observation.updatable = not observation.diff
        self._judge(obj, health(observation.status.get("detailedState")), observation)
        return observation

    def _absent(self, obj: Managed[OnlineTableSpec]) -> Observation:
        name = obj.spec.name
        return Observation(exists=False, name=fold(name), status=facts.absent(name),
                           create_status=_create_status(obj))

    def _observe_legacy(self, obj: Managed[OnlineTableSpec]) -> Observation:
        spec = obj.spec
        table = legacy.read(self._w, fold(spec.name))
        if table is None:
            return self._absent(obj)
        self._pipeline_id = table.spec.pipeline_id if table.spec else None
        observation = Observation(exists=True, name=fold(spec.name),
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
        elif state in (Health.FAILED, Health.OFFLINE):
            observation.failed = (SYNC_FAILED, _offline(detailed, message, obj.spec))
        elif state is Health.UNKNOWN:
            observation.progress = (reasons.WAITING_FOR_DATABRICKS,
                                    f"Databricks reports the state {detailed}, which this "
                                    f"operator does not know: {message}".rstrip(": "))
        elif state is not Health.PIPELINE_FAILED:
            observation.progress = (PROVISIONING, f"{detailed}: {message}".rstrip(": "))
        if requested and state in (Health.ONLINE, Health.PIPELINE_FAILED, Health.SYNCING) and \
                observation.updatable:
            observation.diff.append(SYNC_REQUEST)

    def locate(self, obj: Managed[OnlineTableSpec]) -> Observation:
        """A synced table of the spec's name, else (only when asked for) a legacy one."""
        name = fold(obj.spec.name)
        try:
            self._w.database.get_synced_database_table(name)
            return Observation(exists=True, name=name)
        except NotFound:
            pass
        found = legacy.requested(obj) and legacy.read(self._w, name) is not None
        return Observation(exists=found, name=name)

    # ---- writes --------------------------------------------------------------------------

    def create(self, obj: Managed[OnlineTableSpec], observation: Observation) -> WriteResult:
        spec = obj.spec
        try:
            self._w.database.create_synced_database_table(synced_table(spec))
        except BadRequest as exc:
            hint = change_data_feed_hint(str(exc), spec)
            if hint:
                raise SpecError(reasons.REJECTED, f"Databricks: {exc} {hint}") from None
            raise
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
                fold(spec.name), purge_data=spec.purge_data_on_delete)
            return DeleteState.GONE
        except NotFound:
            pass
        if legacy.requested(obj):
            legacy.delete(self._w, fold(spec.name))
        return DeleteState.GONE


def synced_table(spec: OnlineTableSpec) -> SyncedDatabaseTable:
    """The create body: only what the spec sets (Databricks infers the rest, and in a registered
    database catalog refuses a logical database that differs from the catalog's)."""
    return SyncedDatabaseTable(
        name=fold(spec.name),
        database_instance_name=spec.database_instance_name,
        logical_database_name=spec.logical_database_name,
        spec=SyncedTableSpec(
            source_table_full_name=fold(spec.source_table_full_name),
            primary_key_columns=list(spec.primary_key_columns),
            timeseries_key=spec.timeseries_key,
            scheduling_policy=_SCHEDULING[SyncMode(spec.sync_mode)],
            create_database_objects_if_missing=spec.create_database_objects_if_missing,
            existing_pipeline_id=spec.pipeline.existing_pipeline_id if spec.pipeline else None,
            new_pipeline_spec=_new_pipeline(spec.pipeline),
        ),
    )


def _new_pipeline(pipeline: PipelineSpec | None) -> NewPipelineSpec | None:
    if pipeline is None or pipeline.existing_pipeline_id:
        return None
    fields = {"storage_catalog": pipeline.storage_catalog,
              "storage_schema": pipeline.storage_schema,
              "budget_policy_id": pipeline.budget_policy_id}
    return NewPipelineSpec(**fields) if any(fields.values()) else None


def synced_spec_diff(spec: OnlineTableSpec, table: SyncedDatabaseTable) -> list[str]:
    """Fields whose observed value differs; placement is compared with the effective values
    Databricks reports (it infers them in a database catalog)."""
    observed = table.spec or SyncedTableSpec()
    policy = observed.scheduling_policy.value if observed.scheduling_policy else None
    pairs: list[tuple[str, Any, Any]] = [
        ("sourceTableFullName", fold(spec.source_table_full_name),
         fold(observed.source_table_full_name)),
        ("primaryKeyColumns", list(spec.primary_key_columns), observed.primary_key_columns or []),
        ("timeseriesKey", spec.timeseries_key, observed.timeseries_key),
        ("syncMode", _SCHEDULING[SyncMode(spec.sync_mode)].value, policy),
        ("databaseInstanceName", spec.database_instance_name,
         table.effective_database_instance_name or table.database_instance_name),
    ]
    if spec.logical_database_name is not None:
        pairs.append(("logicalDatabaseName", spec.logical_database_name,
                      table.effective_logical_database_name or table.logical_database_name))
    return [name for name, want, have in pairs if have is not None and want != have]


def legacy_spec_diff(spec: OnlineTableSpec, table: OnlineTable) -> list[str]:
    observed = table.spec
    if observed is None:
        return []
    pairs = [("sourceTableFullName", fold(spec.source_table_full_name),
              fold(observed.source_table_full_name)),
             ("primaryKeyColumns", list(spec.primary_key_columns),
              observed.primary_key_columns or []),
             ("timeseriesKey", spec.timeseries_key, observed.timeseries_key)]
    return [name for name, want, have in pairs if want != have]


def _offline(detailed: str, message: str, spec: OnlineTableSpec) -> str:
    hint = change_data_feed_hint(message, spec)
    return f"the online table is offline ({detailed}): {message} {hint}".rstrip()


def change_data_feed_hint(message: str, spec: OnlineTableSpec) -> str:
    """What to do when Databricks says the source has no Change Data Feed ('' otherwise)."""
    text = message.lower().replace(" ", "")
    if "changedatafeed" not in text and "enablechangedatafeed" not in text:
        return ""
    return (f"syncMode {SyncMode(spec.sync_mode).value} reads the source table's Change Data "
            f"Feed: enable it (ALTER TABLE {spec.source_table_full_name} SET TBLPROPERTIES "
            "(delta.enableChangeDataFeed = true)) or use syncMode: Snapshot.")


def _create_status(obj: Managed[OnlineTableSpec]) -> dict:
    # The initial sync answers any sync request made so far.
    return {"syncRequestHandled": obj.annotations.get(SYNC_REQUESTED_ANNOTATION)}


def _sync_requested(obj: Managed[OnlineTableSpec]) -> bool:
    requested = obj.annotations.get(SYNC_REQUESTED_ANNOTATION)
    return bool(requested) and requested != obj.status.get("syncRequestHandled")


def _already_running(exc: DatabricksError) -> bool:
    """start_update refused because an update is active ("the request will fail", says the SDK;
    how is not documented: a conflict or an invalid state, docs/fidelity.md)."""
    text = str(exc).lower()
    return exc.error_code in ("RESOURCE_CONFLICT", "ALREADY_EXISTS", "INVALID_STATE") or \
        "already" in text and ("running" in text or "active" in text or "in progress" in text)
