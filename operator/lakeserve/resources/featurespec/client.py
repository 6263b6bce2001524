"""The only code that talks to Databricks about feature specs.

observe = one GET of the feature spec (``get_feature_spec``). Databricks has no update for feature
specs, so any difference is not updatable: the engine stalls it (ImmutableFieldChanged), or with
``updatePolicy: Recreate`` deletes the spec and the next pass creates it again. Before a create,
the tables and functions the spec names are read and checked (``checks``) so a spec that cannot
work stalls with the field named, and nothing is created.
"""

from __future__ import annotations

from typing import Any

from databricks.sdk.errors import NotFound
from databricks.sdk.service.catalog import FunctionInfo, TableInfo
from databricks.sdk.service.ml import FeatureSpec

from lakeserve.api.common import ManagementPolicy
from lakeserve.api.featurespec import FeatureSpecSpec
from lakeserve.databricks.workspace import Workspace
from lakeserve.reconcile import reasons
from lakeserve.resources.base import DeleteState, Event, Managed, Observation, WriteResult
from lakeserve.resources.featurespec import checks
from lakeserve.resources.featurespec.compare import spec_diff
from lakeserve.resources.featurespec.desired import (
    desired_spec,
    function_names,
    referenced_function,
)


class FeatureSpecClient:
    def __init__(self, workspace: Workspace):
        self._w = workspace.client
        self._desired: FeatureSpec | None = None

    def observe(self, obj: Managed[FeatureSpecSpec]) -> Observation:
        spec = obj.spec
        udfs = function_names(spec, obj.dependencies)
        self._desired = desired_spec(spec, udfs)
        facts = {"fullName": spec.name, "state": "Absent",
                 "tables": [e.feature_lookup.table for e in spec.features if e.feature_lookup]
                 or None,
                 "functions": [udf for udf in udfs if udf] or None}
        try:
            current = self._w.feature_engineering.get_feature_spec(spec.name)
        except NotFound:
            if spec.management_policy != ManagementPolicy.OBSERVE_ONLY:
                checks.check(spec, self._table, self._functions(obj, udfs))
            return Observation(exists=False, name=spec.name, status=facts)
        diff = spec_diff(self._desired, current)
        return Observation(exists=True, name=spec.name, diff=diff, updatable=False,
                           ready=not diff, status={**facts, "state": "Defined"})

    def locate(self, obj: Managed[FeatureSpecSpec]) -> Observation:
        try:
            self._w.feature_engineering.get_feature_spec(obj.spec.name)
        except NotFound:
            return Observation(exists=False, name=obj.spec.name)
        return Observation(exists=True, name=obj.spec.name)

    def create(self, obj: Managed[FeatureSpecSpec], observation: Observation) -> WriteResult:
        self._w.feature_engineering.create_feature_spec(self._desired)
        entries = len(obj.spec.features)
        return WriteResult(events=[Event(reasons.CREATED, f"created feature spec "
                                                          f"{obj.spec.name} ({entries} entries)")],
                           status={"state": "Defined"})

    def update(self, obj: Managed[FeatureSpecSpec], observation: Observation) -> WriteResult:
        raise AssertionError("feature specs have no update; the engine recreates them")

    def delete(self, obj: Managed[FeatureSpecSpec]) -> DeleteState:
        try:
            self._w.feature_engineering.delete_feature_spec(obj.spec.name)
        except NotFound:
            pass
        return DeleteState.GONE

    # ---- reads for the checks ------------------------------------------------------------

    def _table(self, name: str) -> TableInfo | None:
        try:
            return self._w.tables.get(name)
        except NotFound:
            return None

    def _functions(self, obj: Managed[FeatureSpecSpec],
                   udfs: list[str | None]) -> list[checks.FunctionFacts | None]:
        facts: list[checks.FunctionFacts | None] = []
        for entry, udf in zip(obj.spec.features, udfs, strict=True):
            function = entry.feature_function
            if function is None:
                facts.append(None)
            elif function.udf_ref is not None:
                facts.append(_referenced_facts(referenced_function(function, obj.dependencies)))
            else:
                facts.append(self._function_facts(udf))
        return facts

    def _function_facts(self, name: str) -> checks.FunctionFacts | None:
        try:
            info = self._w.functions.get(name)
        except NotFound:
            return None
        return _info_facts(info)


def _info_facts(info: FunctionInfo) -> checks.FunctionFacts:
    params = sorted((info.input_params.parameters if info.input_params else None) or [],
                    key=lambda p: p.position or 0)
    return checks.FunctionFacts(
        name=info.full_name or "", parameters=tuple(p.name for p in params),
        optional=tuple(p.name for p in params if p.parameter_default is not None))


def _referenced_facts(spec: Any) -> checks.FunctionFacts | None:
    if spec is None:
        return None
    return checks.FunctionFacts(name=spec.full_name,
                                parameters=tuple(p.name for p in spec.parameters))
