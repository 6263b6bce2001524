"""Faults on the Kubernetes side: the API server restarts, the credentials Secret goes away and
comes back, a dependency is deleted. Databricks objects stay untouched meanwhile."""

from __future__ import annotations

import uuid

import pytest

from lakeserve.operator_process import OperatorProcess
from lakeserve.reconcile import reasons
from tests.e2e.conftest import OPERATOR_SETTINGS
from tests.e2e.faults.conftest import EndpointScenario

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180),
              pytest.mark.emulator_only("the fault matrix counts calls in the call log")]


def reason(body) -> str:
    return next(c["reason"] for c in body["status"]["conditions"] if c["type"] == "Ready")


def test_kube_apiserver_restart(scenario, dev_cluster, fault_operator, figures, poll):
    if dev_cluster is None:
        pytest.skip("restarts the session's own control plane")
    scenario.apply(1)
    scenario.ready()
    dev_cluster.restart_apiserver()
    scenario.apply(2)  # a change made right after the restart reaches the operator's new watch
    poll(lambda: scenario.served_version() == "2", timeout=90, message="version 2 served")
    body = scenario.ready()
    assert body["status"]["observedGeneration"] == 2
    assert fault_operator.process.running()
    assert len(scenario.committed_writes("PUT")) == 1
    scenario.finish(figures, "kube-apiserver restart")


@pytest.mark.produces(reasons.WAITING_FOR_DEPENDENCIES)
def test_a_dependency_deleted_holds_the_endpoint_without_writes(scenario, figures, poll):
    function = {"apiVersion": "lakeserve.dev/v1alpha1", "kind": "FeatureFunction",
                "metadata": {"name": "fn"},
                "spec": {"catalog": "main", "schema": "default",
                         "name": f"dep_{uuid.uuid4().hex[:8]}",
                         "parameters": [{"name": "x", "type": "DOUBLE"}], "returns": "DOUBLE",
                         "body": "return x\n"}}
    scenario.cluster.apply(function)
    scenario.cluster.wait("featurefunction", "fn")
    manifest = scenario.manifest()
    manifest["spec"]["dependsOn"] = [{"kind": "FeatureFunction", "name": "fn"}]
    scenario.cluster.apply(manifest)
    scenario.ready()
    writes = len(scenario.writes())
    scenario.cluster.delete("featurefunction", "fn")
    body = poll(lambda: (lambda b: b if reason(b) == "WaitingForDependencies" else None)(
        scenario.cluster.get("servingendpoint", "ep")), timeout=30,
        message="the endpoint to wait for its dependency")
    assert "FeatureFunction/fn (not found" in next(
        c["message"] for c in body["status"]["conditions"] if c["type"] == "Reconciling")
    assert scenario.workspace.client.serving_endpoints.get(scenario.name).state.ready.value \
        == "READY", "the endpoint keeps serving"
    scenario.cluster.apply(function)
    scenario.ready(timeout=60)
    assert len(scenario.writes()) == writes, "no write to the endpoint meanwhile"
    scenario.finish(figures, "a dependency deleted and restored")


SECRET_PREFIX = "cred-"


@pytest.mark.produces(reasons.CREDENTIALS_NOT_FOUND)
def test_the_credentials_secret_deleted_and_restored(kubeconfig, workspace, crds, namespaces,
                                                     model, figures, poll, tmp_path):
    workspace.require_emulator()
    cluster = namespaces(SECRET_PREFIX)
    secret = ["secret", "generic", "databricks", "-n", cluster.namespace,
              f"--from-literal=DATABRICKS_HOST={workspace.host}",
              f"--from-literal=DATABRICKS_TOKEN={workspace.token}"]
    cluster.kubectl("create", *secret)
    settings = {**OPERATOR_SETTINGS, "credentials_secret": f"{cluster.namespace}/databricks",
                "secret_refresh": "1"}
    with OperatorProcess(kubeconfig, "http://127.0.0.1:9", "not-the-token",
                         tmp_path / "operator.log", settings=settings,
                         namespaces=[f"{SECRET_PREFIX}*"]):
        scenario = EndpointScenario(cluster, workspace, model, poll)
        scenario.apply()
        scenario.ready()
        writes = len(scenario.writes())
        cluster.kubectl("delete", "secret", "databricks", "-n", cluster.namespace)
        body = cluster.wait("servingendpoint", "ep", condition="Stalled", timeout=30)
        assert reason(body) == "CredentialsNotFound"
        cluster.kubectl("create", *secret)
        scenario.ready(timeout=60)
        assert len(scenario.writes()) == writes, "nothing was written to the endpoint"
        scenario.finish(figures, "credentials Secret deleted and restored")
