"""Synced tables (``w.database`` ``*_synced_database_table``): request-time validation as
Databricks does it, then the engine syncs.

Create answers the table at once (PROVISIONING_PIPELINE_RESOURCES). Refused at request time: a
name that is not three-level or is taken (409), a missing target schema, database instance,
source table or existing pipeline (404), key columns the source does not have (400, naming the
column and listing the table's columns), a missing scheduling policy, and ``existing_pipeline_id``
together with ``new_pipeline_spec`` (400; at most one of them, neither is fine in a standard
catalog). The Postgres side of a table lives in the online store under (instance, logical
database, schema, table).

Placement follows the Terraform provider's docs of ``database_synced_database_table``: in a
standard catalog ``database_instance_name`` and ``logical_database_name`` are required; in a
registered database catalog both are inferred from the catalog and, when given, must match, and a
new pipeline needs ``new_pipeline_spec.storage_catalog``/``storage_schema``. TRIGGERED and
CONTINUOUS read the source's Change Data Feed; whether a source without it is refused at create or
fails its first sync is the ``change_data_feed_missing`` setting.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from databricks.sdk.service.database import SyncedDatabaseTable, SyncedTableSpec
from databricks.sdk.service.pipelines import UpdateInfoCause

from lakeserve.emulator.catalog.names import ObjectName, SchemaName, identifier, parse_object_name
from lakeserve.emulator.catalog.paging import page
from lakeserve.emulator.catalog.store import DeltaCatalog
from lakeserve.emulator.errors import already_exists, invalid, not_found
from lakeserve.emulator.lakebase import render
from lakeserve.emulator.lakebase.engine import SyncEngine, new_pipeline_id
from lakeserve.emulator.lakebase.instances import InstanceService
from lakeserve.emulator.lakebase.model import OnlineTable, Pipeline, Policy
from lakeserve.emulator.wire import parse


class SyncedTables:
    def __init__(self, engine: SyncEngine, instances: InstanceService, catalog: DeltaCatalog,
                 cdf_missing: Callable[[], str] = lambda: "refuse_create"):
        """``cdf_missing`` is the ``change_data_feed_missing`` setting, read per request."""
        self._engine = engine
        self._instances = instances
        self._catalog = catalog
        self._cdf_missing = cdf_missing

    def create(self, body: dict[str, Any], principal: str) -> dict[str, Any]:
        request = parse(body, SyncedDatabaseTable)
        raw_spec = body.get("spec") if isinstance(body.get("spec"), dict) else {}
        name = parse_object_name(request.name or "", "name")
        spec = _spec(request, raw_spec)
        source = parse_object_name(spec.source_table_full_name, "spec.source_table_full_name")
        registered = self._instances.catalog_placement(name.catalog)
        instance, database = _placement(request, registered)
        with self._engine.lock:
            self._refuse_taken(name)
            if registered is None:  # a database catalog's schemas are Postgres schemas
                self._catalog.require_schema(name.schema_name)
            if not self._instances.exists(instance):
                raise not_found(f"Database instance '{instance}' does not exist.")
            self._check_source(source, spec)
            fails_sync = self._check_change_data_feed(source, spec)
            pipeline = self._pipeline(name, spec, principal, registered is not None)
            request.name, spec.source_table_full_name = name.full, source.full
            request.spec = spec
            table = OnlineTable(
                name=name.full, legacy=False, source=source.full,
                primary_keys=list(spec.primary_key_columns), timeseries_key=spec.timeseries_key,
                policy=spec.scheduling_policy, pipeline_id=pipeline.pipeline_id,
                creator=principal, created_at=self._engine.now(),
                store_key=(instance, database, name.schema, name.name), request=request)
            if fails_sync:
                self._engine.failures[name.full] = fails_sync
            self._engine.add(table, pipeline, UpdateInfoCause.API_CALL)
            return render.synced_table(table, self._engine.view(table)).as_dict()

    def get(self, name: str) -> dict[str, Any]:
        full = parse_object_name(name, "name").full
        with self._engine.lock:
            table = self._engine.table(full)
            if table is None or table.legacy:
                raise _missing(full)
            return render.synced_table_json(table, self._engine.view(table))

    def list(self, instance: str, page_size: int | None,
             token: str | None) -> tuple[list[dict[str, Any]], str | None]:
        if not self._instances.exists(instance):
            raise not_found(f"Database instance '{instance}' does not exist.")
        with self._engine.lock:
            names = sorted(n for n, t in self._engine.tables.items()
                           if not t.legacy and t.store_key[0] == instance)
            items, next_token = page(names, page_size, token)
            return [self.get(n) for n in items], next_token

    def delete(self, name: str, purge_data: bool) -> None:
        full = parse_object_name(name, "name").full
        with self._engine.lock:
            table = self._engine.tables.get(full)
            if table is None or table.legacy:
                raise _missing(full)
            self._engine.remove(full, purge_data)

    # ---- validation --------------------------------------------------------------------

    def _refuse_taken(self, name: ObjectName) -> None:
        if name.full in self._engine.tables or self._catalog.table_exists(name):
            raise already_exists(f"Table '{name.full}' already exists.")

    def _check_source(self, source: ObjectName, spec: SyncedTableSpec) -> None:
        self._catalog.require_table(source)
        columns = [c.name for c in self._catalog.columns(source)]
        for column in [*spec.primary_key_columns, spec.timeseries_key]:
            if column and column not in columns:
                raise invalid(f"Column '{column}' does not exist in the source table "
                              f"'{source.full}'. Available columns: {', '.join(columns)}.")

    def _check_change_data_feed(self, source: ObjectName, spec: SyncedTableSpec) -> str | None:
        """Refuse (or return the failure of the first sync) when the policy reads a Change
        Data Feed the source does not have."""
        if spec.scheduling_policy is Policy.SNAPSHOT or self._catalog.change_data_feed(source):
            return None
        message = (f"Change Data Feed is not enabled on the source table '{source.full}', and "
                   f"the {spec.scheduling_policy.value} scheduling policy reads it. Enable it "
                   f"with ALTER TABLE {source.full} SET TBLPROPERTIES "
                   "(delta.enableChangeDataFeed = true), or use the SNAPSHOT policy.")
        if self._cdf_missing() == "refuse_create":
            raise invalid(message)
        return message

    def _pipeline(self, name: ObjectName, spec: SyncedTableSpec, principal: str,
                  registered: bool) -> Pipeline:
        if spec.existing_pipeline_id:
            pipeline = self._engine.pipelines.get(spec.existing_pipeline_id)
            if pipeline is None:
                raise not_found(f"Pipeline '{spec.existing_pipeline_id}' does not exist.")
            if pipeline.policy is not spec.scheduling_policy:
                raise invalid(f"Pipeline '{pipeline.pipeline_id}' syncs with scheduling policy "
                              f"{pipeline.policy.value}; a table added to it must use the same "
                              f"policy, not {spec.scheduling_policy.value}.")
            return pipeline
        new = spec.new_pipeline_spec
        storage_catalog = new.storage_catalog if new else None
        storage_schema = new.storage_schema if new else None
        if registered and not (storage_catalog and storage_schema):
            raise invalid("spec.new_pipeline_spec.storage_catalog and storage_schema are "
                          "required for a synced table in a database catalog: the pipeline "
                          "keeps its state in a standard catalog.")
        if storage_catalog and storage_schema:
            self._catalog.require_schema(SchemaName(identifier(storage_catalog, "storage_catalog"),
                                                    identifier(storage_schema, "storage_schema")))
        elif storage_catalog:
            self._catalog.catalog(storage_catalog)  # 404 when missing
        return Pipeline(pipeline_id=new_pipeline_id(), name=f"Synced table sync for {name.full}",
                        policy=spec.scheduling_policy, creator=principal,
                        created_at=self._engine.now(), storage_catalog=storage_catalog,
                        storage_schema=storage_schema,
                        budget_policy_id=new.budget_policy_id if new else None)


def _spec(request: SyncedDatabaseTable, raw_spec: dict[str, Any]) -> SyncedTableSpec:
    spec = request.spec
    if spec is None:
        raise invalid("Missing required field: spec")
    if not spec.source_table_full_name:
        raise invalid("Missing required field: spec.source_table_full_name")
    if not spec.primary_key_columns:
        raise invalid("Missing required field: spec.primary_key_columns")
    if spec.scheduling_policy is None:
        raise invalid("Missing required field: spec.scheduling_policy")
    has_new = "new_pipeline_spec" in raw_spec and raw_spec["new_pipeline_spec"] is not None
    if spec.existing_pipeline_id and has_new:
        raise invalid("At most one of spec.existing_pipeline_id and spec.new_pipeline_spec may "
                      "be set.")
    return spec


def _placement(request: SyncedDatabaseTable,
               registered: tuple[str, str] | None) -> tuple[str, str]:
    if registered is not None:
        return _registered_placement(request, *registered)
    if not request.database_instance_name:
        raise invalid("Missing required field: database_instance_name (required for a synced "
                      "table in a standard catalog)")
    if not request.logical_database_name:
        raise invalid("Missing required field: logical_database_name (required for a synced "
                      "table in a standard catalog)")
    return request.database_instance_name, request.logical_database_name


def _registered_placement(request: SyncedDatabaseTable, instance: str,
                          database: str) -> tuple[str, str]:
    """A database catalog's instance and database; given values must match them."""
    for field, given, actual in (("database_instance_name", request.database_instance_name,
                                  instance),
                                 ("logical_database_name", request.logical_database_name,
                                  database)):
        if given and given != actual:
            raise invalid(f"{field} '{given}' does not match the database catalog, which is "
                          f"'{actual}'; leave it out to use the catalog's.")
    return instance, database


def _missing(name: str) -> Exception:
    return not_found(f"Synced table '{name}' does not exist.")
