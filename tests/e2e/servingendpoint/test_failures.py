"""A failed update stalls with the reason, keeps serving the old config, and a fix recovers."""

from __future__ import annotations

import uuid

import pytest

from lakeserve.reconcile import reasons

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


def endpoint(name, model, version):
    return {"apiVersion": "lakeserve.dev/v1alpha1", "kind": "ServingEndpoint",
            "metadata": {"name": name},
            "spec": {"config": {"servedEntities": [
                {"name": "main", "entityName": model, "entityVersion": str(version),
                 "workloadSize": "Small"}]}}}


@pytest.mark.produces(reasons.UPDATE_FAILED)
def test_update_failed_stalls_then_a_corrected_spec_is_applied(cluster, workspace, models,
                                                                poll):
    emulator = workspace.require_emulator()
    model = f"main.e2e.failing_{uuid.uuid4().hex[:6]}"
    for _ in range(3):
        models.register(model)
    emulator.control("POST", "/_emulator/serving/deployment-failures", {
        "entity_name": model, "entity_version": "2",
        "message": "Container build failed: No module named 'xgboost'"})
    name = "failing-update"
    cluster.apply(endpoint(name, model, 1))
    cluster.wait("servingendpoint", name)
    since = workspace.last_seq()
    cluster.apply(endpoint(name, model, 2))
    body = cluster.wait("servingendpoint", name, condition="Stalled")
    stalled = next(c for c in body["status"]["conditions"] if c["type"] == "Stalled")
    assert stalled["reason"] == "UpdateFailed"
    assert "main (" in stalled["message"] and "No module named 'xgboost'" in stalled["message"]
    status = body["status"]
    assert status["lastAppliedConfig"]["servedEntities"][0]["entityVersion"] == "2"
    assert status["servedEntities"][0]["entityVersion"] == "1", "the old config keeps serving"
    assert status["state"]["configUpdate"] == "UPDATE_FAILED"
    # Stalled means no retry of the same failing config
    puts = workspace.count(f"PUT /api/2.0/serving-endpoints/{name}/config", since)
    assert puts == 1
    cluster.apply(endpoint(name, model, 3))
    body = cluster.wait("servingendpoint", name)
    assert body["status"]["servedEntities"][0]["entityVersion"] == "3"


def test_missing_model_version_stalls_without_a_retry_storm(cluster, workspace, models, poll):
    model = f"main.e2e.missing_{uuid.uuid4().hex[:6]}"
    models.register(model)
    name = "missing-version"
    since = workspace.last_seq()
    cluster.apply(endpoint(name, model, 7))
    body = cluster.wait("servingendpoint", name, condition="Stalled")
    stalled = next(c for c in body["status"]["conditions"] if c["type"] == "Stalled")
    assert stalled["reason"] == "NotFound" and "7" in stalled["message"]
    # each pass after that is one read and one attempt, a drift interval (4 s) apart
    stalled_at = workspace.last_seq()
    poll(lambda: sum(1 for c in workspace.calls(stalled_at)["calls"]
                     if c["path"] == f"/api/2.0/serving-endpoints/{name}") >= 2,
         timeout=30, message="two more passes")
    calls = workspace.calls(stalled_at)["calls"]
    attempts = [c["time"] for c in calls if c["method"] == "POST"
                and c["path"] == "/api/2.0/serving-endpoints"]
    assert len(attempts) <= 2
    assert all(b - a >= 3 for a, b in zip(attempts, attempts[1:])), "attempts a drift apart"
