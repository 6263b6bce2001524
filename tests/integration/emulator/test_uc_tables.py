"""Unity Catalog catalogs, schemas and Delta-backed tables through the real SDK."""

from __future__ import annotations

import pytest
from databricks.sdk.errors import NotFound, ResourceAlreadyExists
from databricks.sdk.service.catalog import ColumnTypeName, DataSourceFormat, TableType

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

ROWS = [{"customerID": "7590-VHVEG", "TotalCharges": 29.85, "tenure": 1},
        {"customerID": "5575-GNVDE", "TotalCharges": 1889.5, "tenure": 34}]


def test_a_table_written_through_the_control_path_is_a_uc_table(workspace, emulator):
    written = emulator.control("POST", "/_emulator/catalog/tables",
                               {"name": "main.default.features", "rows": ROWS,
                                "schema": {"tenure": "DOUBLE"}})
    assert (written["version"], written["row_count"]) == (0, 2)
    table = workspace.tables.get("main.default.features")
    assert (table.table_type, table.data_source_format) == (TableType.MANAGED,
                                                             DataSourceFormat.DELTA)
    assert table.storage_location.startswith("file://") and table.table_id
    assert [(c.name, c.type_text, c.type_name, c.position, c.nullable) for c in table.columns] == [
        ("customerID", "string", ColumnTypeName.STRING, 0, True),
        ("TotalCharges", "double", ColumnTypeName.DOUBLE, 1, True),
        ("tenure", "double", ColumnTypeName.DOUBLE, 2, True)]
    assert [t.full_name for t in workspace.tables.list("main", "default")] == \
        ["main.default.features"]


def test_missing_tables_are_not_found_with_the_table_named(workspace):
    with pytest.raises(NotFound, match=r"Table 'main.default.nope' does not exist."):
        workspace.tables.get("main.default.nope")
    with pytest.raises(NotFound, match="Schema 'main.nope' does not exist."):
        workspace.tables.get("main.nope.t")


def test_catalogs_and_schemas(workspace):
    assert [c.name for c in workspace.catalogs.list()] == ["main"]
    created = workspace.catalogs.create(name="ml", comment="features")
    assert (created.name, created.comment) == ("ml", "features")
    workspace.schemas.create(name="serving", catalog_name="ml")
    assert workspace.schemas.get("ml.serving").full_name == "ml.serving"
    assert [s.name for s in workspace.schemas.list("ml")] == ["serving"]
    with pytest.raises(ResourceAlreadyExists):
        workspace.catalogs.create(name="ml")


def test_delete_removes_the_delta_table(workspace, emulator):
    emulator.control("POST", "/_emulator/catalog/tables", {"name": "main.default.t",
                                                           "rows": ROWS})
    workspace.tables.delete("main.default.t")
    with pytest.raises(NotFound):
        workspace.tables.get("main.default.t")
