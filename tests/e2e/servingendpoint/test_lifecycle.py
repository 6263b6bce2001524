"""ServingEndpoint on a real API server, the operator as a process, the workspace over HTTP."""

from __future__ import annotations

import pytest

from lakeserve.reconcile import reasons

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

@pytest.fixture(scope="module")
def model(workspace, models):
    """Two READY versions of a UC model."""
    name = workspace.names.model("churn_model")
    for _ in range(2):
        models.register(name)
    return name


def endpoint(name, model, routes=((1, 50), (2, 50)), **spec):
    entities = [{"name": f"v{version}", "entityName": model, "entityVersion": str(version),
                 "workloadSize": "Small", "scaleToZeroEnabled": True} for version, _ in routes]
    return {
        "apiVersion": "lakeserve.dev/v1alpha1", "kind": "ServingEndpoint",
        "metadata": {"name": name},
        "spec": {"config": {"servedEntities": entities, "trafficConfig": {"routes": [
            {"servedEntityName": f"v{version}", "trafficPercentage": pct}
            for version, pct in routes]}}, **spec},
    }


def served_routes(workspace, name):
    config = workspace.client.serving_endpoints.get(name).config
    return sorted((r.served_entity_name, r.traffic_percentage)
                  for r in config.traffic_config.routes)


@pytest.mark.produces(reasons.READY, reasons.CREATED)
def test_apply_becomes_ready_with_status_and_columns(cluster, workspace, model, kubectl):
    name = workspace.names.endpoint("ready")
    cluster.apply(endpoint(name, model))
    body = cluster.wait("servingendpoint", name)
    status = body["status"]
    assert status["observedGeneration"] == body["metadata"]["generation"]
    assert status["state"] == {"ready": "READY", "configUpdate": "NOT_UPDATING"}
    assert status["url"] == f"{workspace.host}/serving-endpoints/{name}/invocations"
    assert status["endpointId"]
    assert {e["name"]: e["deploymentState"] for e in status["servedEntities"]} == {
        "v1": "DEPLOYMENT_READY", "v2": "DEPLOYMENT_READY"}
    assert sorted((r["servedEntityName"], r["trafficPercentage"]) for r in status["routes"]) == [
        ("v1", 50), ("v2", 50)]
    table = kubectl("get", "servingendpoints", "-n", cluster.namespace).stdout
    header = table.splitlines()[0].split()
    assert header == ["NAME", "READY", "REASON", "URL", "AGE"]
    assert "True" in table and "Ready" in table
    assert name in kubectl("get", "lakeserve", "-n", cluster.namespace).stdout
    assert "Created" in cluster.event_reasons(name)


def test_traffic_change_lands_after_the_running_update(cluster, workspace, model, poll):
    name = workspace.names.endpoint("traffic")
    since = workspace.last_seq() if workspace.emulator else 0
    cluster.apply(endpoint(name, model))
    poll(lambda: (cluster.get("servingendpoint", name) or {}).get("status", {}).get("state"),
         message="the endpoint to be created")
    # while the creation is in flight
    cluster.apply(endpoint(name, model, routes=((1, 80), (2, 20))))
    cluster.wait("servingendpoint", name)
    assert served_routes(workspace, name) == [("v1", 80), ("v2", 20)]
    if workspace.emulator:
        calls = workspace.calls(since)["calls"]
        puts = [c for c in calls if c["method"] == "PUT"
                and c["path"].endswith(f"/{name}/config")]
        assert [c["status"] for c in puts] == [200], "one update, sent after the creation ended"


@pytest.mark.emulator_only("slows updates down and counts them in the call log")
def test_changes_during_one_update_collapse_into_one(cluster, workspace, model, poll):
    emulator = workspace.require_emulator()
    name = workspace.names.endpoint("coalesce")
    cluster.apply(endpoint(name, model))
    cluster.wait("servingendpoint", name)
    emulator.control("PUT", "/_emulator/settings", {"serving_update_seconds": 8})
    try:
        since = workspace.last_seq()
        cluster.apply(endpoint(name, model, routes=((1, 70), (2, 30))))
        poll(lambda: workspace.count(f"PUT /api/2.0/serving-endpoints/{name}/config", since),
             message="the first update")
        cluster.apply(endpoint(name, model, routes=((1, 60), (2, 40))))
        cluster.apply(endpoint(name, model, routes=((1, 10), (2, 90))))
        emulator.control("PUT", "/_emulator/settings", {"serving_update_seconds": 1})
        poll(lambda: served_routes(workspace, name) == [("v1", 10), ("v2", 90)], timeout=60,
             message="the last spec to be served")
        cluster.wait("servingendpoint", name)
    finally:
        emulator.control("PUT", "/_emulator/settings", {"serving_update_seconds": 2})
    calls = workspace.calls(since)["calls"]
    puts = [c for c in calls if c["method"] == "PUT" and c["path"].endswith(f"/{name}/config")]
    assert len(puts) == 2, "the second and third change went out as one update"
    assert all(c["status"] == 200 for c in puts), "no update was sent while one was in flight"


@pytest.mark.produces(reasons.DELETED)
def test_delete_removes_the_endpoint(cluster, workspace, model, poll):
    name = workspace.names.endpoint("delete")
    cluster.apply(endpoint(name, model))
    cluster.wait("servingendpoint", name)
    cluster.delete("servingendpoint", name)
    assert cluster.get("servingendpoint", name) is None
    names = {e.name for e in workspace.client.serving_endpoints.list()}
    assert name not in names
    poll(lambda: "Deleted" in cluster.event_reasons(name), message="the Deleted event")


@pytest.mark.produces(reasons.ORPHANED)
def test_orphan_keeps_the_endpoint(cluster, workspace, model, poll):
    name = workspace.names.endpoint("orphan")
    cluster.apply(endpoint(name, model, deletionPolicy="Orphan"))
    cluster.wait("servingendpoint", name)
    cluster.delete("servingendpoint", name)
    assert cluster.get("servingendpoint", name) is None
    assert workspace.client.serving_endpoints.get(name).name == name
    poll(lambda: "Orphaned" in cluster.event_reasons(name), message="the Orphaned event")
    workspace.client.serving_endpoints.delete(name)


def test_workspace_rejection_stalls_then_a_fix_recovers(cluster, workspace, model, poll):
    name = workspace.names.endpoint("rejected")
    since = workspace.last_seq() if workspace.emulator else 0
    cluster.apply(endpoint(name, model, routes=((1, 50), (99, 50))))
    body = cluster.wait("servingendpoint", name, condition="Stalled")
    stalled = next(c for c in body["status"]["conditions"] if c["type"] == "Stalled")
    assert "99" in stalled["message"] and "does not exist" in stalled["message"]
    if workspace.emulator:
        # no hot retry loop: at most one attempt per drift interval (4 s in e2e)
        attempts = workspace.count("POST /api/2.0/serving-endpoints", since)
        assert attempts <= 3
    cluster.apply(endpoint(name, model))
    body = cluster.wait("servingendpoint", name)
    assert body["status"]["observedGeneration"] == 2


def test_invalid_manifest_is_refused_by_the_api_server(cluster):
    result = cluster.apply(endpoint("e2e-invalid", "main.e2e.m", routes=((1, 50), (2, 40))),
                           check=False)
    assert result.returncode != 0
    assert "traffic percentages must add up to 100" in result.stderr
    assert cluster.get("servingendpoint", "e2e-invalid") is None
