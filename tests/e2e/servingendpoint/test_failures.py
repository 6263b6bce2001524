"""A failed update stalls with the reason, keeps serving the old config, and a fix recovers."""

from __future__ import annotations

import uuid

import pytest

from lakeserve.emulator.settings import FIDELITY_CHOICES
from lakeserve.reconcile import reasons
from tests.e2e.conftest import gaps_text

PENDING_AFTER_FAILURE = FIDELITY_CHOICES["failed_update_pending_config"]

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180),
              pytest.mark.emulator_only("makes deployments fail; counts retries in the call log")]

REFUSED_BACKOFF = 2  # OPERATOR_SETTINGS in conftest


def endpoint(name, model, version):
    return {"apiVersion": "lakeserve.dev/v1alpha1", "kind": "ServingEndpoint",
            "metadata": {"name": name},
            "spec": {"config": {"servedEntities": [
                {"name": "main", "entityName": model, "entityVersion": str(version),
                 "workloadSize": "Small"}]}}}


@pytest.mark.produces(reasons.UPDATE_FAILED)
@pytest.mark.parametrize("pending", PENDING_AFTER_FAILURE)
def test_update_failed_stalls_then_a_corrected_spec_is_applied(cluster, workspace, models,
                                                                workspace_settings, poll,
                                                                figures, pending):
    """Whether or not the workspace keeps showing the failed config, it is not sent again."""
    emulator = workspace.require_emulator()
    workspace_settings(failed_update_pending_config=pending)
    model = f"main.e2e.failing_{uuid.uuid4().hex[:6]}"
    for _ in range(3):
        models.register(model)
    emulator.control("POST", "/_emulator/serving/deployment-failures", {
        "entity_name": model, "entity_version": "2",
        "message": "Container build failed: No module named 'xgboost'"})
    name = f"failing-update-{pending}"
    cluster.apply(endpoint(name, model, 1))
    cluster.wait("servingendpoint", name)
    since = workspace.last_seq()
    cluster.apply(endpoint(name, model, 2))
    body = cluster.wait("servingendpoint", name, condition="Stalled")
    stalled = next(c for c in body["status"]["conditions"] if c["type"] == "Stalled")
    assert stalled["reason"] == "UpdateFailed"
    if pending == "keep":  # the entity's deployment message is only there to read then
        assert "main (" in stalled["message"] and "No module named 'xgboost'" in \
            stalled["message"]
    assert "still serving config version 1" in stalled["message"]
    status = body["status"]
    assert status["lastAppliedConfig"]["servedEntities"][0]["entityVersion"] == "2"
    assert status["servedEntities"][0]["entityVersion"] == "1", "the old config keeps serving"
    assert status["state"]["configUpdate"] == "UPDATE_FAILED"
    # Stalled means no retry of the same failing config, over two more passes either
    stalled_at = workspace.last_seq()
    poll(lambda: reads(workspace, name, stalled_at) >= 2, timeout=30, message="two more passes")
    puts = workspace.count(f"PUT /api/2.0/serving-endpoints/{name}/config", since)
    assert puts == 1
    cluster.apply(endpoint(name, model, 3))
    body = cluster.wait("servingendpoint", name)
    assert body["status"]["servedEntities"][0]["entityVersion"] == "3"
    puts = workspace.count(f"PUT /api/2.0/serving-endpoints/{name}/config", since)
    label = f"UPDATE_FAILED (a served entity fails to deploy; pending_config {pending})"
    figures.record(label, **{
        "end state": "Stalled, then Ready after a fix", "creates committed": 1,
        "duplicates": 0, "writes": puts,
        "notes": "one update of the failing config, none retried; the old config kept serving"})


def reads(workspace, name, since):
    return sum(1 for c in workspace.calls(since)["calls"]
               if c["method"] == "GET" and c["path"] == f"/api/2.0/serving-endpoints/{name}")


@pytest.mark.produces(reasons.UPDATE_FAILED)
@pytest.mark.parametrize("pending", PENDING_AFTER_FAILURE)
def test_failed_creation_stalls_without_a_retry_storm(cluster, workspace, models,
                                                      workspace_settings, poll, pending):
    emulator = workspace.require_emulator()
    workspace_settings(failed_update_pending_config=pending)
    model = f"main.e2e.failing_first_{uuid.uuid4().hex[:6]}"
    models.register(model)
    emulator.control("POST", "/_emulator/serving/deployment-failures", {
        "entity_name": model, "entity_version": "1", "message": "Image build failed"})
    name = f"failing-create-{pending}"
    since = workspace.last_seq()
    cluster.apply(endpoint(name, model, 1))
    body = cluster.wait("servingendpoint", name, condition="Stalled")
    stalled = next(c for c in body["status"]["conditions"] if c["type"] == "Stalled")
    assert stalled["reason"] == "UpdateFailed" and "serves nothing" in stalled["message"]
    stalled_at = workspace.last_seq()
    poll(lambda: reads(workspace, name, stalled_at) >= 2, timeout=30, message="two more passes")
    writes = [c for c in workspace.calls(since)["calls"] if c["method"] != "GET"
              and f"/serving-endpoints/{name}" in c["path"]]
    assert writes == [] and len(creates(workspace, name, since)) == 1, "one create, no retry"


def ready_reason(body):
    return next(c["reason"] for c in body["status"]["conditions"] if c["type"] == "Ready")


def creates(workspace, name, since):
    """Times of the create requests for endpoint ``name`` since ``since``."""
    return [c["time"] for c in workspace.calls(since)["calls"]
            if c["method"] == "POST" and c["path"] == "/api/2.0/serving-endpoints"
            and (c.get("body") or {}).get("name") == name]


@pytest.mark.produces(reasons.NOT_FOUND, reasons.CREATING)
def test_a_refused_create_backs_off_exponentially_until_something_changes(cluster, workspace,
                                                                          models, poll, figures):
    """Databricks refuses the create (version 7 does not exist): attempts follow the backoff
    (2 s doubling in e2e), never the drift interval, and a change retries at once."""
    model = f"main.e2e.missing_{uuid.uuid4().hex[:6]}"
    models.register(model)
    name = f"{cluster.namespace}-missing"
    since = workspace.last_seq()
    cluster.apply(endpoint(name, model, 7))
    body = cluster.wait("servingendpoint", name, condition="Stalled")
    stalled = next(c for c in body["status"]["conditions"] if c["type"] == "Stalled")
    assert stalled["reason"] == "NotFound" and "7" in stalled["message"]
    assert "next attempt at" in stalled["message"]
    attempts = poll(lambda: (lambda t: t if len(t) >= 4 else None)(creates(workspace, name, since)),
                    timeout=REFUSED_BACKOFF * 20, message="four attempts")
    gaps = [b - a for a, b in zip(attempts, attempts[1:])]
    for i, gap in enumerate(gaps[:3]):
        assert gap >= REFUSED_BACKOFF * 2 ** i * 0.9, f"attempt {i + 2} came early: {gaps}"
    backoff = cluster.get("servingendpoint", name)["status"]["backoff"]
    assert backoff["attempts"] >= 4
    # a lakeserve.dev annotation retries at once, however long the backoff has grown
    before = len(creates(workspace, name, since))
    cluster.kubectl("annotate", "servingendpoint", name, "-n", cluster.namespace,
                    "lakeserve.dev/reconcile-requested-at=now")
    poll(lambda: len(creates(workspace, name, since)) > before, timeout=REFUSED_BACKOFF * 2,
         message="an attempt right after the annotation")
    # so does a spec change, which here fixes the version
    cluster.apply(endpoint(name, model, 1))
    poll(lambda: ready_reason(cluster.get("servingendpoint", name)) == "Creating",
         timeout=REFUSED_BACKOFF * 4, message="the corrected create, at once")
    body = cluster.wait("servingendpoint", name)
    assert "backoff" not in body["status"]
    total = creates(workspace, name, since)
    assert len(total) <= before + 3, f"bounded: {len(total)} creates in all"
    figures.record("create refused (404: model version missing)", **{
        "end state": "Stalled, then Ready after a fix", "creates committed": 1,
        "duplicates": 0, "calls": len(total),
        "notes": f"backoff 2 s doubling: {gaps_text(attempts)}; an annotation and a spec change "
                 "each retried at once"})
