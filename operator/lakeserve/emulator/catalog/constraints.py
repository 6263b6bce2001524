"""Primary key constraints of tables (``/api/2.1/unity-catalog/constraints``).

A feature table is a Delta table with a primary key: feature specs and synced tables look rows up
by it. As in Unity Catalog the constraint is informational (not enforced on writes), a table has
at most one, and its columns must be columns of the table (compared as UC compares names,
case-insensitively); timeseries columns are part of the key. Only primary keys are modelled.

Kept in ``.uc-constraints.json`` inside the table's directory, beside ``_delta_log``, so it is
on disk with the table (kept by overwrites, gone with the table).
"""

from __future__ import annotations

import contextlib
import json
import threading

from databricks.sdk.service.catalog import PrimaryKeyConstraint, TableConstraint

from lakeserve.emulator.catalog.names import ObjectName
from lakeserve.emulator.catalog.store import DeltaCatalog
from lakeserve.emulator.errors import already_exists, invalid, not_found

FILE = ".uc-constraints.json"


class Constraints:
    def __init__(self, catalog: DeltaCatalog):
        self._catalog = catalog
        self._lock = threading.Lock()

    def create(self, full_name: str, constraint: TableConstraint) -> TableConstraint:
        name = self._catalog.require_table(full_name)
        key = _primary_key_of(constraint)
        columns = {c.name.lower(): c.name for c in self._catalog.columns(name)}
        key = _checked(key, columns, name)
        with self._lock:
            current = self.primary_key(name)
            if current is not None:
                raise already_exists(f"Table '{name.full}' already has a primary key "
                                     f"constraint '{current.name}'; drop it first.")
            self._path(name).write_text(json.dumps(key.as_dict()))
        return TableConstraint(primary_key_constraint=key)

    def delete(self, full_name: str, constraint_name: str) -> None:
        name = self._catalog.require_table(full_name)
        with self._lock:
            current = self.primary_key(name)
            if current is None or current.name.lower() != (constraint_name or "").lower():
                raise not_found(f"Constraint '{constraint_name}' does not exist on table "
                                f"'{name.full}'.")
            self._path(name).unlink()

    def primary_key(self, full_name: str | ObjectName) -> PrimaryKeyConstraint | None:
        """The table's primary key, or None (no constraint, or no such table)."""
        with contextlib.suppress(OSError, ValueError):
            return PrimaryKeyConstraint.from_dict(json.loads(self._path(full_name).read_text()))
        return None

    def of_table(self, full_name: str | ObjectName) -> list[TableConstraint]:
        key = self.primary_key(full_name)
        return [TableConstraint(primary_key_constraint=key)] if key else []

    def _path(self, full_name: str | ObjectName):
        return self._catalog.table_path(full_name) / FILE


def _primary_key_of(constraint: TableConstraint) -> PrimaryKeyConstraint:
    if constraint.foreign_key_constraint or constraint.named_table_constraint:
        raise invalid("The local workspace (lakeserve emulator) models primary key constraints "
                      "only: set constraint.primary_key_constraint")
    key = constraint.primary_key_constraint
    if key is None:
        raise invalid("Missing required field: constraint.primary_key_constraint")
    if not key.name:
        raise invalid("Missing required field: constraint.primary_key_constraint.name")
    if not key.child_columns:
        raise invalid("Missing required field: constraint.primary_key_constraint.child_columns")
    return key


def _checked(key: PrimaryKeyConstraint, columns: dict[str, str],
             name: ObjectName) -> PrimaryKeyConstraint:
    """The key with the table's own spelling of each column; 400 naming a column that is not."""
    for field, wanted in (("child_columns", key.child_columns),
                          ("timeseries_columns", key.timeseries_columns or [])):
        unknown = [c for c in wanted if c.lower() not in columns]
        if unknown:
            raise invalid(f"constraint.primary_key_constraint.{field}: column(s) "
                          f"{', '.join(unknown)} do not exist in table '{name.full}'; its "
                          f"columns are: {', '.join(columns.values())}")
    children = [columns[c.lower()] for c in key.child_columns]
    series = [columns[c.lower()] for c in key.timeseries_columns or []]
    outside = [c for c in series if c not in children]
    if outside:
        raise invalid("constraint.primary_key_constraint.timeseries_columns: "
                      f"{', '.join(outside)} must also be in child_columns (a timeseries column "
                      "is part of the primary key)")
    return PrimaryKeyConstraint(name=key.name, child_columns=children,
                                timeseries_columns=series or None, rely=key.rely)
