"""OnlineTable: an online copy of a Delta feature table, looked up by primary key at serving time.

The spec keeps the notebook's vocabulary (name, sourceTableFullName, primaryKeyColumns,
timeseriesKey, a sync mode) and says where the copy lives: a Lakebase database instance and its
Postgres database. It is implemented as a Lakebase synced table (legacy online tables can no
longer be created); an existing legacy online table of the same name is adopted and reported.
"""

from __future__ import annotations

from enum import Enum

from pydantic import Field

from lakeserve.api.common import (
    DELETION_POLICY_DESCRIPTION,
    MANAGEMENT_POLICY_DESCRIPTION,
    UC_THREE_LEVEL_HINT,
    UC_THREE_LEVEL_PATTERN,
    UPDATE_POLICY_DESCRIPTION,
    CamelModel,
    DeletionPolicy,
    ManagementPolicy,
    StatusBase,
    UpdatePolicy,
    cel,
    validations,
)
from lakeserve.api.crd import KindInfo, ready_columns
from lakeserve.api.workspace import WORKSPACE_REF_DESCRIPTION, WorkspaceReference, workspace_ref_rule

KIND = "OnlineTable"
PLURAL = "onlinetables"
SINGULAR = "onlinetable"
SHORT_NAMES = ["ot", "olt"]

SYNC_REQUESTED_ANNOTATION = "lakeserve.dev/sync-requested-at"
COLUMN_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"

# Databricks cannot change a synced table in place (its update API is unimplemented): every field
# that shapes the table is fixed unless the object opts into being replaced.
_RECREATE_ONLY = ("sourceTableFullName", "primaryKeyColumns", "timeseriesKey", "syncMode",
                  "databaseInstanceName", "logicalDatabaseName", "pipeline")


def _unchanged(field: str) -> str:
    return (f"(has(self.{field}) == has(oldSelf.{field}) && "
            f"(!has(self.{field}) || self.{field} == oldSelf.{field}))")


class SyncMode(str, Enum):
    SNAPSHOT = "Snapshot"
    TRIGGERED = "Triggered"
    CONTINUOUS = "Continuous"


class PipelineSpec(CamelModel):
    """Where the sync pipeline keeps its state: a new pipeline, or bin-packed into an existing one.

    When name is in a registered database (managed Postgres) catalog, a new pipeline needs
    storageCatalog and storageSchema: a standard catalog and schema for its checkpoints."""

    existing_pipeline_id: str | None = Field(
        default=None, max_length=128,
        description="Run the sync in this existing pipeline (same sync mode required).")
    storage_catalog: str | None = Field(
        default=None, max_length=255,
        description="Standard catalog for a new pipeline's checkpoints and event logs; required "
                    "when name is in a registered database catalog.")
    storage_schema: str | None = Field(
        default=None, max_length=255,
        description="Schema in storageCatalog for a new pipeline's state; required when name is "
                    "in a registered database catalog.")
    budget_policy_id: str | None = Field(
        default=None, max_length=255, description="Budget policy of a new pipeline.")


class OnlineTableSpec(CamelModel):
    """Desired online copy of a Delta table."""

    model_config = CamelModel.model_config | {
        "json_schema_extra": validations(
            cel("self.name == oldSelf.name",
                "name is the online table's identity in Unity Catalog and cannot change; create a "
                "new OnlineTable instead", reason="FieldValueForbidden", field_path=".name"),
            cel("(has(self.updatePolicy) && self.updatePolicy == 'Recreate') || ("
                + " && ".join(_unchanged(f) for f in _RECREATE_ONLY) + ")",
                "Databricks cannot change a synced table in place: sourceTableFullName, "
                "primaryKeyColumns, timeseriesKey, syncMode, databaseInstanceName, "
                "logicalDatabaseName and pipeline are fixed; set updatePolicy: Recreate to have "
                "the table dropped and synced again", reason="FieldValueForbidden"),
            cel("!has(self.timeseriesKey) || !self.primaryKeyColumns.exists(c, c == self.timeseriesKey)",
                "timeseriesKey must not be one of the primaryKeyColumns",
                reason="FieldValueInvalid", field_path=".timeseriesKey"),
            cel("self.name != self.sourceTableFullName",
                "name must differ from sourceTableFullName: the online copy is a new table",
                reason="FieldValueInvalid", field_path=".name"),
            workspace_ref_rule(),
        )
    }

    name: str = Field(
        max_length=255,
        description=f"The online table, {UC_THREE_LEVEL_HINT} (e.g. main.ml.features_online).",
        json_schema_extra=validations(cel(f"self.matches('{UC_THREE_LEVEL_PATTERN}')",
                                          f"name must be {UC_THREE_LEVEL_HINT}",
                                          reason="FieldValueInvalid")))
    source_table_full_name: str = Field(
        max_length=255,
        description=f"The Delta table to copy, {UC_THREE_LEVEL_HINT}.",
        json_schema_extra=validations(cel(f"self.matches('{UC_THREE_LEVEL_PATTERN}')",
                                          f"sourceTableFullName must be {UC_THREE_LEVEL_HINT}",
                                          reason="FieldValueInvalid")))
    primary_key_columns: list[str] = Field(
        min_length=1, max_length=16,
        description="Columns of the source table that identify a row; lookups use them.",
        json_schema_extra={"x-kubernetes-list-type": "set",
                           "items": {"type": "string", "maxLength": 255,
                                     "pattern": COLUMN_PATTERN}})
    timeseries_key: str | None = Field(
        default=None, max_length=255, pattern=COLUMN_PATTERN,
        description="When set, only the row with the latest value of this column is kept per key.")
    sync_mode: SyncMode = Field(
        default=SyncMode.TRIGGERED,
        description="Snapshot copies the whole table on each sync; Triggered applies changes when "
                    "a sync is requested (annotation lakeserve.dev/sync-requested-at); Continuous "
                    "streams changes. Triggered and Continuous read the source table's Change "
                    "Data Feed (delta.enableChangeDataFeed = true).")
    database_instance_name: str = Field(
        max_length=255, min_length=1,
        description="The Lakebase database instance that holds the online copy.")
    logical_database_name: str | None = Field(
        default=None, max_length=255,
        description="Postgres database inside the instance, e.g. databricks_postgres. Required "
                    "when name is in a standard Unity Catalog catalog; in a registered database "
                    "catalog it is inferred from the catalog (and must match it when set).")
    create_database_objects_if_missing: bool = Field(
        default=True, description="Create the Postgres schema/database when missing.")
    pipeline: PipelineSpec | None = Field(
        default=None, description="Pipeline settings; when unset, Databricks creates a new "
                                  "pipeline and chooses where it keeps its state.")
    purge_data_on_delete: bool = Field(
        default=True,
        description="Drop the Postgres table too when the online table is deleted.")
    deletion_policy: DeletionPolicy = Field(
        default=DeletionPolicy.DELETE, description=DELETION_POLICY_DESCRIPTION)
    management_policy: ManagementPolicy = Field(
        default=ManagementPolicy.FULL, description=MANAGEMENT_POLICY_DESCRIPTION)
    update_policy: UpdatePolicy = Field(
        default=UpdatePolicy.UPDATE, description=UPDATE_POLICY_DESCRIPTION)
    workspace_ref: WorkspaceReference | None = Field(
        default=None, description=WORKSPACE_REF_DESCRIPTION)


class OnlineTableStatus(StatusBase):
    """Observed state of the online copy."""

    table_name: str | None = Field(default=None, description="Full name of the online table.")
    legacy: bool | None = Field(
        default=None, description="True when this is an adopted legacy online table "
                                  "(set updatePolicy: Recreate to migrate it to a synced table).")
    detailed_state: str | None = Field(
        default=None, description="Databricks' detailed sync state, e.g. SYNCED_TABLE_ONLINE.")
    provisioning_state: str | None = Field(
        default=None, description="Unity Catalog provisioning state of the table entity.")
    message: str | None = Field(default=None, description="Databricks' sync message.")
    pipeline_id: str | None = Field(default=None, description="The sync pipeline.")
    last_sync: str | None = Field(
        default=None, description="When the last successful sync ended.")
    synced_row_count: int | None = Field(default=None, description="Rows copied so far.")
    sync_request_handled: str | None = Field(
        default=None,
        description="The last lakeserve.dev/sync-requested-at value a sync was started for.")
    sync_update_id: str | None = Field(
        default=None, description="Pipeline update started for that request.")


INFO = KindInfo(
    kind=KIND,
    plural=PLURAL,
    singular=SINGULAR,
    short_names=SHORT_NAMES,
    spec_model=OnlineTableSpec,
    status_model=OnlineTableStatus,
    description="An online copy of a Delta table (a Lakebase synced table), looked up by primary "
                "key when a model with feature lookups is served.",
    printer_columns=ready_columns(
        {"name": "State", "type": "string", "jsonPath": ".status.detailedState",
         "description": "Detailed sync state."},
        {"name": "Rows", "type": "integer", "jsonPath": ".status.syncedRowCount",
         "priority": 1, "description": "Rows synced."},
        {"name": "Source", "type": "string", "jsonPath": ".spec.sourceTableFullName",
         "priority": 1, "description": "Source Delta table."},
    ),
)
