"""FeatureSpecClient through the engine: create after checks, no update, Recreate, ownership,
and a FeatureFunction reference resolved from the object it names."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import pytest
from databricks.sdk.errors import NotFound
from databricks.sdk.service.catalog import FunctionInfo, TableInfo

from lakeserve.api import featurefunction, featurespec
from lakeserve.databricks.limiter import WriteLimiter
from lakeserve.databricks.workspace import Workspace
from lakeserve.reconcile import reasons
from lakeserve.reconcile.passes import Registration
from lakeserve.resources.featurespec import FeatureSpecClient
from lakeserve.resources.featurespec.checks import INVALID_FEATURES
from tests.unit.reconcile.fakes import Harness

NAME = "main.churn.churn_features"
FUNCTION = "main.churn.monthly_charges_avrg"
SPEC = {"name": NAME, "excludeColumns": ["customerID"], "features": [
    {"featureLookup": {"table": "main.churn.features", "lookupKeys": ["customerID"]}},
    {"featureFunction": {"udfRef": {"name": "monthly-charges-avrg"}, "output": "m_charges_avrg",
                         "inputBindings": [{"parameter": "TotalCharges",
                                            "boundFeature": "TotalCharges"},
                                           {"parameter": "tenure", "boundFeature": "tenure"}]}}]}
TABLE = TableInfo.from_dict({
    "full_name": "main.churn.features",
    "columns": [{"name": "customerID"}, {"name": "tenure"}, {"name": "TotalCharges"}],
    "table_constraints": [{"primary_key_constraint": {"name": "pk",
                                                      "child_columns": ["customerID"]}}]})
OURS = {"owned": {"name": NAME, "how": "Created"}}
READY = [{"type": "Ready", "status": "True", "reason": "Ready"}]
FEATURE_FUNCTION = {"kind": "FeatureFunction",
                    "metadata": {"name": "monthly-charges-avrg", "uid": "f", "generation": 1},
                    "spec": {"catalog": "main", "schema": "churn", "name": "monthly_charges_avrg",
                             "parameters": [{"name": "TotalCharges", "type": "DOUBLE"},
                                            {"name": "tenure", "type": "DOUBLE"}],
                             "returns": "DOUBLE", "body": "return TotalCharges / tenure"},
                    "status": {"conditions": READY, "observedGeneration": 1}}


class FakeSdk:
    def __init__(self, stored=None, table=TABLE):
        self.stored, self.table, self.calls = stored, table, []
        self.feature_engineering = SimpleNamespace(
            get_feature_spec=self._get, create_feature_spec=self._create,
            delete_feature_spec=self._delete)
        self.tables = SimpleNamespace(get=self._table)
        self.functions = SimpleNamespace(get=lambda name: FunctionInfo(full_name=name))

    def _get(self, name):
        self.calls.append("get")
        if self.stored is None:
            raise NotFound("no such spec", error_code="RESOURCE_DOES_NOT_EXIST")
        return self.stored

    def _create(self, spec):
        self.calls.append("create")
        self.stored = spec
        return spec

    def _delete(self, name):
        self.calls.append("delete")
        self.stored = None

    def _table(self, name):
        self.calls.append("read table")
        if self.table is None:
            raise NotFound("no table", error_code="TABLE_DOES_NOT_EXIST")
        return self.table


def harness(sdk):
    workspace = Workspace(client=sdk, host="https://w", limiter=WriteLimiter())
    functions = Registration(info=featurefunction.INFO, client_factory=lambda ws: None)
    engine = Harness(FeatureSpecClient(workspace), info=featurespec.INFO,
                     dependencies=lambda spec: spec.dependencies(),
                     others={featurefunction.KIND: functions})
    engine.kube.objects[("FeatureFunction", "monthly-charges-avrg")] = FEATURE_FUNCTION
    return engine


def body(spec=SPEC, status=None, annotations=None):
    return {"apiVersion": "lakeserve.dev/v1alpha1", "kind": "FeatureSpec",
            "metadata": {"name": "churn-features", "namespace": "ns", "uid": "u",
                         "generation": 1, "annotations": annotations or {}},
            "spec": spec, "status": status or {}}


@pytest.mark.produces(reasons.CREATED)
def test_created_with_the_referenced_functions_name_then_ready_with_one_read():
    sdk = FakeSdk()
    engine = harness(sdk)
    engine.run(body())
    assert sdk.calls == ["get", "read table", "create"]
    assert sdk.stored.features[1].feature_function.udf == FUNCTION
    assert engine.kube.status["functions"] == [FUNCTION]
    sdk.calls.clear()
    outcome = engine.run(body(status=engine.kube.status))
    assert outcome.verdict.reason == reasons.READY
    assert sdk.calls == ["get"], "at steady state: one read, no write"


@pytest.mark.produces(reasons.WAITING_FOR_DEPENDENCIES)
def test_waits_for_the_feature_function_it_references():
    sdk = FakeSdk()
    engine = harness(sdk)
    del engine.kube.objects[("FeatureFunction", "monthly-charges-avrg")]
    outcome = engine.run(body())
    assert outcome.verdict.reason == reasons.WAITING_FOR_DEPENDENCIES
    assert "FeatureFunction/monthly-charges-avrg" in engine.condition("Reconciling")["message"]
    assert sdk.calls == []


@pytest.mark.produces(INVALID_FEATURES)
def test_a_table_without_a_primary_key_stalls_before_anything_is_created():
    sdk = FakeSdk(table=TableInfo.from_dict({**TABLE.as_dict(), "table_constraints": []}))
    engine = harness(sdk)
    outcome = engine.run(body())
    assert outcome.verdict.reason == INVALID_FEATURES
    assert "spec.features[0].featureLookup.table: main.churn.features has no primary key" in \
        engine.condition("Stalled")["message"]
    assert "create" not in sdk.calls and "owned" not in engine.kube.status


@pytest.mark.produces(reasons.IMMUTABLE_FIELD_CHANGED, reasons.RECREATING)
def test_a_change_is_refused_in_place_and_recreated_with_recreate():
    sdk = FakeSdk()
    engine = harness(sdk)
    engine.run(body())
    changed = copy.deepcopy(SPEC)
    changed["excludeColumns"] = []
    outcome = engine.run(body(spec=changed, status=engine.kube.status))
    assert outcome.verdict.reason == reasons.IMMUTABLE_FIELD_CHANGED
    assert "excludeColumns" in engine.condition("Stalled")["message"]
    outcome = engine.run(body(spec={**changed, "updatePolicy": "Recreate"},
                              status=engine.kube.status))
    assert outcome.verdict.reason == reasons.RECREATING and sdk.stored is None
    engine.run(body(spec={**changed, "updatePolicy": "Recreate"}, status=engine.kube.status))
    assert sdk.stored.exclude_columns is None


@pytest.mark.produces(reasons.ALREADY_EXISTS)
def test_a_spec_it_did_not_create_is_left_alone_until_adopted():
    sdk = FakeSdk()
    harness(sdk).run(body())
    sdk.calls.clear()
    engine = harness(sdk)
    assert engine.run(body()).verdict.reason == reasons.ALREADY_EXISTS
    assert engine.finalize(body()) is None
    # deleting a resource that never created or adopted anything makes no Databricks call
    assert sdk.calls == ["get"], "read once by the pass, never deleted"


def test_observe_only_reports_a_missing_spec_without_reading_tables():
    sdk = FakeSdk(table=None)
    outcome = harness(sdk).run(body(spec={**SPEC, "managementPolicy": "ObserveOnly"}))
    assert outcome.verdict.reason == reasons.NOT_FOUND
    assert sdk.calls == ["get"]


def test_deletion_deletes_what_it_created():
    sdk = FakeSdk()
    engine = harness(sdk)
    engine.run(body(status=OURS))
    engine.finalize(body(status=engine.kube.status))
    assert sdk.stored is None
