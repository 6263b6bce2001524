"""Which workspace the e2e suite talks to, the names a run gives Databricks objects, and the
sweep that removes them.

Local mode (the default): the suite starts its own local workspace with its control API
(``/_emulator/``: call log, faults, settings, seeding). Real mode: a workspace named by
``LAKESERVE_E2E_DATABRICKS_HOST``/``_TOKEN``, or ``LAKESERVE_E2E_WORKSPACE=no-control``: the
suite's own local workspace started with ``/_emulator/`` off and treated exactly like a real one
(how CI proves the real mode runs). See docs/testing.md.
"""

from __future__ import annotations

import contextlib
import os
import uuid

from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import DatabricksError, NotFound
from databricks.sdk.service.database import DatabaseInstance

HOST_VARIABLE = "LAKESERVE_E2E_DATABRICKS_HOST"
TOKEN_VARIABLE = "LAKESERVE_E2E_DATABRICKS_TOKEN"
MODE_VARIABLE = "LAKESERVE_E2E_WORKSPACE"
NO_CONTROL = "no-control"
CATALOG_VARIABLE = "LAKESERVE_E2E_CATALOG"
SCHEMA_VARIABLE = "LAKESERVE_E2E_SCHEMA"
WAREHOUSE_VARIABLE = "LAKESERVE_E2E_WAREHOUSE_ID"
DATABASE_INSTANCE_VARIABLE = "LAKESERVE_E2E_DATABASE_INSTANCE"
DEFAULT_CATALOG = "main"
DEFAULT_SCHEMA = "lakeserve_e2e"
DEFAULT_DATABASE_INSTANCE = "lakeserve-e2e"
LOCAL_WAREHOUSE = "emulator-warehouse"  # the local workspace's one SQL warehouse
OWNER_TAG = "lakeserve-owner"  # the operator's tag on every endpoint it creates

# A real-mode run of the whole e2e directory fails when fewer tests than this passed: the
# count only grows as tests learn to run without the local workspace's control API.
REAL_MODE_FLOOR = 55


def real_host() -> tuple[str, str] | None:
    host, token = os.environ.get(HOST_VARIABLE), os.environ.get(TOKEN_VARIABLE)
    return (host, token) if host and token else None


def no_control() -> bool:
    return os.environ.get(MODE_VARIABLE, "") == NO_CONTROL


def real_mode() -> bool:
    """True when no test may use ``/_emulator/``."""
    return real_host() is not None or no_control()


class Names:
    """Names of the Databricks objects a run creates: all carry the run's prefix, so a sweep can
    tell them from everything else in a shared workspace (and two runs never collide)."""

    def __init__(self, catalog: str, schema: str, run: str | None = None,
                 database_instance: str = DEFAULT_DATABASE_INSTANCE):
        self.catalog, self.schema = catalog, schema
        self.run = run or f"lse2e{uuid.uuid4().hex[:6]}"
        self.database_instance = database_instance  # Lakebase, for synced tables

    def endpoint(self, base: str) -> str:
        """A serving endpoint's (and its Kubernetes object's) name."""
        return f"{self.run}-{base}"

    def object(self, base: str) -> str:
        """A Unity Catalog object's name inside the run's schema (function, model, table)."""
        return f"{self.run}_{base}"

    def model(self, base: str) -> str:
        return f"{self.catalog}.{self.schema}.{self.object(base)}"

    def owns(self, name: str) -> bool:
        return name.startswith(self.run)

    def owns_in_schema(self, full_name: str) -> bool:
        catalog, schema, name = (full_name.split(".") + ["", "", ""])[:3]
        return (catalog, schema) == (self.catalog, self.schema) and self.owns(name)


def names_from_environment() -> Names:
    return Names(os.environ.get(CATALOG_VARIABLE) or DEFAULT_CATALOG,
                 os.environ.get(SCHEMA_VARIABLE) or DEFAULT_SCHEMA,
                 database_instance=os.environ.get(DATABASE_INSTANCE_VARIABLE)
                 or DEFAULT_DATABASE_INSTANCE)


def ensure_schema(client: WorkspaceClient, names: Names) -> None:
    try:
        client.schemas.get(f"{names.catalog}.{names.schema}")
    except NotFound:
        client.schemas.create(name=names.schema, catalog_name=names.catalog,
                              comment="lakeserve e2e runs (objects named lse2e...)")


def ensure_database_instance(client: WorkspaceClient, names: Names) -> str:
    """The Lakebase instance synced tables go to; created (smallest capacity) when missing and
    left in place, as making one takes minutes."""
    try:
        client.database.get_database_instance(names.database_instance)
    except NotFound:
        client.database.create_database_instance(
            DatabaseInstance(name=names.database_instance, capacity="CU_1"))
    return names.database_instance


def warehouse_id(client: WorkspaceClient) -> str:
    """``LAKESERVE_E2E_WAREHOUSE_ID``, else the workspace's first SQL warehouse."""
    chosen = os.environ.get(WAREHOUSE_VARIABLE)
    if chosen:
        return chosen
    first = next(iter(client.warehouses.list()), None)
    if first is None:
        raise RuntimeError(f"the workspace has no SQL warehouse; set {WAREHOUSE_VARIABLE}")
    return first.id


def sweep(client: WorkspaceClient, names: Names) -> list[str]:
    """Delete what this run created and left behind: endpoints with the run's prefix and the
    operator's owner tag; synced tables, tables, models and functions in the run's schema with
    the run's prefix. Returns what failed."""
    failures: list[str] = []
    for kind, name, delete in _leftovers(client, names):
        try:
            delete(name)
        except NotFound:
            pass
        except DatabricksError as error:
            failures.append(f"{kind} {name}: {error}")
    return failures


def _leftovers(client: WorkspaceClient, names: Names):
    for endpoint in client.serving_endpoints.list():
        tags = {t.key for t in endpoint.tags or []}
        if names.owns(endpoint.name or "") and OWNER_TAG in tags:
            yield "endpoint", endpoint.name, client.serving_endpoints.delete
    for synced in _listed(lambda: client.database.list_synced_database_tables(
            names.database_instance)):
        if names.owns_in_schema(synced.name or ""):
            yield "synced table", synced.name, client.database.delete_synced_database_table
    for table in _listed(lambda: client.tables.list(names.catalog, names.schema)):
        if names.owns(table.name or ""):
            yield "table", table.full_name, client.tables.delete
    for model in _listed(lambda: client.registered_models.list(
            catalog_name=names.catalog, schema_name=names.schema)):
        if names.owns(model.name or ""):
            yield "model", model.full_name, client.registered_models.delete
    for function in _listed(lambda: client.functions.list(names.catalog, names.schema)):
        if names.owns(function.name or ""):
            yield "function", function.full_name, client.functions.delete


def _listed(listing) -> list:
    with contextlib.suppress(NotFound):
        return list(listing())
    return []
