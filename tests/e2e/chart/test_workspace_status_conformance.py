"""What Argo CD (the chart's Lua health checks) and kstatus make of real Workspaces and of an
object waiting for its workspace, as the session's operator left them on the API server:

  object                                   Argo CD       kstatus
  Workspace whose credentials work         Healthy       Current
  Workspace without its Secret             Degraded      Failed
  ServingEndpoint waiting for that one     Progressing   InProgress
"""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.chart.conftest import run_health_check
from tests.e2e.conftest import E2E_PREFIX, Cluster

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

API = "lakeserve.dev/v1alpha1"


@pytest.fixture(scope="module")
def found(kubectl, operator, workspace, namespaces_module) -> dict[str, dict]:
    cluster = namespaces_module
    cluster.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"},
                   "stringData": {"DATABRICKS_TOKEN": workspace.token}})
    for name, secret in (("works", "creds"), ("broken", "missing")):
        cluster.apply({"apiVersion": API, "kind": "Workspace", "metadata": {"name": name},
                       "spec": {"host": workspace.host, "credentialsSecretRef": {"name": secret}}})
    cluster.apply({"apiVersion": API, "kind": "ServingEndpoint", "metadata": {"name": "waiting"},
                   "spec": {"workspaceRef": {"name": "broken"}, "config": {"servedEntities": [
                       {"entityName": "main.e2e.never", "entityVersion": "1"}]}}})
    return {"ready": cluster.wait("workspace", "works"),
            "stalled": cluster.wait("workspace", "broken", condition="Stalled"),
            "waiting": cluster.wait("servingendpoint", "waiting", condition="Reconciling")}


@pytest.fixture(scope="module")
def namespaces_module(kubectl, crds, run_record):
    namespace = f"{E2E_PREFIX}{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", namespace)
    yield Cluster(kubectl, namespace)
    run_record.snapshot(namespace)
    kubectl("delete", "namespace", namespace, "--wait=false", check=False)


CASES = [
    ("ready", "Healthy", "Current", "(workspace {workspace_id})"),
    ("stalled", "Degraded", "Failed", "CredentialsNotFound: the credentials Secret"),
    ("waiting", "Progressing", "InProgress", "WaitingForWorkspace: Workspace"),
]


@pytest.mark.parametrize("state, health, verdict, words", CASES, ids=[c[0] for c in CASES])
def test_argocd_and_kstatus_read_workspace_states(found, workspace, kstatus, state, health,
                                                  verdict, words):
    words = words.format(workspace_id=workspace.client.get_workspace_id())
    result = run_health_check(found[state])
    assert (result["status"], words in result["message"]) == (health, True), result
    (computed,) = kstatus(found[state])
    assert computed["status"] == verdict, computed
