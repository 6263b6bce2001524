"""Comparing the desired feature spec with what Databricks returns, without perpetual diffs.

What the spec controls is compared, with what the backend may do to it taken into account:
Unity Catalog names fold to lower case; ``defaultValues`` and ``renameOutputs`` may come back in
another order (the SDK says their order is not significant); ``featureNames`` left unset (every
feature) may come back filled in; a function's unset ``output`` may come back as the function's
name; bindings and ``excludeColumns`` are sets. A function whose ``udfRef`` is not resolved is
compared on everything but its name.
"""

from __future__ import annotations

from typing import Any

from databricks.sdk.service.ml import FeatureFunction, FeatureLookup, Features, FeatureSpec


def spec_diff(desired: FeatureSpec, observed: FeatureSpec) -> list[str]:
    """The spec's fields that differ, in its own terms (``features[1].featureFunction``)."""
    diff = []
    wanted, current = desired.features or [], observed.features or []
    if len(wanted) != len(current):
        diff.append(f"features ({len(current)} entries -> {len(wanted)})")
    for index, (want, have) in enumerate(zip(wanted, current)):
        diff.extend(f"features[{index}].{what}" for what in _entry_diff(want, have))
    if set(desired.exclude_columns or []) != set(observed.exclude_columns or []):
        diff.append("excludeColumns")
    return diff


def _entry_diff(want: Features, have: Features) -> list[str]:
    if want.feature_lookup is not None:
        if have.feature_lookup is None:
            return ["featureLookup"]
        fields = _lookup_fields(want.feature_lookup, have.feature_lookup)
        return [f"featureLookup.{field}" for field in fields]
    if have.feature_function is None:
        return ["featureFunction"]
    fields = _function_fields(want.feature_function, have.feature_function)
    return [f"featureFunction.{field}" for field in fields]


def _lookup_fields(want: FeatureLookup, have: FeatureLookup) -> list[str]:
    pairs: dict[str, tuple[Any, Any]] = {
        "table": (_uc(want.table), _uc(have.table)),
        "lookupKeys": (list(want.lookup_keys or []), list(have.lookup_keys or [])),
        "renameOutputs": (_pairs(want.rename_outputs, "feature", "output"),
                          _pairs(have.rename_outputs, "feature", "output")),
        "defaultValues": (_pairs(want.default_values, "feature", "default_value"),
                          _pairs(have.default_values, "feature", "default_value")),
        "timestampLookupKeys": (list(want.timestamp_lookup_keys or []),
                                list(have.timestamp_lookup_keys or [])),
        "lookbackWindow": (_seconds(want.lookback_window), _seconds(have.lookback_window)),
    }
    if want.feature_names:  # unset: every feature, however the backend shows it
        pairs["featureNames"] = (list(want.feature_names), list(have.feature_names or []))
    return [field for field, (a, b) in pairs.items() if a != b]


def _function_fields(want: FeatureFunction, have: FeatureFunction) -> list[str]:
    changed = []
    if want.udf is not None and _uc(want.udf) != _uc(have.udf):
        changed.append("udf")
    if _pairs(want.input_bindings, "parameter", "bound_feature") != \
            _pairs(have.input_bindings, "parameter", "bound_feature"):
        changed.append("inputBindings")
    if _output(want) != _output(have) and not (want.output is None and want.udf is None):
        changed.append("output")
    return changed


def _output(function: FeatureFunction) -> str | None:
    """The output name, Databricks' default (the function's name) filled in."""
    if function.output:
        return function.output
    return _uc(function.udf).split(".")[-1] if function.udf else None


def _uc(name: str | None) -> str:
    return (name or "").lower()


def _pairs(items: list | None, key: str, value: str) -> set[tuple[Any, Any]]:
    return {(getattr(item, key), getattr(item, value)) for item in items or []}


def _seconds(window: Any) -> float | None:
    if window is None:
        return None
    return window.seconds + window.nanos / 1e9
