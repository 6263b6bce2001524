"""A feature-side stack on a manual clock: catalog on a temp dir, an instance, the sync engine."""

from __future__ import annotations

import pytest

from lakeserve.emulator.catalog.store import DeltaCatalog
from lakeserve.emulator.lakebase.engine import SyncEngine
from lakeserve.emulator.lakebase.instances import InstanceService
from lakeserve.emulator.lakebase.legacy import LegacyOnlineTables
from lakeserve.emulator.lakebase.onlinestore import OnlineStore
from lakeserve.emulator.lakebase.synced import SyncedTables

USER = "someone@example.com"
SOURCE = "main.default.features"
ONLINE = "main.default.features_online"
INSTANCE = "inst"


@pytest.fixture
def catalog(ctx) -> DeltaCatalog:
    ctx.settings.update({"database_instance_seconds": 1, "synced_table_provision_seconds": 2,
                         "synced_table_snapshot_seconds": 3, "pipeline_update_seconds": 4})
    catalog = DeltaCatalog(ctx.data_dir, ctx.clock)
    catalog.write(SOURCE, [{"customerID": "a", "tenure": 1.0, "ts": 1},
                           {"customerID": "b", "tenure": 2.0, "ts": 1}], "overwrite",
                  properties={"delta.enableChangeDataFeed": "true"})
    return catalog


@pytest.fixture
def instances(ctx) -> InstanceService:
    return InstanceService(ctx)


@pytest.fixture
def engine(ctx, catalog) -> SyncEngine:
    return SyncEngine(ctx, catalog, OnlineStore())


@pytest.fixture
def synced(ctx, engine, instances, catalog) -> SyncedTables:
    instances.create({"name": INSTANCE, "capacity": "CU_1"}, USER)
    return SyncedTables(engine, instances, catalog, lambda: ctx.settings.change_data_feed_missing)


@pytest.fixture
def legacy(engine, catalog) -> LegacyOnlineTables:
    return LegacyOnlineTables(engine, catalog)


def synced_body(policy: str = "TRIGGERED", name: str = ONLINE, **spec) -> dict:
    return {"name": name, "database_instance_name": INSTANCE,
            "logical_database_name": "databricks_postgres",
            "spec": {"source_table_full_name": SOURCE, "primary_key_columns": ["customerID"],
                     "scheduling_policy": policy, "new_pipeline_spec": {}, **spec}}
