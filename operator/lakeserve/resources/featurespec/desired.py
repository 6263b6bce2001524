"""The feature spec the spec asks for, in the Feature Engineering API's terms (SDK dataclasses).

A function named by ``udfRef`` stands for the Unity Catalog name of that FeatureFunction object,
read from the object itself (``Managed.dependencies``); while it cannot be read (not created yet,
or not read at all under ``managementPolicy: ObserveOnly``) its ``udf`` is left unset.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from databricks.sdk.service.ml import (
    DefaultValue,
    FeatureFunction,
    FeatureFunctionInputBinding,
    FeatureLookup,
    Features,
    FeatureSpec,
    RenameOutput,
)
from google.protobuf.duration_pb2 import Duration
from pydantic import ValidationError

from lakeserve.api.featurefunction import FeatureFunctionSpec
from lakeserve.api.featurespec import Feature, FeatureSpecSpec, FunctionFeature


def function_names(spec: FeatureSpecSpec,
                   dependencies: Mapping[str, Mapping[str, Any]]) -> list[str | None]:
    """Each entry's function name (None for lookups and for references not resolved)."""
    return [_function_name(entry.feature_function, dependencies) if entry.feature_function
            else None for entry in spec.features]


def referenced_function(function: FunctionFeature,
                        dependencies: Mapping[str, Mapping[str, Any]]
                        ) -> FeatureFunctionSpec | None:
    """The FeatureFunction object's spec a ``udfRef`` names, when it was read."""
    if function.udf_ref is None:
        return None
    body = dependencies.get(f"FeatureFunction/{function.udf_ref.name}")
    if body is None:
        return None
    try:
        return FeatureFunctionSpec.model_validate(body.get("spec") or {})
    except ValidationError:
        return None


def desired_spec(spec: FeatureSpecSpec, udfs: list[str | None]) -> FeatureSpec:
    return FeatureSpec(
        name=spec.name,
        features=[_entry(entry, udf) for entry, udf in zip(spec.features, udfs, strict=True)],
        exclude_columns=list(spec.exclude_columns) if spec.exclude_columns else None)


def _function_name(function: FunctionFeature,
                   dependencies: Mapping[str, Mapping[str, Any]]) -> str | None:
    if function.udf is not None:
        return function.udf
    referenced = referenced_function(function, dependencies)
    return referenced.full_name if referenced else None


def _entry(entry: Feature, udf: str | None) -> Features:
    if entry.feature_lookup is not None:
        return Features(feature_lookup=_lookup(entry))
    function = entry.feature_function
    return Features(feature_function=FeatureFunction(
        udf=udf, output=function.output,
        input_bindings=[FeatureFunctionInputBinding(parameter=b.parameter,
                                                    bound_feature=b.bound_feature)
                        for b in function.input_bindings or []] or None))


def _lookup(entry: Feature) -> FeatureLookup:
    lookup = entry.feature_lookup
    return FeatureLookup(
        table=lookup.table, lookup_keys=list(lookup.lookup_keys),
        feature_names=list(lookup.feature_names) if lookup.feature_names else None,
        rename_outputs=[RenameOutput(feature=r.feature, output=r.output)
                        for r in lookup.rename_outputs or []] or None,
        default_values=[DefaultValue(feature=d.feature, default_value=d.default_value)
                        for d in lookup.default_values or []] or None,
        timestamp_lookup_keys=list(lookup.timestamp_lookup_keys)
        if lookup.timestamp_lookup_keys else None,
        lookback_window=duration(lookup.lookback_window))


def duration(text: str | None) -> Duration | None:
    if text is None:
        return None
    value = Duration()
    value.FromJsonString(text)
    return value
