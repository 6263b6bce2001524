"""Tables as Delta directories: write, append, read, versions, UC types."""

from __future__ import annotations

import pytest
from deltalake import write_deltalake

from lakeserve.emulator.catalog.store import DeltaCatalog
from lakeserve.emulator.sql.parser import parse_type
from lakeserve.emulator.errors import ApiError

TABLE = "main.default.features"


@pytest.fixture
def catalog(ctx) -> DeltaCatalog:
    return DeltaCatalog(ctx.data_dir, ctx.clock)


def test_main_default_exists_from_the_start(catalog):
    assert catalog.schema_exists("main", "default")
    assert [c.name for c in catalog.catalogs()] == ["main"]


def test_write_creates_directories_and_append_moves_the_version(catalog, ctx):
    assert catalog.write("Demo.Sales.Orders", [{"id": 1}], "overwrite") == 0
    assert (ctx.data_dir / "catalog" / "demo" / "sales" / "orders" / "_delta_log").is_dir()
    assert catalog.append("demo.sales.orders", [{"id": 2}]) == 1
    assert catalog.version("demo.sales.orders") == 1
    assert sorted(r["id"] for r in catalog.read_rows("demo.sales.orders")) == [1, 2]
    assert [r["id"] for r in catalog.read_rows("demo.sales.orders", version=0)] == [1]
    assert catalog.row_count("demo.sales.orders") == 2


def test_append_casts_to_the_table_schema_and_refuses_unknown_columns(catalog):
    catalog.write(TABLE, [{"id": "a", "tenure": 1.5}], "overwrite")
    catalog.append(TABLE, [{"id": "b", "tenure": 2}])
    assert [type(r["tenure"]) for r in catalog.read_rows(TABLE)] == [float, float]
    with pytest.raises(ApiError, match="Column.*bogus.*do not exist"):
        catalog.append(TABLE, [{"id": "c", "bogus": 1}])


def test_declared_types_and_column_order(catalog):
    catalog.write(TABLE, [{"customerID": "a", "tenure": 1, "n": 1}], "overwrite",
                  {"tenure": parse_type("DOUBLE")})
    columns = catalog.columns(TABLE)
    assert [(c.name, c.type.text, c.type.type_name.value, c.position) for c in columns] == \
        [("customerID", "string", "STRING", 0), ("tenure", "double", "DOUBLE", 1),
         ("n", "bigint", "LONG", 2)]


def test_a_table_written_straight_into_the_layout_is_seen(catalog, ctx):
    import pyarrow as pa

    path = ctx.data_dir / "catalog" / "ext" / "raw" / "events"
    write_deltalake(str(path), pa.table({"x": [1, 2]}))
    assert catalog.table_exists("ext.raw.events")
    assert [s.name for s in catalog.schemas("ext")] == ["raw"]
    assert [t.full for t in catalog.tables("ext", "raw")] == ["ext.raw.events"]


@pytest.mark.parametrize("name, code, message", [
    ("main.default.nope", "TABLE_DOES_NOT_EXIST", "Table 'main.default.nope' does not exist."),
    ("main.nope.t", "SCHEMA_DOES_NOT_EXIST", "Schema 'main.nope' does not exist."),
    ("nope.s.t", "CATALOG_DOES_NOT_EXIST", "Catalog 'nope' does not exist."),
])
def test_missing_tables_name_the_first_missing_level(catalog, name, code, message):
    with pytest.raises(ApiError) as failure:
        catalog.require_table(name)
    assert (failure.value.status, failure.value.error_code, failure.value.message) == \
        (404, code, message)


def test_catalogs_and_schemas_created_through_the_api(catalog):
    created = catalog.create_catalog("ml", "features", "me")
    assert (created.comment, created.owner) == ("features", "me")
    catalog.create_schema("ml", "serving", None, "me")
    assert [s.name for s in catalog.schemas("ml")] == ["serving"]
    with pytest.raises(ApiError) as again:
        catalog.create_catalog("ML", None, "me")
    assert again.value.status == 409


def test_wipe_leaves_an_empty_main_default(catalog):
    catalog.write(TABLE, [{"id": 1}], "overwrite")
    catalog.wipe()
    assert not catalog.table_exists(TABLE) and catalog.schema_exists("main", "default")
