"""Feature specs through the Feature Engineering API, stored as Unity Catalog functions of type
FEATURE_SPEC (``FunctionStore.define_feature_spec``): visible, listed and droppable through the
functions API like any function, servable by name from a serving endpoint.

There is no update: a feature spec is created, read and deleted (SDK 0.162
``FeatureEngineeringAPI``: ``create_feature_spec``, ``get_feature_spec``, ``delete_feature_spec``).
Create checks the body against the catalog (``feature_plan``). What GET answers is the stored
body; with the setting ``feature_spec_echo: "filled"`` it answers the way a backend that
normalizes would: ``feature_names`` filled in when omitted, ``default_values`` and
``rename_outputs`` in another order (the SDK documents that their order is not significant and
GET may reorder them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from databricks.sdk.service.ml import FeatureSpec as FeatureSpecBody

from lakeserve.emulator.catalog.constraints import Constraints
from lakeserve.emulator.catalog.names import ObjectName, parse_object_name
from lakeserve.emulator.catalog.store import DeltaCatalog
from lakeserve.emulator.errors import ApiError, already_exists, invalid, not_found
from lakeserve.emulator.featurespec import FeatureSpec
from lakeserve.emulator.functions import feature_plan
from lakeserve.emulator.functions.feature_plan import FeatureTable
from lakeserve.emulator.functions.store import (
    Definition,
    FunctionExists,
    FunctionStore,
    function_missing,
)
from lakeserve.emulator.wire import parse

ECHO_FILLED = "filled"  # see EmulatorSettings.feature_spec_echo


def feature_spec_missing(name: str) -> ApiError:
    return not_found(f"Feature spec '{name}' does not exist.")


class FeatureSpecs:
    def __init__(self, functions: FunctionStore, catalog: DeltaCatalog, constraints: Constraints,
                 echo: Callable[[], str]):
        self._functions = functions
        self._catalog = catalog
        self._constraints = constraints
        self._echo = echo

    def create(self, body: dict[str, Any], principal: str) -> dict[str, Any]:
        spec = parse(body, FeatureSpecBody)
        name = _name(spec.name)
        feature_plan.plan(spec, self.table, self.python_function)
        document = {**spec.as_dict(), "name": name.full}
        try:
            self._functions.define_feature_spec(name, document, principal)
        except FunctionExists:
            raise already_exists(f"Feature spec '{name.full}' already exists: a function of "
                                 "that name exists in Unity Catalog.") from None
        return self._rendered(document)

    def get(self, name: str) -> dict[str, Any]:
        return self._rendered(self._document(_name(name).full))

    def delete(self, name: str) -> None:
        full = _name(name).full
        self._document(full)
        self._functions.drop(full)

    def exists(self, name: str) -> bool:
        try:
            return self._functions.feature_spec(_name(name).full) is not None
        except ApiError:
            return False

    def plan(self, name: str) -> FeatureSpec:
        """What serving the spec computes, resolved against the catalog as it is now."""
        document = self._document(_name(name).full)
        return feature_plan.plan(FeatureSpecBody.from_dict(document), self.table,
                                 self.python_function)

    # ---- the catalog as the plan sees it -------------------------------------------------

    def table(self, name: str, field: str) -> FeatureTable:
        parsed = _field_name(name, field)
        if not self._catalog.table_exists(parsed):
            raise ApiError(404, "TABLE_DOES_NOT_EXIST",
                           f"{field}: Table '{parsed.full}' does not exist.")
        columns = {c.name.lower(): (c.name, c.type) for c in self._catalog.columns(parsed)}
        key = self._constraints.primary_key(parsed)
        series = tuple(key.timeseries_columns or ()) if key else ()
        keys = tuple(c for c in (key.child_columns if key else ()) if c not in series)
        return FeatureTable(parsed.full, columns, keys, series)

    def python_function(self, name: str, field: str) -> Definition:
        parsed = _field_name(name, field)
        if self._functions.feature_spec(parsed.full) is not None:
            raise invalid(f"{field}: '{parsed.full}' is a feature spec, not a Python function")
        definition = self._functions.definition(parsed.full)
        if definition is None:
            raise ApiError(404, function_missing(parsed.full).error_code,
                           f"{field}: Routine or Model '{parsed.full}' does not exist.")
        return definition

    # ---- helpers -------------------------------------------------------------------------

    def _document(self, full_name: str) -> dict[str, Any]:
        document = self._functions.feature_spec(full_name)
        if document is None:
            raise feature_spec_missing(full_name)
        return document

    def _rendered(self, document: dict[str, Any]) -> dict[str, Any]:
        spec = FeatureSpecBody.from_dict(document)
        if self._echo() == ECHO_FILLED:
            _fill(spec, self.table)
        return spec.as_dict()


def _fill(spec: FeatureSpecBody, tables: Callable[[str, str], FeatureTable]) -> None:
    for entry in spec.features or []:
        lookup = entry.feature_lookup
        if lookup is None:
            continue
        if not lookup.feature_names:
            try:
                table = tables(lookup.table, "table")
            except ApiError:
                continue  # the table is gone: nothing to fill in
            key = {c.lower() for c in (*table.keys, *table.timeseries)}
            lookup.feature_names = [spelled for lower, (spelled, _) in table.columns.items()
                                    if lower not in key]
        lookup.default_values = list(reversed(lookup.default_values or [])) or None
        lookup.rename_outputs = list(reversed(lookup.rename_outputs or [])) or None


def _name(text: Any) -> ObjectName:
    if not isinstance(text, str) or not text:
        raise invalid("Missing required field: name")
    return parse_object_name(text, "name")


def _field_name(text: str, field: str) -> ObjectName:
    try:
        return parse_object_name(text, field)
    except ApiError as error:
        raise invalid(f"{field}: {error.message}") from None
