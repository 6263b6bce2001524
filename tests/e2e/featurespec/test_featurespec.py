"""FeatureSpec and feature serving: declare the notebook's bundle, serve it, query it by key."""

from __future__ import annotations

import uuid

import pytest
from databricks.sdk.errors import NotFound
from databricks.sdk.service.ml import FeatureLookup, Features, FeatureSpec

from lakeserve.reconcile import reasons
from tests.e2e.conftest import answers

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

DRIFT_INTERVAL = 4  # OPERATOR_SETTINGS in conftest
ROWS = [{"customerID": f"c{i}", "tenure": float(i + 1), "TotalCharges": 100.0 * (i + 1)}
        for i in range(3)]
API = "lakeserve.dev/v1alpha1"


@pytest.fixture(scope="module")
def instance(workspace):
    return workspace.database_instance()


@pytest.fixture
def feature_table(workspace) -> str:
    """A fresh feature table in the run's schema, made through SQL: three customers, primary
    key customerID."""
    return workspace.tables.create("fs", ROWS)


def online_table(table, instance):
    return {"apiVersion": API, "kind": "OnlineTable", "metadata": {"name": "features-online"},
            "spec": {"name": f"{table}_online", "sourceTableFullName": table,
                     "primaryKeyColumns": ["customerID"], "databaseInstanceName": instance,
                     "logicalDatabaseName": "databricks_postgres"}}


def feature_function(names, fn_name):
    return {"apiVersion": API, "kind": "FeatureFunction", "metadata": {"name": "avg"},
            "spec": {"catalog": names.catalog, "schema": names.schema, "name": fn_name,
                     "parameters": [{"name": "TotalCharges", "type": "DOUBLE"},
                                    {"name": "tenure", "type": "DOUBLE"}],
                     "returns": "DOUBLE", "body": "return TotalCharges / tenure\n"}}


def feature_spec(name, spec_name, table, **extra):
    return {"apiVersion": API, "kind": "FeatureSpec", "metadata": {"name": name},
            "spec": {"name": spec_name, "dependsOn": [{"kind": "OnlineTable",
                                                       "name": "features-online"}],
                     "features": [
                         {"featureLookup": {"table": table, "lookupKeys": ["customerID"],
                                            "defaultValues": [{"feature": "tenure",
                                                               "defaultValue": "1"}]}},
                         {"featureFunction": {"udfRef": {"name": "avg"},
                                              "output": "m_charges_avrg",
                                              "inputBindings": [
                                                  {"parameter": "TotalCharges",
                                                   "boundFeature": "TotalCharges"},
                                                  {"parameter": "tenure",
                                                   "boundFeature": "tenure"}]}}],
                     "excludeColumns": ["customerID"], **extra}}


def feature_endpoint(name, spec_name):
    return {"apiVersion": API, "kind": "ServingEndpoint", "metadata": {"name": name},
            "spec": {"dependsOn": [{"kind": "FeatureSpec", "name": "churn-features"}],
                     "config": {"servedEntities": [{"entityName": spec_name,
                                                    "workloadSize": "Small",
                                                    "scaleToZeroEnabled": True}]}}}


def writes_since(workspace, since, *fragments):
    return [f"{c['method']} {c['path']}" for c in workspace.calls(since)["calls"]
            if c["method"] != "GET" and any(f in c["path"] for f in fragments)]


@pytest.mark.parametrize("echoed", answers("feature_spec_echo"))
def test_declare_serve_query_by_key_then_zero_writes(cluster, workspace, workspace_settings,
                                                     instance, feature_table, echoed, poll):
    workspace_settings(feature_spec_echo=echoed)
    names, suffix = workspace.names, uuid.uuid4().hex[:6]
    spec_name, fn_name = names.model(f"features_{suffix}"), names.object(f"avg_{suffix}")
    endpoint = names.endpoint("features")
    for manifest in (feature_endpoint(endpoint, spec_name),
                     feature_spec("churn-features", spec_name, feature_table),
                     feature_function(names, fn_name), online_table(feature_table, instance)):
        cluster.apply(manifest)  # in reverse: each waits for what it depends on
    cluster.wait("onlinetable", "features-online", timeout=120)
    body = cluster.wait("featurespec", "churn-features", timeout=60)
    assert body["status"]["functions"] == [f"{names.catalog}.{names.schema}.{fn_name}"]
    assert workspace.client.functions.get(spec_name).full_name == spec_name
    served = cluster.wait("servingendpoint", endpoint, timeout=90)
    assert served["status"]["servedEntities"][0]["entityName"] == spec_name
    answer = workspace.client.serving_endpoints.query(name=endpoint, dataframe_records=[
        {"customerID": "c1"}, {"customerID": "nobody"}])
    assert answer.outputs == [
        {"tenure": 2.0, "TotalCharges": 200.0, "m_charges_avrg": 100.0},
        {"tenure": 1.0, "TotalCharges": None, "m_charges_avrg": None}]  # default, then null
    if workspace.emulator:
        assert_zero_writes_over_three_passes(workspace, spec_name, endpoint, poll)


def assert_zero_writes_over_three_passes(workspace, spec_name, endpoint, poll):
    since = workspace.last_seq()
    spec_path = f"/api/2.0/feature-engineering/feature-specs/{spec_name}"
    poll(lambda: sum(1 for c in workspace.calls(since)["calls"] if c["path"] == spec_path) >= 3,
         timeout=DRIFT_INTERVAL * 6, message="three drift passes of the feature spec")
    assert writes_since(workspace, since, "feature-specs", f"/serving-endpoints/{endpoint}",
                        "/api/2.0/serving-endpoints") == []


@pytest.mark.produces(reasons.RECREATING)
def test_a_change_needs_recreate_and_deletion_removes_the_spec(cluster, workspace, instance,
                                                               feature_table, poll):
    names, suffix = workspace.names, uuid.uuid4().hex[:6]
    spec_name = names.model(f"features_{suffix}")
    cluster.apply(online_table(feature_table, instance))
    cluster.apply(feature_function(names, names.object(f"avg_{suffix}")))
    cluster.apply(feature_spec("churn-features", spec_name, feature_table))
    cluster.wait("featurespec", "churn-features", timeout=120)
    refused = cluster.apply(feature_spec("churn-features", spec_name, feature_table,
                                         excludeColumns=[]), check=False)
    assert refused.returncode != 0
    assert "Databricks cannot change a feature spec in place" in refused.stderr
    cluster.apply(feature_spec("churn-features", spec_name, feature_table, excludeColumns=[],
                               updatePolicy="Recreate"))
    def recreated():
        try:
            return not workspace.client.feature_engineering.get_feature_spec(spec_name) \
                .exclude_columns
        except NotFound:  # between the delete and the create
            return False
    poll(recreated, message="the spec recreated without excluded columns")
    cluster.wait("featurespec", "churn-features")
    assert "Recreating" in cluster.event_reasons("churn-features")
    cluster.delete("featurespec", "churn-features")
    with pytest.raises(NotFound):
        workspace.client.feature_engineering.get_feature_spec(spec_name)


@pytest.mark.produces(reasons.ALREADY_EXISTS, reasons.ADOPTED, reasons.OBSERVED)
def test_a_spec_made_elsewhere_is_observed_or_adopted_never_taken(cluster, workspace,
                                                                 feature_table):
    spec_name = workspace.names.model(f"features_{uuid.uuid4().hex[:6]}")
    workspace.client.feature_engineering.create_feature_spec(FeatureSpec(
        name=spec_name, features=[Features(feature_lookup=FeatureLookup(
            table=feature_table, lookup_keys=["customerID"]))]))
    manifest = {"apiVersion": API, "kind": "FeatureSpec", "metadata": {"name": "theirs"},
                "spec": {"name": spec_name, "features": [{"featureLookup": {
                    "table": feature_table, "lookupKeys": ["customerID"]}}]}}
    cluster.apply({**manifest, "spec": {**manifest["spec"], "managementPolicy": "ObserveOnly"}})
    body = cluster.wait("featurespec", "theirs")
    assert next(c for c in body["status"]["conditions"] if c["type"] == "Ready")["reason"] == \
        reasons.OBSERVED
    cluster.delete("featurespec", "theirs")
    cluster.apply(manifest)
    body = cluster.wait("featurespec", "theirs", condition="Stalled")
    stalled = next(c for c in body["status"]["conditions"] if c["type"] == "Stalled")
    assert stalled["reason"] == reasons.ALREADY_EXISTS and spec_name in stalled["message"]
    cluster.kubectl("annotate", "featurespec", "theirs", "-n", cluster.namespace,
                    "lakeserve.dev/adopt=true")
    cluster.wait("featurespec", "theirs")
    assert reasons.ADOPTED in cluster.event_reasons("theirs")
    cluster.delete("featurespec", "theirs")
    with pytest.raises(NotFound):
        workspace.client.feature_engineering.get_feature_spec(spec_name)
