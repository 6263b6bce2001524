"""A feature spec's Feature Engineering API body, checked against the catalog and turned into what
serving computes (:class:`~lakeserve.emulator.featurespec.FeatureSpec`).

Rules, after Databricks' ``FeatureLookup``/``FeatureFunction`` documentation: a lookup's table is
a feature table (a Delta table with a primary key); its ``lookup_keys`` are request columns
matched, in order, to the primary key's columns (timeseries columns excluded, which
``timestamp_lookup_keys`` match); ``feature_names`` empty means every column that is not part of
the key. A function's ``input_bindings`` bind its parameters to features or request columns;
every parameter without a default must be bound; its output defaults to the function's name.
Output names are unique across the spec and its request columns. Every failure is a 400
``INVALID_PARAMETER_VALUE`` (404 for a missing table or function) naming the field, e.g.
``features[1].feature_function.input_bindings[0].parameter``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from databricks.sdk.service.ml import FeatureFunction, FeatureLookup, Features
from databricks.sdk.service.ml import FeatureSpec as FeatureSpecBody

from lakeserve.emulator.catalog.types import SqlType, coerce
from lakeserve.emulator.errors import invalid
from lakeserve.emulator.featurespec import FeatureSpec, Lookup, OnDemand
from lakeserve.emulator.functions.store import Definition


@dataclass(frozen=True)
class FeatureTable:
    name: str
    columns: dict[str, tuple[str, SqlType]]  # lower-case name -> (the table's spelling, type)
    keys: tuple[str, ...]  # primary key columns, timeseries columns excluded
    timeseries: tuple[str, ...]

    def column(self, name: str) -> tuple[str, SqlType] | None:
        return self.columns.get(name.lower())


# (table name, field) -> the table, or raises the 404/400 naming the field.
TableSource = Callable[[str, str], FeatureTable]
# (function name, field) -> its Python definition, or raises the 404/400 naming the field.
FunctionSource = Callable[[str, str], Definition]


@dataclass
class _Builder:
    tables: TableSource
    functions: FunctionSource
    request: list[str] = field(default_factory=list)
    lookups: list[Lookup] = field(default_factory=list)
    on_demand: list[OnDemand] = field(default_factory=list)
    producers: dict[str, str] = field(default_factory=dict)  # output -> field that makes it


def plan(body: FeatureSpecBody, tables: TableSource, functions: FunctionSource) -> FeatureSpec:
    if not body.features:
        raise invalid("Missing required field: features")
    builder = _Builder(tables, functions)
    for index, entry in enumerate(body.features):
        _entry(builder, entry, f"features[{index}]")
    _bind_request_columns(builder)
    columns = tuple(builder.request) + tuple(builder.producers)
    _check_excluded(body.exclude_columns or [], columns)
    return FeatureSpec(columns, tuple(builder.request), tuple(builder.lookups),
                       tuple(builder.on_demand), tuple(body.exclude_columns or ()))


def _entry(builder: _Builder, entry: Features, where: str) -> None:
    given = [name for name in ("feature_lookup", "feature_function", "declarative_feature")
             if getattr(entry, name) is not None]
    if len(given) != 1:
        raise invalid(f"{where}: set exactly one of feature_lookup, feature_function or "
                      f"declarative_feature (got {', '.join(given) or 'none'})")
    if entry.declarative_feature is not None:
        raise invalid(f"{where}.declarative_feature: declarative features are not supported by "
                      "the local workspace (lakeserve emulator); use feature_lookup and "
                      "feature_function")
    if entry.feature_lookup is not None:
        _lookup(builder, entry.feature_lookup, f"{where}.feature_lookup")
    else:
        _function(builder, entry.feature_function, f"{where}.feature_function")


# ---- lookups -----------------------------------------------------------------------------

def _lookup(builder: _Builder, lookup: FeatureLookup, where: str) -> None:
    if not lookup.table:
        raise invalid(f"Missing required field: {where}.table")
    table = builder.tables(lookup.table, f"{where}.table")
    _check_keys(lookup, table, where)
    features = _features(lookup, table, where)
    renamed = _renames(lookup, features, where)
    defaults = _defaults(lookup, table, features, renamed, where)
    for request_column in [*lookup.lookup_keys, *(lookup.timestamp_lookup_keys or [])]:
        if request_column not in builder.request:
            builder.request.append(request_column)
    for feature in features:
        output = renamed.get(feature, feature)
        _claim(builder, output, f"{where} (feature {feature} of {table.name})")
        builder.lookups.append(Lookup(output, table.name, tuple(lookup.lookup_keys),
                                      table.column(feature)[0], defaults.get(output)))


def _check_keys(lookup: FeatureLookup, table: FeatureTable, where: str) -> None:
    if not table.keys and not table.timeseries:
        raise invalid(f"{where}.table: '{table.name}' has no primary key, so it is not a "
                      "feature table; add one (ALTER TABLE ... ADD CONSTRAINT ... PRIMARY KEY, "
                      "or the table constraints API)")
    if not lookup.lookup_keys:
        raise invalid(f"Missing required field: {where}.lookup_keys")
    if len(lookup.lookup_keys) != len(table.keys):
        raise invalid(f"{where}.lookup_keys {lookup.lookup_keys} has {len(lookup.lookup_keys)} "
                      f"key(s), but the primary key of '{table.name}' has {len(table.keys)}: "
                      f"{', '.join(table.keys)}; give one lookup key per primary key column, in "
                      "order")
    stamps = lookup.timestamp_lookup_keys or []
    if stamps and len(stamps) != len(table.timeseries):
        raise invalid(f"{where}.timestamp_lookup_keys has {len(stamps)} key(s), but "
                      f"'{table.name}' has {len(table.timeseries)} timeseries column(s)"
                      + (f": {', '.join(table.timeseries)}" if table.timeseries else ""))
    if lookup.lookback_window is not None and not stamps:
        raise invalid(f"{where}.lookback_window applies to point-in-time lookups: set "
                      "timestamp_lookup_keys too")


def _features(lookup: FeatureLookup, table: FeatureTable, where: str) -> list[str]:
    if not lookup.feature_names:
        key = {c.lower() for c in (*table.keys, *table.timeseries)}
        return [spelled for lower, (spelled, _) in table.columns.items() if lower not in key]
    unknown = [name for name in lookup.feature_names if table.column(name) is None]
    if unknown:
        raise invalid(f"{where}.feature_names: {', '.join(unknown)} is not a column of "
                      f"'{table.name}'; its columns are: "
                      f"{', '.join(spelled for spelled, _ in table.columns.values())}")
    _check_unique(lookup.feature_names, f"{where}.feature_names")
    return list(lookup.feature_names)


def _renames(lookup: FeatureLookup, features: list[str], where: str) -> dict[str, str]:
    renamed: dict[str, str] = {}
    for index, rename in enumerate(lookup.rename_outputs or []):
        at = f"{where}.rename_outputs[{index}]"
        if rename.feature not in features:
            raise invalid(f"{at}.feature: '{rename.feature}' is not looked up by this lookup "
                          f"(its features: {', '.join(features)})")
        if not rename.output:
            raise invalid(f"Missing required field: {at}.output")
        if rename.feature in renamed:
            raise invalid(f"{at}.feature: '{rename.feature}' is renamed more than once")
        renamed[rename.feature] = rename.output
    return renamed


def _defaults(lookup: FeatureLookup, table: FeatureTable, features: list[str],
              renamed: dict[str, str], where: str) -> dict[str, Any]:
    by_output = {renamed.get(feature, feature): feature for feature in features}
    defaults: dict[str, Any] = {}
    for index, default in enumerate(lookup.default_values or []):
        at = f"{where}.default_values[{index}]"
        feature = by_output.get(default.feature)
        if feature is None:
            raise invalid(f"{at}.feature: '{default.feature}' is not an output of this lookup "
                          f"(its outputs: {', '.join(by_output)}); name a renamed feature by "
                          "its output name")
        defaults[default.feature] = _typed(default.default_value, table.column(feature)[1], at)
    return defaults


def _typed(text: str | None, sql_type: SqlType, where: str) -> Any:
    try:
        return coerce(text, sql_type)
    except (TypeError, ValueError):
        raise invalid(f"{where}.default_value '{text}' is not a {sql_type.text}") from None


# ---- functions ---------------------------------------------------------------------------

def _function(builder: _Builder, function: FeatureFunction, where: str) -> None:
    if not function.udf:
        raise invalid(f"Missing required field: {where}.udf")
    definition = builder.functions(function.udf, f"{where}.udf")
    parameters = {p.name.lower(): p for p in definition.params}
    bindings: dict[str, str] = {}
    for index, binding in enumerate(function.input_bindings or []):
        at = f"{where}.input_bindings[{index}]"
        parameter = parameters.get((binding.parameter or "").lower())
        if parameter is None:
            raise invalid(f"{at}.parameter: '{binding.parameter}' is not a parameter of "
                          f"{definition.name.full}; its parameters are: "
                          f"{', '.join(p.name for p in definition.params) or '(none)'}")
        if parameter.name in bindings:
            raise invalid(f"{at}.parameter: '{parameter.name}' is bound more than once")
        if not binding.bound_feature:
            raise invalid(f"Missing required field: {at}.bound_feature")
        bindings[parameter.name] = binding.bound_feature
    unbound = [p.name for p in definition.params if p.name not in bindings and p.default is None]
    if unbound:
        raise invalid(f"{where}.input_bindings: parameter(s) {', '.join(unbound)} of "
                      f"{definition.name.full} are not bound to a feature")
    output = function.output or definition.name.name
    _claim(builder, output, f"{where}.output")
    builder.on_demand.append(OnDemand(output, definition.name.full, bindings))


# ---- names -------------------------------------------------------------------------------

def _claim(builder: _Builder, output: str, where: str) -> None:
    clash = builder.producers.get(output)
    if clash is None and output in builder.request:
        clash = "a lookup key"
    if clash is not None:
        raise invalid(f"Duplicate output name '{output}': {where} and {clash} both produce it; "
                      "rename one (rename_outputs, or the function's output)")
    builder.producers[output] = where


def _bind_request_columns(builder: _Builder) -> None:
    """Function inputs that no lookup or function produces come with the request."""
    for function in builder.on_demand:
        for column in function.input_bindings.values():
            if column not in builder.producers and column not in builder.request:
                builder.request.append(column)


def _check_unique(names: list[str], where: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise invalid(f"{where} names '{name}' more than once")
        seen.add(name)


def _check_excluded(excluded: list[str], columns: tuple[str, ...]) -> None:
    unknown = [name for name in excluded if name not in columns]
    if unknown:
        raise invalid(f"exclude_columns: {', '.join(unknown)} is not a column of the feature "
                      f"spec; its columns are: {', '.join(columns)}")
