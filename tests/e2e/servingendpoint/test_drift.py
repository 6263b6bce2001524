"""Zero perpetual diffs, and changes made behind the operator's back are reverted."""

from __future__ import annotations

import time
import uuid

import pytest
from databricks.sdk.service.serving import EndpointTag, Route, ServedEntityInput, TrafficConfig

from lakeserve.emulator.settings import FIDELITY_CHOICES
from lakeserve.reconcile import reasons

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

DRIFT_INTERVAL = 4  # OPERATOR_SETTINGS in conftest


@pytest.fixture
def model(models, workspace):
    name = workspace.names.model(f"drift_{uuid.uuid4().hex[:6]}")
    models.register(name, ["champion"])
    models.register(name, ["challenger"])
    return name


def full_endpoint(name, model, names):
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
                "autoCaptureConfig": {"catalogName": names.catalog,
                                      "schemaName": names.schema}},
            "tags": [{"key": "z", "value": "last"}, {"key": "a", "value": "first"}],
            "aiGateway": {"usageTrackingConfig": {"enabled": True},
                          "rateLimits": [{"calls": 10}]},
            "emailNotifications": {"onUpdateFailure": ["ml@example.com"]},
        },
    }


def gets(workspace, name, since):
    return sum(1 for c in workspace.calls(since)["calls"]
               if c["method"] == "GET" and c["path"] == f"/api/2.0/serving-endpoints/{name}")


def assert_zero_writes_over_three_drift_passes(cluster, workspace, name, poll):
    """Once Ready: three drift reads, no write to Databricks and no status write."""
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


@pytest.mark.emulator_only("chooses the order the workspace lists entities in; counts writes")
@pytest.mark.parametrize("order", FIDELITY_CHOICES["served_entities_order"])
def test_ready_endpoint_costs_zero_writes_over_drift_passes(cluster, workspace,
                                                            workspace_settings, model, poll,
                                                            order):
    """Entities listed in any order, description echoed empty, burst scaling not echoed."""
    workspace.require_emulator()
    workspace_settings(served_entities_order=order)
    name = f"drift-zero-{order.replace('_', '-')}"
    cluster.apply(full_endpoint(name, model, workspace.names))
    assert_zero_writes_over_three_drift_passes(cluster, workspace, name, poll)


@pytest.mark.emulator_only("chooses how the workspace echoes the gateway; counts writes")
@pytest.mark.parametrize("echo", FIDELITY_CHOICES["ai_gateway_echo"])
def test_gateway_table_without_prefix_costs_zero_writes(cluster, workspace, workspace_settings,
                                                        model, poll, echo):
    """The workspace names the table after the endpoint and may echo unset parts, off."""
    workspace.require_emulator()
    workspace_settings(ai_gateway_echo=echo)
    name = f"drift-gateway-{echo.replace('_', '-')}"
    cluster.apply({"apiVersion": "lakeserve.dev/v1alpha1", "kind": "ServingEndpoint",
                   "metadata": {"name": name},
                   "spec": {"config": {"servedEntities": [
                       {"entityName": model, "entityVersion": "1", "workloadSize": "Small"}]},
                       "aiGateway": {"inferenceTableConfig": {"catalogName": "main",
                                                              "schemaName": "e2e"}}}})
    assert_zero_writes_over_three_drift_passes(cluster, workspace, name, poll)


@pytest.mark.produces(reasons.DRIFT_CORRECTED, reasons.UPDATED)
def test_out_of_band_change_is_reverted_with_an_event(cluster, workspace, model, poll, figures):
    name = workspace.names.endpoint("revert")
    cluster.apply(full_endpoint(name, model, workspace.names))
    cluster.wait("servingendpoint", name)
    since, started = workspace.last_seq() if workspace.emulator else 0, time.monotonic()
    short = model.split(".")[-1]
    w = workspace.client.serving_endpoints
    # tags first: a workspace may refuse other writes while the config update runs
    w.patch(name, add_tags=[EndpointTag(key="manual", value="x")])
    w.update_config(name, served_entities=[
        ServedEntityInput(name=f"{short}-champion", entity_name=model, entity_version="1",
                          workload_size="Small", scale_to_zero_enabled=True)],
        traffic_config=TrafficConfig(routes=[Route(served_entity_name=f"{short}-champion",
                                                   traffic_percentage=100)]))
    poll(lambda: len(w.get(name).config.served_entities or []) == 2
         and "manual" not in {t.key for t in w.get(name).tags},
         timeout=DRIFT_INTERVAL * 6, message="the operator to revert the changes")
    cluster.wait("servingendpoint", name)
    assert "DriftCorrected" in cluster.event_reasons(name)
    if workspace.emulator:
        record_drift(figures, workspace, cluster, name, since, started,
                     "out-of-band edit (routes and tags)")


@pytest.mark.produces(reasons.RECREATED_MISSING)
def test_endpoint_deleted_behind_our_back_is_recreated(cluster, workspace, model, poll, figures):
    name = workspace.names.endpoint("deleted")
    cluster.apply(full_endpoint(name, model, workspace.names))
    cluster.wait("servingendpoint", name)
    since, started = workspace.last_seq() if workspace.emulator else 0, time.monotonic()
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
    if workspace.emulator:
        record_drift(figures, workspace, cluster, name, since, started, "out-of-band delete")


def record_drift(figures, workspace, cluster, name, since, started, fault):
    """The operator's calls about the endpoint since the change, its deletion, and what is left."""
    recovery = time.monotonic() - started
    cluster.delete("servingendpoint", name)
    calls = [c for c in workspace.calls(since)["calls"]
             if f"/serving-endpoints/{name}" in c["path"] or (c.get("body") or {}).get("name")
             == name]
    mine = [c for c in calls if c["method"] != "GET"]
    creates = [c for c in mine if c["method"] == "POST" and c["status"] == 200]
    left = [e.name for e in workspace.client.serving_endpoints.list() if e.name == name]
    assert len(creates) <= 1 and left == []
    figures.record(fault, **{"end state": "Ready", "creates committed": len(creates),
                             "duplicates": 0, "orphans": len(left), "writes": len(mine),
                             "calls": len(calls), "recovery s": recovery,
                             "notes": "counts include the test's own change and the deletion"})


@pytest.mark.emulator_only("counts writes over three drift passes in the call log")
def test_mixed_case_unity_catalog_names_cost_zero_writes(cluster, workspace, models, poll):
    """Unity Catalog stores names in lower case; Main.E2E.Model is main.e2e.model."""
    workspace.require_emulator()
    model = f"main.e2e.Mixed_{uuid.uuid4().hex[:6]}"
    models.register(model.lower(), ["champion"])
    shouting = model.split(".")[-1]
    name = "drift-mixed-case"
    cluster.apply({"apiVersion": "lakeserve.dev/v1alpha1", "kind": "ServingEndpoint",
                   "metadata": {"name": name},
                   "spec": {"config": {
                       "servedEntities": [{"name": "champion",
                                           "entityName": f"Main.E2E.{shouting}",
                                           "entityAlias": "champion", "workloadSize": "Small"}],
                       "autoCaptureConfig": {"catalogName": "Main", "schemaName": "E2E"}}}})
    assert_zero_writes_over_three_drift_passes(cluster, workspace, name, poll)


@pytest.mark.emulator_only("counts telemetry patches in the call log")
def test_telemetry_tables_are_applied_once_and_then_cost_zero_writes(cluster, workspace, model,
                                                                     poll):
    """Databricks makes a telemetry profile of the tables and returns only its id: the operator
    remembers what it applied instead of patching on every pass."""
    workspace.require_emulator()
    name = "drift-telemetry"
    manifest = {"apiVersion": "lakeserve.dev/v1alpha1", "kind": "ServingEndpoint",
                "metadata": {"name": name},
                "spec": {"config": {"servedEntities": [
                    {"entityName": model, "entityVersion": "1", "workloadSize": "Small"}]},
                    "telemetryConfig": {"tableNames": {"logsTable": "main.e2e.ep_logs",
                                                       "tracesTable": "main.e2e.ep_traces"},
                                        "inferenceTableConfig": {"samplingFraction": 0.5}}}}
    since = workspace.last_seq()
    cluster.apply(manifest)
    body = cluster.wait("servingendpoint", name)
    profile = workspace.client.serving_endpoints.get(name).telemetry_config.telemetry_profile_id
    assert profile and body["status"]["telemetryProfileId"] == profile
    path = f"PATCH /api/2.0/serving-endpoints/{name}/telemetry-config"
    assert workspace.count(path, since) == 1
    assert_zero_writes_over_three_drift_passes(cluster, workspace, name, poll)
    since = workspace.last_seq()
    manifest["spec"]["telemetryConfig"]["inferenceTableConfig"]["samplingFraction"] = 1.0
    cluster.apply(manifest)
    poll(lambda: cluster.get("servingendpoint", name)["status"]["telemetryProfileId"] != profile,
         timeout=30, message="the new telemetry config to be applied")
    cluster.wait("servingendpoint", name)
    assert workspace.count(path, since) == 1
