"""RBAC proof: the operator runs with nothing but the chart's ServiceAccount token.

The chart is rendered with one watched namespace and applied; a token for its ServiceAccount is
minted with the TokenRequest API (`kubectl create token`) and written into a kubeconfig of its
own; the operator runs on it with exactly the Deployment's --namespace arguments and
LAKESERVE_CREDENTIALS_SECRET. Its environment gets a wrong DATABRICKS_HOST and token, so Ready
proves the credentials came from the Secret.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from lakeserve.operator_process import OperatorProcess
from tests.e2e.chart.conftest import (
    container_env,
    deployment_namespaces,
    find,
    manifest_text,
    service_account_kubeconfig,
)
from tests.e2e.conftest import OPERATOR_SETTINGS, Cluster

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(150)]

PREFIX = "rbac-"
# Where the operator would go if it used its environment instead of the Secret: nowhere.
WRONG_HOST, WRONG_TOKEN = "http://127.0.0.1:9", "not-the-token"
FORBIDDEN = re.compile(r"\b403\b|Forbidden|forbidden")


@dataclass
class ChartOperator:
    process: OperatorProcess
    cluster: Cluster  # the watched namespace, through the admin kubectl
    release_namespace: str
    objects: list[dict]

    def log(self) -> str:
        return self.process.log_path.read_text(errors="replace")


@pytest.fixture
def model(models, workspace):
    name = workspace.names.model(f"rbac_{uuid.uuid4().hex[:6]}")
    models.register(name)
    return name


@pytest.fixture
def chart_operator(helm, kubectl, kubeconfig, workspace, crds, namespaces, release_namespace,
                   cluster_scoped_cleanup, tmp_path) -> Callable[..., ChartOperator]:
    """Install the chart's RBAC for one watched namespace and run the operator with its token.

    ``edit(objects)`` may change the rendered manifests before they are applied;
    ``secret=False`` leaves the credentials Secret uncreated.
    """
    started: list[OperatorProcess] = []

    def start(edit: Callable[[list[dict]], None] | None = None,
              secret: bool = True) -> ChartOperator:
        cluster = namespaces(PREFIX)
        release = f"r{uuid.uuid4().hex[:6]}"
        objects = helm.render({"watchNamespaces": [cluster.namespace]}, release=release,
                              namespace=release_namespace)
        cluster_scoped_cleanup(objects)
        if edit:
            edit(objects)
        kubectl("apply", "--server-side", "-f", "-", input=manifest_text(objects))
        if secret:
            create_credentials_secret(kubectl, release_namespace, workspace)
        service_account = find(objects, "ServiceAccount")["metadata"]["name"]
        token = kubectl("create", "token", service_account, "-n", release_namespace,
                        "--duration=1h").stdout.strip()
        config = service_account_kubeconfig(kubeconfig, token, tmp_path / f"{release}.kubeconfig")
        env = container_env(objects)
        process = OperatorProcess(
            str(config), WRONG_HOST, WRONG_TOKEN, tmp_path / f"{release}-operator.log",
            settings={**OPERATOR_SETTINGS, "log_format": env["LAKESERVE_LOG_FORMAT"]},
            extra_env={"LAKESERVE_CREDENTIALS_SECRET": env["LAKESERVE_CREDENTIALS_SECRET"]},
            namespaces=deployment_namespaces(objects))
        started.append(process)
        process.start()
        return ChartOperator(process, cluster, release_namespace, objects)

    yield start
    for process in started:
        process.stop()
        print(f"\noperator log: {process.log_path}")


def create_credentials_secret(kubectl, namespace: str, workspace, name: str = "databricks"):
    kubectl("create", "secret", "generic", name, "-n", namespace,
            f"--from-literal=DATABRICKS_HOST={workspace.host}",
            f"--from-literal=DATABRICKS_TOKEN={workspace.token}")


def endpoint(name: str, model: str) -> dict:
    return {"apiVersion": "lakeserve.dev/v1alpha1", "kind": "ServingEndpoint",
            "metadata": {"name": name},
            "spec": {"config": {"servedEntities": [
                {"entityName": model, "entityVersion": "1", "workloadSize": "Small",
                 "scaleToZeroEnabled": True}]}}}


def endpoint_names(workspace) -> set[str]:
    return {e.name for e in workspace.client.serving_endpoints.list()}


def drop_rule(resource: str) -> Callable[[list[dict]], None]:
    """An edit removing ``resource`` from the watched namespace's Role (the rule goes if empty)."""
    def edit(objects: list[dict]) -> None:
        role = next(o for o in objects if o["kind"] == "Role"
                    and not o["metadata"]["name"].endswith("-credentials"))
        before = len(role["rules"])
        role["rules"] = [r for r in role["rules"] if resource not in r["resources"]]
        assert len(role["rules"]) == before - 1, f"no rule for {resource} to drop"
    return edit


def assert_only_the_service_account_token(operator: ChartOperator, kubectl) -> None:
    """The proof is only a proof if the operator had no other identity: check its kubeconfig."""
    config = yaml.safe_load(Path(operator.process.kubeconfig).read_text())
    (user,) = config["users"]
    assert list(user["user"]) == ["token"], "a token and nothing else (no client certificate)"
    token = user["user"]["token"]
    claims = token.split(".")[1]
    subject = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["sub"]
    service_account = find(operator.objects, "ServiceAccount")["metadata"]["name"]
    assert subject == f"system:serviceaccount:{operator.release_namespace}:{service_account}"
    who = kubectl("auth", "whoami", f"--token={token}", "-o",
                  "jsonpath={.status.userInfo.username}")
    assert who.stdout == subject


def test_a_lifecycle_with_only_the_charts_permissions(chart_operator, kubectl, workspace, model):
    operator = chart_operator()
    assert_only_the_service_account_token(operator, kubectl)
    cluster = operator.cluster
    name = workspace.names.endpoint(f"{cluster.namespace}-ep")
    cluster.apply(endpoint(name, model))
    body = cluster.wait("servingendpoint", name, timeout=60)
    assert body["status"]["url"] == f"{workspace.host}/serving-endpoints/{name}/invocations", \
        "the workspace of the Secret, not the environment's"
    assert name in endpoint_names(workspace)
    assert "Created" in cluster.event_reasons(name), "events are posted with the chart's rights"
    cluster.delete("servingendpoint", name)
    assert cluster.get("servingendpoint", name) is None
    assert name not in endpoint_names(workspace)
    log = operator.log()
    assert not FORBIDDEN.search(log), f"a request was refused:\n{operator.process.log_tail()}"
    assert "Not enough permissions" not in log
    assert operator.process.running()


def test_without_the_status_rule_nothing_becomes_ready_and_the_log_shows_403(
        chart_operator, workspace, model, poll):
    operator = chart_operator(edit=drop_rule("servingendpoints/status"))
    cluster = operator.cluster
    name = workspace.names.endpoint(f"{cluster.namespace}-nostatus")
    cluster.apply(endpoint(name, model))

    def refusals() -> int:
        return len(re.findall(r'cannot patch resource "servingendpoints/status"',
                              operator.log()))

    poll(refusals, timeout=30, message="the status patch to be refused in the operator's log")
    assert "403 Forbidden: servingendpoints.lakeserve.dev" in operator.log()
    # The operator did its Databricks work: the endpoint exists and is READY…
    poll(lambda: name in endpoint_names(workspace) and workspace.client.serving_endpoints.get(
        name).state.ready.value == "READY", timeout=30, message="the endpoint to be READY")
    # …and tried to say so twice more after that, and was refused both times.
    seen = refusals()
    poll(lambda: refusals() >= seen + 2, timeout=40, message="two more refused status patches")
    # (The create went out without a record in status: an endpoint's owner tag marks it as this
    # resource's, so nothing is orphaned or created twice.)
    assert [e.name for e in workspace.client.serving_endpoints.list()].count(name) == 1
    body = cluster.get("servingendpoint", name)
    assert not (body.get("status") or {}).get("conditions"), body.get("status")
    assert operator.process.running()


def test_without_the_events_rule_the_log_shows_the_refused_events(chart_operator, workspace,
                                                                  model, poll):
    # Events are auxiliary: the object still becomes Ready, but not silently.
    operator = chart_operator(edit=drop_rule("events"))
    cluster = operator.cluster
    name = workspace.names.endpoint(f"{cluster.namespace}-noevents")
    cluster.apply(endpoint(name, model))
    cluster.wait("servingendpoint", name, timeout=60)
    refused = poll(lambda: re.search(r"could not post the event Created about ServingEndpoint "
                                     rf"{cluster.namespace}/{name}: 403 Forbidden: events is "
                                     r"forbidden.*cannot create resource.*", operator.log()),
                   timeout=30, message="the operator's log of the refused event")
    assert f'in the namespace "{cluster.namespace}"' in refused[0]
    assert cluster.events(name) == []


def test_a_missing_secret_stalls_the_objects_not_the_operator(chart_operator, kubectl, workspace,
                                                              model):
    operator = chart_operator(secret=False)
    cluster = operator.cluster
    name = workspace.names.endpoint(f"{cluster.namespace}-nocreds")
    cluster.apply(endpoint(name, model))
    body = cluster.wait("servingendpoint", name, condition="Stalled", timeout=60)
    stalled = next(c for c in body["status"]["conditions"] if c["type"] == "Stalled")
    assert stalled["reason"] == "CredentialsNotFound"
    assert f"{operator.release_namespace}/databricks does not exist" in stalled["message"]
    assert operator.process.running(), "no crash loop"
    with urllib.request.urlopen(operator.process.liveness_url, timeout=5) as response:
        assert response.status == 200
    assert name not in endpoint_names(workspace)
    # Creating the Secret is enough: no restart.
    create_credentials_secret(kubectl, operator.release_namespace, workspace)
    cluster.wait("servingendpoint", name, timeout=60)
    assert operator.process.running()
