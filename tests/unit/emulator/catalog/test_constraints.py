"""Primary key constraints of tables: one per table, on its columns, kept with the table."""

from __future__ import annotations

import pytest
from databricks.sdk.service.catalog import (
    ForeignKeyConstraint,
    PrimaryKeyConstraint,
    TableConstraint,
)

from lakeserve.emulator.catalog.constraints import Constraints
from lakeserve.emulator.catalog.store import DeltaCatalog
from lakeserve.emulator.errors import ApiError

TABLE = "main.default.features"


@pytest.fixture
def catalog(ctx) -> DeltaCatalog:
    catalog = DeltaCatalog(ctx.data_dir, ctx.clock)
    catalog.write(TABLE, [{"customerID": "a", "ts": 1, "tenure": 2.0}], "overwrite")
    return catalog


@pytest.fixture
def constraints(catalog) -> Constraints:
    return Constraints(catalog)


def primary_key(*columns, series=None, name="pk") -> TableConstraint:
    return TableConstraint(primary_key_constraint=PrimaryKeyConstraint(
        name=name, child_columns=list(columns), timeseries_columns=series))


def test_a_primary_key_is_kept_in_the_tables_spelling_and_survives_an_overwrite(constraints,
                                                                               catalog):
    created = constraints.create(TABLE, primary_key("CUSTOMERID", "ts", series=["TS"]))
    assert created.primary_key_constraint.child_columns == ["customerID", "ts"]
    catalog.write(TABLE, [{"customerID": "b", "ts": 2, "tenure": 3.0}], "overwrite")
    assert constraints.primary_key(TABLE).timeseries_columns == ["ts"]
    assert constraints.of_table("main.default.other") == []


REFUSED = [
    ("a column the table does not have", primary_key("id"), 400, "column(s) id do not exist"),
    ("a timeseries column outside the key", primary_key("customerID", series=["ts"]), 400,
     "ts must also be in child_columns"),
    ("no columns", primary_key(), 400, "child_columns"),
    ("a foreign key", TableConstraint(foreign_key_constraint=ForeignKeyConstraint(
        name="fk", child_columns=["customerID"], parent_table="main.default.x",
        parent_columns=["id"])), 400, "primary key constraints only"),
]


@pytest.mark.parametrize("case, constraint, status, message", REFUSED,
                         ids=[row[0] for row in REFUSED])
def test_bad_constraints_are_refused(constraints, case, constraint, status, message):
    with pytest.raises(ApiError) as caught:
        constraints.create(TABLE, constraint)
    assert caught.value.status == status and message in caught.value.message, case


def test_one_primary_key_per_table_and_delete_by_name(constraints):
    constraints.create(TABLE, primary_key("customerID"))
    with pytest.raises(ApiError) as caught:
        constraints.create(TABLE, primary_key("tenure", name="other"))
    assert caught.value.status == 409
    with pytest.raises(ApiError) as caught:
        constraints.delete(TABLE, "other")
    assert caught.value.status == 404
    constraints.delete(TABLE, "PK")
    assert constraints.primary_key(TABLE) is None


def test_a_missing_table_is_named(constraints):
    with pytest.raises(ApiError, match="Table 'main.default.nope' does not exist"):
        constraints.create("main.default.nope", primary_key("id"))
