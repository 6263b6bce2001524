"""CREATE TABLE, INSERT INTO ... VALUES and DROP TABLE: a feature table made, filled and dropped
through the Statement Execution API lands in the Delta store the Unity Catalog API reads."""

from __future__ import annotations

import pytest

from lakeserve.emulator.catalog.constraints import Constraints
from lakeserve.emulator.catalog.store import DeltaCatalog
from lakeserve.emulator.functions.store import FunctionStore
from lakeserve.emulator.sql.execute import Executor
from lakeserve.emulator.sql.parser import parse_statement
from lakeserve.emulator.sql.statements import StatementService
from lakeserve.emulator.sql.tables import ColumnDef, CreateTable, InsertInto, PrimaryKey
from lakeserve.emulator.sql.warehouses import WAREHOUSE_ID, Warehouses

USER = "someone@example.com"
TABLE = "main.default.features"
CREATE = f"""CREATE TABLE {TABLE} (
  customerID STRING NOT NULL COMMENT 'the key',
  tenure DOUBLE,
  TotalCharges DOUBLE,
  CONSTRAINT features_pk PRIMARY KEY (customerID)
) USING DELTA COMMENT 'churn features'
TBLPROPERTIES ('delta.enableChangeDataFeed' = 'true')"""


@pytest.fixture
def catalog(ctx) -> DeltaCatalog:
    return DeltaCatalog(ctx.data_dir, ctx.clock)


@pytest.fixture
def run(ctx, catalog, clock):
    """``run(sql)``: submit, let it finish, return its status."""
    ctx.settings.statement_seconds = 0.2
    service = StatementService(ctx, Warehouses(lambda: USER),
                               Executor(catalog, FunctionStore(catalog, ctx.clock),
                                        Constraints(catalog)))

    def execute(statement: str) -> dict:
        statement_id, _ = service.submit({"statement": statement, "warehouse_id": WAREHOUSE_ID},
                                         USER)
        clock.advance(0.2)
        return service.response(statement_id)["status"]
    return execute


def test_create_table_parses_columns_key_and_properties():
    parsed = parse_statement(CREATE)
    assert isinstance(parsed, CreateTable)
    assert parsed.columns[0] == ColumnDef("customerID", parsed.columns[0].type, False, "the key")
    assert parsed.primary_key == PrimaryKey("features_pk", ("customerID",))
    assert parsed.properties == {"delta.enableChangeDataFeed": "true"}
    assert parsed.comment == "churn features"


def test_insert_parses_rows_of_literals():
    parsed = parse_statement("INSERT INTO t (a, b) VALUES ('x', -1.5), (NULL, 2), ('y', TRUE);")
    assert parsed == InsertInto(("t",), ("a", "b"), (("x", -1.5), (None, 2), ("y", True)))


def test_a_feature_table_made_and_filled_through_sql(run, catalog):
    assert run(CREATE) == {"state": "SUCCEEDED"}
    assert run(f"INSERT INTO {TABLE} VALUES ('c1', 1, 29.85), ('c2', 34.0, 1889.5)") == \
        {"state": "SUCCEEDED"}
    assert run(f"INSERT INTO {TABLE} (TotalCharges, customerid) VALUES (108.15, 'c3')") == \
        {"state": "SUCCEEDED"}
    rows = sorted(catalog.read_rows(TABLE), key=lambda r: r["customerID"])
    assert rows == [{"customerID": "c1", "tenure": 1.0, "TotalCharges": 29.85},
                    {"customerID": "c2", "tenure": 34.0, "TotalCharges": 1889.5},
                    {"customerID": "c3", "tenure": None, "TotalCharges": 108.15}]
    assert catalog.change_data_feed(TABLE)
    assert [(c.name, c.nullable) for c in catalog.columns(TABLE)][:2] == [
        ("customerID", False), ("tenure", True)]
    key = Constraints(catalog).primary_key(TABLE)
    assert (key.name, key.child_columns) == ("features_pk", ["customerID"])


def test_without_the_property_there_is_no_change_data_feed(run, catalog):
    run(f"CREATE TABLE {TABLE} (id STRING)")
    assert not catalog.change_data_feed(TABLE)
    assert Constraints(catalog).primary_key(TABLE) is None


def test_drop_table_removes_it_with_its_key(run, catalog):
    run(CREATE)
    assert run(f"DROP TABLE {TABLE}") == {"state": "SUCCEEDED"}
    assert not catalog.table_exists(TABLE)
    assert run(f"DROP TABLE IF EXISTS {TABLE}") == {"state": "SUCCEEDED"}
    run(f"CREATE TABLE {TABLE} (id STRING)")
    assert Constraints(catalog).primary_key(TABLE) is None, "the old key went with the table"


def test_or_replace_and_if_not_exists(run, catalog):
    run(CREATE)
    run(f"INSERT INTO {TABLE} VALUES ('c1', 1, 2)")
    assert run(f"CREATE TABLE IF NOT EXISTS {TABLE} (id STRING)") == {"state": "SUCCEEDED"}
    assert catalog.row_count(TABLE) == 1, "IF NOT EXISTS leaves the table alone"
    assert run(f"CREATE OR REPLACE TABLE {TABLE} (id STRING)") == {"state": "SUCCEEDED"}
    assert [c.name for c in catalog.columns(TABLE)] == ["id"] and catalog.row_count(TABLE) == 0


# (reason, statements run first, failing statement, error class)
FAILURES = [
    ("the table exists", [CREATE], CREATE, "TABLE_OR_VIEW_ALREADY_EXISTS"),
    ("the schema does not exist", [], "CREATE TABLE main.nowhere.t (x INT)", "SCHEMA_NOT_FOUND"),
    ("the key names no column", [], "CREATE TABLE t (x INT, PRIMARY KEY (y))",
     "UNRESOLVED_COLUMN.WITH_SUGGESTION"),
    ("no such table", [], "INSERT INTO nothing VALUES (1)", "TABLE_OR_VIEW_NOT_FOUND"),
    ("dropping no such table", [], "DROP TABLE nothing", "TABLE_OR_VIEW_NOT_FOUND"),
    ("too few values", [CREATE], f"INSERT INTO {TABLE} VALUES ('c1', 1)",
     "INSERT_COLUMN_ARITY_MISMATCH.NOT_ENOUGH_DATA_COLUMNS"),
    ("too many values", [CREATE], f"INSERT INTO {TABLE} VALUES ('c1', 1, 2, 3)",
     "INSERT_COLUMN_ARITY_MISMATCH.TOO_MANY_DATA_COLUMNS"),
    ("an unknown column", [CREATE], f"INSERT INTO {TABLE} (nope) VALUES (1)",
     "UNRESOLVED_COLUMN.WITH_SUGGESTION"),
    ("NULL into NOT NULL", [CREATE], f"INSERT INTO {TABLE} VALUES (NULL, 1, 2)",
     "DELTA_NOT_NULL_CONSTRAINT_VIOLATED"),
    ("a value of the wrong type", [CREATE], f"INSERT INTO {TABLE} VALUES ('c1', 'long', 2)",
     "DELTA_FAILED_TO_MERGE_FIELDS"),
]


@pytest.mark.parametrize("reason, before, statement, error_class", FAILURES,
                         ids=[f[0] for f in FAILURES])
def test_failures_are_a_failed_state_with_databricks_error_class(run, catalog, reason, before,
                                                                 statement, error_class):
    for earlier in before:
        assert run(earlier)["state"] == "SUCCEEDED"
    status = run(statement)
    assert status["state"] == "FAILED"
    assert status["error"]["message"].startswith(f"[{error_class}]"), status
    if catalog.table_exists(TABLE):
        assert catalog.row_count(TABLE) == 0, "a failed INSERT writes nothing"


@pytest.mark.parametrize("statement", [CREATE, "INSERT INTO t VALUES ('a', 1.5, NULL, TRUE)",
                                       "DROP TABLE IF EXISTS t"])
def test_a_parsed_table_statement_survives_a_restart(statement):
    """A statement still running when the workspace stops is kept in its state file."""
    from lakeserve.emulator.persistence import codec

    parsed = parse_statement(statement)
    assert codec.loads(codec.dumps(parsed)) == parsed
