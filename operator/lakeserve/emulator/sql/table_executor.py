"""Running table statements against the Delta store, with Databricks' error classes.

``CREATE TABLE`` writes an empty Delta table with the declared columns (``NOT NULL`` kept in the
schema), its ``TBLPROPERTIES`` (so ``delta.enableChangeDataFeed`` is a table property as in
Databricks) and its primary key as the table's constraint. ``OR REPLACE`` replaces data, schema
and key. ``INSERT INTO ... VALUES`` appends rows, checking column count, names and NOT NULL;
``DROP TABLE`` deletes the table with its constraint.
"""

from __future__ import annotations

import pyarrow as pa
from databricks.sdk.service.catalog import PrimaryKeyConstraint, TableConstraint

from lakeserve.emulator.catalog.constraints import Constraints
from lakeserve.emulator.catalog.names import ObjectName, quoted
from lakeserve.emulator.catalog.store import DeltaCatalog
from lakeserve.emulator.errors import ApiError
from lakeserve.emulator.sql.errors import SqlError
from lakeserve.emulator.sql.tables import CreateTable, DropTable, InsertInto, TableStatement


class TableExecutor:
    def __init__(self, catalog: DeltaCatalog, constraints: Constraints):
        self._catalog = catalog
        self._constraints = constraints

    def run(self, statement: TableStatement, name: ObjectName) -> None:
        if isinstance(statement, CreateTable):
            self._create(statement, name)
        elif isinstance(statement, InsertInto):
            self._insert(statement, name)
        else:
            self._drop(statement, name)

    def _create(self, statement: CreateTable, name: ObjectName) -> None:
        if self._catalog.table_exists(name):
            if statement.if_not_exists:
                return
            if not statement.or_replace:
                raise _already_exists(name)
            self._catalog.delete_table(name)
        known = {c.name.lower(): c.name for c in statement.columns}
        key = _key_columns(statement, known)
        schema = pa.schema([pa.field(c.name, c.type.arrow(), c.nullable)
                            for c in statement.columns])
        self._write(name, schema.empty_table(), "overwrite", statement.properties)
        if key:
            constraint = PrimaryKeyConstraint(name=statement.primary_key.name or
                                              f"{name.name}_pk", child_columns=key)
            self._constraints.create(name.full, TableConstraint(primary_key_constraint=constraint))

    def _insert(self, statement: InsertInto, name: ObjectName) -> None:
        if not self._catalog.table_exists(name):
            raise _not_found(name)
        columns = self._catalog.columns(name)
        known = {c.name.lower(): c.name for c in columns}
        targets = [_resolve(c, known) for c in statement.columns] if statement.columns \
            else [c.name for c in columns]
        rows = [_row(name, targets, values) for values in statement.rows]
        for column in (c for c in columns if not c.nullable):
            if any(row.get(column.name) is None for row in rows):
                raise SqlError("DELTA_NOT_NULL_CONSTRAINT_VIOLATED",
                               f"NOT NULL constraint violated for column: {column.name}.",
                               "23502")
        self._write(name, rows, "append")

    def _drop(self, statement: DropTable, name: ObjectName) -> None:
        if self._catalog.table_exists(name):
            self._catalog.delete_table(name)
        elif not statement.if_exists:
            raise _not_found(name)

    def _write(self, name: ObjectName, data, mode: str,
               properties: dict[str, str] | None = None) -> None:
        try:
            self._catalog.write(name, data, mode, properties=properties or None)
        except ApiError as exc:
            raise SqlError("DELTA_FAILED_TO_MERGE_FIELDS",
                           f"Cannot write to {quoted(name)}: {exc.message}", "22005") from None


def _key_columns(statement: CreateTable, known: dict[str, str]) -> list[str]:
    if statement.primary_key is None:
        return []
    return [_resolve(column, known) for column in statement.primary_key.columns]


def _resolve(column: str, known: dict[str, str]) -> str:
    """The table's spelling of ``column`` (names compare case-insensitively)."""
    if column.lower() not in known:
        raise SqlError("UNRESOLVED_COLUMN.WITH_SUGGESTION",
                       f"A column, variable, or function parameter with name `{column}` cannot "
                       f"be resolved. Did you mean one of the following? "
                       f"[{', '.join(f'`{c}`' for c in known.values())}].", "42703")
    return known[column.lower()]


def _row(name: ObjectName, targets: list[str], values: tuple) -> dict:
    if len(values) != len(targets):
        reason = "not enough" if len(values) < len(targets) else "too many"
        raise SqlError(f"INSERT_COLUMN_ARITY_MISMATCH.{reason.upper().replace(' ', '_')}"
                       "_DATA_COLUMNS",
                       f"Cannot write to {quoted(name)}, the reason is {reason} data columns: "
                       f"Table columns: {', '.join(f'`{t}`' for t in targets)}. Data columns: "
                       f"{len(values)} value(s).", "21S01")
    return dict(zip(targets, values))


def _already_exists(name: ObjectName) -> SqlError:
    return SqlError("TABLE_OR_VIEW_ALREADY_EXISTS",
                    f"Cannot create table or view {quoted(name)} because it already exists. "
                    "Choose a different name, drop or replace the existing object, or add the "
                    "IF NOT EXISTS clause to tolerate pre-existing objects.", "42P07")


def _not_found(name: ObjectName) -> SqlError:
    return SqlError("TABLE_OR_VIEW_NOT_FOUND",
                    f"The table or view {quoted(name)} cannot be found. Verify the spelling and "
                    "correctness of the schema and catalog.", "42P01")
