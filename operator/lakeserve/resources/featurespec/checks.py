"""Before a feature spec is created: what it names must exist and fit, checked with reads.

Databricks documents the rules (``FeatureLookup``, ``FeatureFunction``): a lookup's table is a
Delta table with a primary key; its lookup keys match the key's columns in number and order
(timeseries columns are matched by timestamp lookup keys); features are columns of the table;
bindings name parameters of the function, and every parameter without a default is bound;
output names are unique. Databricks' own refusal messages are not documented, so the operator
checks first and names the field in the spec's terms; nothing is created meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from databricks.sdk.service.catalog import TableInfo

from lakeserve.api.featurespec import FeatureLookup, FeatureSpecSpec, FunctionFeature
from lakeserve.databricks.errors import SpecError
from lakeserve.reconcile import reasons

INVALID_FEATURES = "InvalidFeatures"


@dataclass(frozen=True)
class FunctionFacts:
    name: str
    parameters: tuple[str, ...]
    optional: tuple[str, ...] = ()  # parameters with a default


# A table's name -> its Unity Catalog record, or None when it does not exist.
TableReader = Callable[[str], "TableInfo | None"]


def check(spec: FeatureSpecSpec, tables: TableReader,
          functions: list[FunctionFacts | None]) -> None:
    """Raises SpecError (NotFound, InvalidFeatures) naming the first field that does not fit;
    ``functions`` holds each entry's function (None for lookups)."""
    outputs: dict[str, str] = {}
    keys: set[str] = set()
    for index, (entry, function) in enumerate(zip(spec.features, functions, strict=True)):
        where = f"spec.features[{index}]"
        if entry.feature_lookup is not None:
            lookup = entry.feature_lookup
            keys.update(lookup.lookup_keys)
            for output in _lookup(lookup, tables, f"{where}.featureLookup"):
                _claim(outputs, keys, output, f"{where}.featureLookup")
        else:
            output = _function(entry.feature_function, function, f"{where}.featureFunction")
            _claim(outputs, keys, output, f"{where}.featureFunction.output")


def _lookup(lookup: FeatureLookup, tables: TableReader, where: str) -> list[str]:
    info = tables(lookup.table)
    if info is None:
        raise SpecError(reasons.NOT_FOUND, f"{where}.table: table {lookup.table} does not exist "
                                           "in Unity Catalog")
    key, series = primary_key(info)
    if not key and not series:
        raise SpecError(INVALID_FEATURES, (
            f"{where}.table: {lookup.table} has no primary key, so it is not a feature table; "
            f"add one (ALTER TABLE {lookup.table} ADD CONSTRAINT <name> PRIMARY KEY (<columns>)) "
            "and the spec is created on the next pass"))
    if len(lookup.lookup_keys) != len(key):
        raise SpecError(INVALID_FEATURES, (
            f"{where}.lookupKeys: {lookup.lookup_keys} has {len(lookup.lookup_keys)} key(s) but "
            f"the primary key of {lookup.table} has {len(key)} column(s): {', '.join(key)}; give "
            "one lookup key per primary key column, in order"))
    if len(lookup.timestamp_lookup_keys or []) not in (0, len(series)):
        raise SpecError(INVALID_FEATURES, (
            f"{where}.timestampLookupKeys: {lookup.table} has {len(series)} timeseries "
            f"column(s){': ' + ', '.join(series) if series else ''}"))
    columns = [c.name for c in info.columns or []]
    features = _features(lookup, columns, key + series, where)
    renamed = {r.feature: r.output for r in lookup.rename_outputs or []}
    _check_named(lookup, features, renamed, where)
    return [renamed.get(feature, feature) for feature in features]


def primary_key(info: TableInfo) -> tuple[list[str], list[str]]:
    """(key columns without timeseries columns, timeseries columns) of the table."""
    for constraint in info.table_constraints or []:
        key = constraint.primary_key_constraint
        if key is not None:
            series = list(key.timeseries_columns or [])
            return [c for c in key.child_columns or [] if c not in series], series
    return [], []


def _features(lookup: FeatureLookup, columns: list[str], key: list[str], where: str) -> list[str]:
    if not lookup.feature_names:
        folded = {c.lower() for c in key}
        return [c for c in columns if c.lower() not in folded]
    known = {c.lower() for c in columns}
    for index, name in enumerate(lookup.feature_names):
        if name.lower() not in known:
            raise SpecError(INVALID_FEATURES, (
                f"{where}.featureNames[{index}]: {name} is not a column of {lookup.table}; its "
                f"columns are: {', '.join(columns)}"))
    return list(lookup.feature_names)


def _check_named(lookup: FeatureLookup, features: list[str], renamed: dict[str, str],
                 where: str) -> None:
    for index, rename in enumerate(lookup.rename_outputs or []):
        if rename.feature not in features:
            raise SpecError(INVALID_FEATURES, (
                f"{where}.renameOutputs[{index}].feature: {rename.feature} is not a feature this "
                f"lookup serves ({', '.join(features)})"))
    outputs = [renamed.get(feature, feature) for feature in features]
    for index, default in enumerate(lookup.default_values or []):
        if default.feature not in outputs:
            raise SpecError(INVALID_FEATURES, (
                f"{where}.defaultValues[{index}].feature: {default.feature} is not an output of "
                f"this lookup ({', '.join(outputs)}); a renamed feature goes by its output name"))


def _function(function: FunctionFeature, facts: FunctionFacts | None, where: str) -> str:
    if facts is None:
        named = function.udf or f"FeatureFunction/{function.udf_ref.name}"
        raise SpecError(reasons.NOT_FOUND, f"{where}.udf: function {named} does not exist in "
                                           "Unity Catalog")
    bound = set()
    for index, binding in enumerate(function.input_bindings or []):
        if binding.parameter not in facts.parameters:
            raise SpecError(INVALID_FEATURES, (
                f"{where}.inputBindings[{index}].parameter: {facts.name} has no parameter "
                f"{binding.parameter}; its parameters are: "
                f"{', '.join(facts.parameters) or '(none)'}"))
        bound.add(binding.parameter)
    unbound = [p for p in facts.parameters if p not in bound and p not in facts.optional]
    if unbound:
        raise SpecError(INVALID_FEATURES, (
            f"{where}.inputBindings: parameter(s) {', '.join(unbound)} of {facts.name} are not "
            "bound; bind each to a feature or request column"))
    return function.output or facts.name.split(".")[-1]


def _claim(outputs: dict[str, str], keys: set[str], output: str, where: str) -> None:
    clash = outputs.get(output) or ("a lookup key" if output in keys else None)
    if clash:
        raise SpecError(INVALID_FEATURES, (
            f"{where}: duplicate output name {output}, also produced by {clash}; rename one "
            "(renameOutputs, or the function's output)"))
    outputs[output] = where
