"""Zero perpetual diffs, and changes made behind the operator's back are reverted."""

from __future__ import annotations

import uuid

import pytest
from databricks.sdk.service.serving import EndpointTag, Route, ServedEntityInput, TrafficConfig

from lakeserve.reconcile import reasons

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

DRIFT_INTERVAL = 4  # OPERATOR_SETTINGS in conftest


@pytest.fixture
def model(models):
    name = f"main.e2e.drift_{uuid.uuid4().hex[:6]}"
    models.register(name, ["champion"])
    models.register(name, ["challenger"])
    return name


def full_endpoint(name, model):
    """Everything Databricks fills in or echoes differently, in one spec."""
    return {
        "apiVersion": "lakeserve.dev/v1alpha1", "kind": "ServingEndpoint",
        "metadata": {"name": name},
        "spec": {
            "config": {
                "servedEntities": [
                    {"entityName": model, "entityAlias": "champion", "workloadSize": "Small",
                     "scaleToZeroEnabled": True, "environmentVars": {"A": "1"}},
                    {"entityName": model, "entityVersion": "2", "workloadSize": "Small"}],
                "trafficConfig": {"routes": [
                    {"servedEntityName": model.split(".")[-1] + "-champion",
                     "trafficPercentage": 50},
                    {"servedEntityName": model.split(".")[-1] + "-2", "trafficPercentage": 50}]},
                "autoCaptureConfig": {"catalogName": "main", "schemaName": "e2e"}},
            "tags": [{"key": "z", "value": "last"}, {"key": "a", "value": "first"}],
            "aiGateway": {"usageTrackingConfig": {"enabled": True},
                          "rateLimits": [{"calls": 10}]},
            "emailNotifications": {"onUpdateFailure": ["ml@example.com"]},
        },
    }


def gets(workspace, name, since):
    return sum(1 for c in workspace.calls(since)["calls"]
               if c["method"] == "GET" and c["path"] == f"/api/2.0/serving-endpoints/{name}")


def test_ready_endpoint_costs_zero_writes_over_drift_passes(cluster, workspace, model, poll):
    workspace.require_emulator()
    name = "drift-zero"
    cluster.apply(full_endpoint(name, model))
    cluster.wait("servingendpoint", name)
    before = cluster.get("servingendpoint", name)
    since = workspace.last_seq()
    poll(lambda: gets(workspace, name, since) >= 3, timeout=DRIFT_INTERVAL * 6,
         message="three drift passes")
    calls = workspace.calls(since)["calls"]
    mine = [c for c in calls if f"/serving-endpoints/{name}" in c["path"]
            or c["path"] == "/api/2.0/serving-endpoints"]
    assert [f"{c['method']} {c['path']}" for c in mine if c["method"] != "GET"] == []
    after = cluster.get("servingendpoint", name)
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"], \
        "no status writes at steady state either"


@pytest.mark.produces(reasons.DRIFT_CORRECTED, reasons.UPDATED)
def test_out_of_band_change_is_reverted_with_an_event(cluster, workspace, model, poll):
    name = "drift-revert"
    cluster.apply(full_endpoint(name, model))
    cluster.wait("servingendpoint", name)
    short = model.split(".")[-1]
    w = workspace.client.serving_endpoints
    w.update_config(name, served_entities=[
        ServedEntityInput(name=f"{short}-champion", entity_name=model, entity_version="1",
                          workload_size="Small", scale_to_zero_enabled=True)],
        traffic_config=TrafficConfig(routes=[Route(served_entity_name=f"{short}-champion",
                                                   traffic_percentage=100)]))
    w.patch(name, add_tags=[EndpointTag(key="manual", value="x")])
    poll(lambda: len(w.get(name).config.served_entities or []) == 2
         and "manual" not in {t.key for t in w.get(name).tags},
         timeout=DRIFT_INTERVAL * 6, message="the operator to revert the changes")
    cluster.wait("servingendpoint", name)
    assert "DriftCorrected" in cluster.event_reasons(name)


@pytest.mark.produces(reasons.RECREATED_MISSING)
def test_endpoint_deleted_behind_our_back_is_recreated(cluster, workspace, model, poll):
    name = "drift-deleted"
    cluster.apply(full_endpoint(name, model))
    cluster.wait("servingendpoint", name)
    old_id = workspace.client.serving_endpoints.get(name).id
    workspace.client.serving_endpoints.delete(name)

    def recreated():
        try:
            return workspace.client.serving_endpoints.get(name).id != old_id
        except Exception:  # noqa: BLE001 - not there yet
            return False
    poll(recreated, timeout=DRIFT_INTERVAL * 6, message="the endpoint to be recreated")
    cluster.wait("servingendpoint", name)
    assert "RecreatedMissing" in cluster.event_reasons(name)
