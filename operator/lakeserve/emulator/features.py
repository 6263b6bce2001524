"""Wiring of the feature side: Unity Catalog tables and functions, SQL warehouses and
statements, Lakebase instances, synced tables, pipelines and legacy online tables.

What other areas use in-process (on ``app.state``):

- ``catalog``: :class:`~lakeserve.emulator.catalog.store.DeltaCatalog` -- ``read_table``,
  ``read_rows``, ``version``, ``append``, ``table_path``;
- ``online_tables``: :class:`~lakeserve.emulator.lakebase.engine.SyncEngine` -- ``lookup``,
  ``find_online_table``, ``online_tables_for_source``;
- ``functions``: :class:`~lakeserve.emulator.functions.store.FunctionStore` -- ``call``,
  ``callable``, ``get``;
- ``feature_specs``: :class:`~lakeserve.emulator.functions.feature_specs.FeatureSpecs` --
  ``exists``, ``plan`` (what a feature serving endpoint computes).

Under ``--data-dir`` all of it survives a restart (see ``persistence``).
``POST /_emulator/reset`` clears instances, synced/legacy tables, pipelines, the online store,
functions (feature specs included) and statements; with ``{"catalog": true}`` it also deletes every Delta table (``main.
default`` comes back empty).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from lakeserve.emulator.catalog.constraints import Constraints
from lakeserve.emulator.catalog.control import build_control_router as catalog_control
from lakeserve.emulator.catalog.routes import build_router as catalog_routes
from lakeserve.emulator.catalog.store import DeltaCatalog
from lakeserve.emulator.context import EmulatorContext
from lakeserve.emulator.functions.control import build_control_router as function_control
from lakeserve.emulator.functions.feature_routes import build_router as feature_spec_routes
from lakeserve.emulator.functions.feature_specs import FeatureSpecs
from lakeserve.emulator.functions.routes import build_router as function_routes
from lakeserve.emulator.functions.store import FunctionStore
from lakeserve.emulator.lakebase.control import build_control_router as lakebase_control
from lakeserve.emulator.lakebase.engine import SyncEngine
from lakeserve.emulator.lakebase.instances import InstanceService
from lakeserve.emulator.lakebase.legacy import LegacyOnlineTables
from lakeserve.emulator.lakebase.onlinestore import OnlineStore
from lakeserve.emulator.lakebase.routes import build_router as lakebase_routes
from lakeserve.emulator.lakebase.synced import SyncedTables
from lakeserve.emulator.sql.execute import Executor
from lakeserve.emulator.sql.routes import build_router as sql_routes
from lakeserve.emulator.sql.statements import StatementService
from lakeserve.emulator.sql.warehouses import Warehouses


def add_feature_side(app: FastAPI, ctx: EmulatorContext) -> None:
    def user() -> str:
        return ctx.settings.user_name

    catalog = DeltaCatalog(ctx.data_dir, ctx.clock)
    constraints = Constraints(catalog)
    functions = FunctionStore(catalog, ctx.clock)
    warehouses = Warehouses(user)
    statements = StatementService(ctx, warehouses, Executor(catalog, functions, constraints))
    functions.add_settler(statements.settle_all)
    feature_specs = FeatureSpecs(functions, catalog, constraints,
                                 lambda: ctx.settings.feature_spec_echo)
    instances = InstanceService(ctx)
    engine = SyncEngine(ctx, catalog, OnlineStore())
    synced = SyncedTables(engine, instances, catalog,
                          lambda: ctx.settings.change_data_feed_missing)
    legacy = LegacyOnlineTables(engine, catalog, lambda: ctx.settings.legacy_online_tables)

    app.state.catalog = catalog
    app.state.constraints = constraints
    app.state.functions = functions
    app.state.feature_specs = feature_specs
    app.state.statements = statements
    app.state.database_instances = instances
    app.state.online_tables = engine

    app.include_router(catalog_routes(catalog, constraints, user))
    app.include_router(catalog_control(catalog))
    app.include_router(function_routes(functions, user))
    app.include_router(function_control(functions))
    app.include_router(feature_spec_routes(feature_specs, user))
    app.include_router(sql_routes(warehouses, statements, user))
    app.include_router(lakebase_routes(instances, synced, legacy, engine, user))
    app.include_router(lakebase_control(engine, legacy, user))

    def reset(options: dict[str, Any]) -> None:
        statements.reset()
        functions.reset()
        engine.reset()
        instances.reset()
        if options.get("catalog"):
            catalog.wipe()

    ctx.on_reset(reset)
    _persist(ctx, instances, engine, functions, statements)


def _persist(ctx: EmulatorContext, instances: InstanceService, engine: SyncEngine,
             functions: FunctionStore, statements: StatementService) -> None:
    """The feature side's state under --data-dir (the catalog's tables are on disk already)."""
    persistence = ctx.persistence
    persistence.register("database_instances", instances)
    persistence.register("database_catalogs", instances.catalog_area())
    persistence.register("online_tables", engine)  # synced and legacy, pipelines, runs
    persistence.register("online_store", engine.store, revision=lambda: engine.store.generation)
    persistence.register("functions", functions)
    persistence.register("sql_statements", statements)
