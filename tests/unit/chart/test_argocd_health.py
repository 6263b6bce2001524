"""The Argo CD health checks (charts/lakeserve/health/*.lua), run with Lua 5.1 as Argo CD does.

Argo CD's contract: the script sees the object as the global ``obj`` and returns a table with
``status`` (Healthy / Progressing / Degraded / …) and ``message``. docs/argocd.md carries the
same scripts as an argocd-cm snippet; a test below keeps the two identical.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml
from lupa import lua51

from lakeserve.reconcile.conditions import Phase, Verdict, build_conditions

pytestmark = pytest.mark.timeout(30)

REPO = Path(__file__).resolve().parents[3]
HEALTH = REPO / "charts" / "lakeserve" / "health"
KINDS = ("ServingEndpoint", "OnlineTable", "FeatureFunction", "FeatureSpec", "Workspace",
         "ClusterWorkspace")
T0 = "2026-01-01T00:00:00Z"


def run_health(kind: str, obj: dict) -> dict:
    runtime = lua51.LuaRuntime()
    # Argo CD's sandbox has no os/io; make sure the scripts do not rely on them.
    runtime.execute("os = nil; io = nil; require = nil; dofile = nil; loadfile = nil")
    runtime.globals().obj = runtime.table_from(obj, recursive=True)
    result = runtime.execute((HEALTH / f"{kind.lower()}.lua").read_text())
    return dict(result)


def conditions(phase: Phase, reason: str, message: str, generation: int = 1) -> list[dict]:
    """The three conditions exactly as the operator builds them."""
    return build_conditions(Verdict(phase, reason, message), generation, None, now=T0)


def body(kind: str, generation: int = 1, status: dict | None = None, **metadata) -> dict:
    obj = {"apiVersion": "lakeserve.dev/v1alpha1", "kind": kind,
           "metadata": {"name": "x", "namespace": "ns", "generation": generation, **metadata},
           "spec": {}}
    if status is not None:
        obj["status"] = status
    return obj


READY = {"observedGeneration": 1,
         "conditions": conditions(Phase.READY, "Ready", "Databricks matches the spec")}
RECONCILING = {"observedGeneration": 1, "conditions": conditions(
    Phase.RECONCILING, "WaitingForDatabricks", "endpoint state NOT_READY / IN_PROGRESS")}
STALLED = {"observedGeneration": 1, "conditions": conditions(
    Phase.STALLED, "Rejected", "Served model main.m version 99 does not exist.")}
PAUSED = {"observedGeneration": 1, "conditions": conditions(
    Phase.PAUSED, "Paused", 'lakeserve.dev/paused is "true": no calls')}
NOT_OURS = {"observedGeneration": 1, "conditions": conditions(
    Phase.STALLED, "AlreadyExists", "churn-prod already exists in Databricks")}

# (why, object, expected status, a piece of the expected message)
CASES = [
    ("no status yet: the operator has not seen it", body("{kind}"), "Progressing",
     "waiting for the operator"),
    ("a status without conditions (e.g. a schema default)",
     body("{kind}", status={"observedGeneration": 0}), "Progressing", "waiting for the operator"),
    ("status of an older generation, although it says Ready", body("{kind}", 2, READY),
     "Progressing", "observe generation 2 (status is of generation 1)"),
    ("conditions but no observedGeneration at all",
     body("{kind}", 1, {"conditions": READY["conditions"]}), "Progressing",
     "waiting for the operator to observe generation 1"),
    ("Stalled=True is Degraded with reason and message", body("{kind}", 1, STALLED), "Degraded",
     "Rejected: Served model main.m version 99 does not exist."),
    ("Ready=True is Healthy", body("{kind}", 1, READY), "Healthy", "Databricks matches the spec"),
    ("paused is Suspended, Argo CD's word for it", body("{kind}", 1, PAUSED), "Suspended",
     'Paused: lakeserve.dev/paused is "true"'),
    ("paused but not yet acknowledged for this generation", body("{kind}", 2, PAUSED),
     "Progressing", "observe generation 2"),
    ("someone else's object of the same name is Degraded", body("{kind}", 1, NOT_OURS),
     "Degraded", "AlreadyExists: churn-prod already exists"),
    ("Reconciling=True is Progressing with reason and message", body("{kind}", 1, RECONCILING),
     "Progressing", "WaitingForDatabricks: endpoint state NOT_READY / IN_PROGRESS"),
    ("being deleted, even when Ready", body("{kind}", 1, READY, deletionTimestamp=T0),
     "Progressing", "being deleted"),
    ("being deleted, even when Stalled", body("{kind}", 1, STALLED, deletionTimestamp=T0),
     "Progressing", "being deleted"),
    ("no condition True (should not happen): still Progressing, never Healthy",
     body("{kind}", 1, {"observedGeneration": 1, "conditions": [
         {"type": "Ready", "status": "False", "reason": "Creating", "message": ""}]}),
     "Progressing", "waiting for the operator to report"),
    ("Stalled wins over a stale Ready=True", body("{kind}", 1, {"observedGeneration": 1,
     "conditions": [{"type": "Ready", "status": "True", "reason": "Ready"},
                    {"type": "Stalled", "status": "True", "reason": "UpdateFailed",
                     "message": "update failed"}]}), "Degraded", "UpdateFailed: update failed"),
    ("a Stalled condition without message keeps the reason", body("{kind}", 1, {
        "observedGeneration": 1, "conditions": [{"type": "Stalled", "status": "True",
                                                 "reason": "CredentialsNotFound"}]}),
     "Degraded", "CredentialsNotFound"),
]


def _instantiate(obj: dict, kind: str) -> dict:
    obj = copy.deepcopy(obj)
    obj["kind"] = kind
    return obj


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("why, obj, status, message", CASES, ids=[c[0] for c in CASES])
def test_health(kind, why, obj, status, message):
    result = run_health(kind, _instantiate(obj, kind))
    assert result["status"] == status, (why, result)
    assert message in result["message"], (why, result)


@pytest.mark.parametrize("kind, status, detail", [
    ("ServingEndpoint", {"url": "https://w/serving-endpoints/x/invocations"},
     "(https://w/serving-endpoints/x/invocations)"),
    ("OnlineTable", {"detailedState": "ONLINE_NO_PENDING_UPDATE", "syncedRowCount": 1200},
     "(ONLINE_NO_PENDING_UPDATE, 1200 rows synced)"),
    ("FeatureFunction", {"fullName": "main.fs.distance"}, "(main.fs.distance)"),
    ("FeatureSpec", {"fullName": "main.fs.churn_features"}, "(main.fs.churn_features)"),
    ("Workspace", {"workspaceId": "1234"}, "(workspace 1234)"),
    ("ClusterWorkspace", {"workspaceId": "5678"}, "(workspace 5678)"),
], ids=["endpoint-url", "table-state-and-rows", "function-name", "spec-name", "workspace-id",
        "cluster-workspace-id"])
def test_healthy_message_names_the_key_fact(kind, status, detail):
    result = run_health(kind, body(kind, 1, {**READY, **status}))
    assert result == {"status": "Healthy", "message": f"Databricks matches the spec {detail}"}


def test_every_kind_has_a_script_and_nothing_else_is_there():
    assert sorted(p.name for p in HEALTH.iterdir()) == sorted(f"{k.lower()}.lua" for k in KINDS)


def _argocd_snippet() -> dict:
    text = (REPO / "docs" / "argocd.md").read_text()
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", text, re.S)]
    configmaps = [b for b in blocks if isinstance(b, dict) and b.get("kind") == "ConfigMap"
                  and b["metadata"]["name"] == "argocd-cm"]
    assert len(configmaps) == 1, "docs/argocd.md has one argocd-cm snippet"
    return configmaps[0]["data"]


@pytest.mark.parametrize("kind", KINDS)
def test_the_argocd_cm_snippet_carries_the_same_script(kind):
    data = _argocd_snippet()
    key = f"resource.customizations.health.lakeserve.dev_{kind}"
    assert key in data, f"docs/argocd.md lacks {key}"
    assert data[key] == (HEALTH / f"{kind.lower()}.lua").read_text(), (
        f"docs/argocd.md's {key} differs from charts/lakeserve/health/{kind.lower()}.lua")


def test_the_snippet_has_no_other_health_keys():
    keys = {k for k in _argocd_snippet() if k.startswith("resource.customizations.health.")}
    assert keys == {f"resource.customizations.health.lakeserve.dev_{k}" for k in KINDS}


def test_shipped_scripts_are_generated_from_the_one_template():
    from lakeserve.argocd import render_all

    shipped = {p.name: p.read_text() for p in HEALTH.glob("*.lua")}
    assert shipped == render_all(), "stale: run `make crds` (lakeserve argocd-health)"
