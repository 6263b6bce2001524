"""Two tenants on two workspaces in one cluster, with nothing but the chart's RBAC.

The chart is rendered for two watched namespaces (team A and team B) with no default workspace;
the operator runs on a TokenRequest token of its ServiceAccount, exactly as in test_rbac.py.
Workspace A is the session's local workspace (personal access tokens), workspace B a second one
with its own host, token, OAuth client and workspace id (OAuth tokens living a few seconds):

  ClusterWorkspace shared-a  -> A, a token        admits team A and team B
  ClusterWorkspace shared-b  -> B, OAuth M2M      admits team B only
  Workspace team-a/b         -> B, a token        (team A's own)
  Workspace team-b/mine      -> B, a token        (team B's own)

Each workspace's call log shows which objects reached it and as whom; the API server's audit log
shows which Secrets the operator read.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lakeserve.operator_process import OperatorProcess
from lakeserve.reconcile import reasons
from tests.e2e.chart.conftest import (
    container_env,
    deployment_namespaces,
    find,
    manifest_text,
    service_account_kubeconfig,
)
from tests.e2e.conftest import (
    OPERATOR_SETTINGS,
    SECOND_OAUTH_CLIENT,
    SECOND_WORKSPACE_ID,
    Cluster,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180),
              pytest.mark.emulator_only("two local workspaces; calls per principal in the call "
                                         "log")]

API = "lakeserve.dev/v1alpha1"


@dataclass
class Tenancy:
    operator: OperatorProcess
    team_a: Cluster
    team_b: Cluster
    release: str
    run: str  # suffix of this module's cluster-scoped names and namespace labels
    service_account: str
    model: str
    kubectl: object
    created: list[tuple[str, str]] = field(default_factory=list)  # cluster-scoped (kind, name)

    def shared(self, letter: str) -> str:
        return f"shared-{letter}-{self.run}"


def secret(name: str, namespace: str, **data: str) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name,
                                                              "namespace": namespace},
            "stringData": data}


def workspace_object(kind: str, name: str, host: str, secret_name: str, **spec) -> dict:
    return {"apiVersion": API, "kind": kind, "metadata": {"name": name},
            "spec": {"host": host, "credentialsSecretRef": {"name": secret_name}, **spec}}


def endpoint(name: str, model: str, ref: dict | None = None) -> dict:
    spec = {"config": {"servedEntities": [{"entityName": model, "entityVersion": "1",
                                            "workloadSize": "Small",
                                            "scaleToZeroEnabled": True}]}}
    if ref:
        spec["workspaceRef"] = ref
    return {"apiVersion": API, "kind": "ServingEndpoint", "metadata": {"name": name},
            "spec": spec}


def labelled_namespace(kubectl, prefix: str, labels: dict[str, str]) -> Cluster:
    namespace = f"{prefix}{uuid.uuid4().hex[:6]}"
    kubectl("create", "namespace", namespace)
    kubectl("label", "namespace", namespace, *(f"{k}={v}" for k, v in labels.items()))
    return Cluster(kubectl, namespace)


@pytest.fixture(scope="module")
def tenancy(helm, kubectl, kubeconfig, workspace, second_workspace, crds, run_record,
            tmp_path_factory):
    workspace.require_emulator()
    run = uuid.uuid4().hex[:6]
    team_a = labelled_namespace(kubectl, "tenant-a-", {"tenant": "a", "e2e-run": run})
    team_b = labelled_namespace(kubectl, "tenant-b-", {"tenant": "b", "e2e-run": run})
    release = f"lsrel-{run}"
    kubectl("create", "namespace", release)
    model = f"main.e2e.tenancy_{run}"
    for emulator in (workspace.emulator, second_workspace.emulator):
        emulator.control("POST", "/_emulator/registry/model-versions", {"name": model})
    objects = helm.render({"watchNamespaces": [team_a.namespace, team_b.namespace],
                           "databricks": {"defaultWorkspace": False}},
                          release=f"t{run}", namespace=release)
    created = [(o["kind"].lower(), o["metadata"]["name"]) for o in objects
               if o["kind"] in ("ClusterRole", "ClusterRoleBinding")]
    kubectl("apply", "--server-side", "-f", "-", input=manifest_text(objects))
    tenancy = Tenancy(None, team_a, team_b, release, run,
                      find(objects, "ServiceAccount")["metadata"]["name"], model, kubectl,
                      created)
    try:
        _credentials(tenancy, workspace, second_workspace)
        _workspaces(tenancy, workspace, second_workspace)
        tenancy.operator = _operator(tenancy, objects, kubeconfig, tmp_path_factory)
        yield tenancy
    finally:
        if tenancy.operator:
            tenancy.operator.stop()
            print(f"\ntenancy operator log: {tenancy.operator.log_path}")
        _clean_up(tenancy, run_record)


def _credentials(t: Tenancy, a, b) -> None:
    t.team_a.apply(secret("b-token", t.team_a.namespace, DATABRICKS_TOKEN=b.token))
    t.team_b.apply(secret("own-b", t.team_b.namespace, DATABRICKS_TOKEN=b.token))
    # Team B's private Secret: no Workspace of team B names it. Team A will try to.
    t.team_b.apply(secret("b-private", t.team_b.namespace, DATABRICKS_TOKEN=b.token))
    release = Cluster(t.kubectl, t.release)
    release.apply(secret("shared-a", t.release, DATABRICKS_TOKEN=a.token))
    release.apply(secret("shared-b", t.release, DATABRICKS_CLIENT_ID=SECOND_OAUTH_CLIENT,
                         DATABRICKS_CLIENT_SECRET=b.emulator.client_secret))


def _workspaces(t: Tenancy, a, b) -> None:
    run = {"matchLabels": {"e2e-run": t.run}}
    t.team_a.apply(workspace_object("Workspace", "b", b.host, "b-token"))
    t.team_b.apply(workspace_object("Workspace", "mine", b.host, "own-b"))
    for letter, host, admitted in (("a", a.host, ["a", "b"]), ("b", b.host, ["b"])):
        selector = {**run, "matchExpressions": [{"key": "tenant", "operator": "In",
                                                  "values": admitted}]}
        t.team_a.apply(workspace_object("ClusterWorkspace", t.shared(letter), host,
                                        f"shared-{letter}", allowedNamespaces=selector))
        t.created.append(("clusterworkspace", t.shared(letter)))


def _operator(t: Tenancy, objects, kubeconfig, tmp_path_factory) -> OperatorProcess:
    token = t.kubectl("create", "token", t.service_account, "-n", t.release,
                      "--duration=1h").stdout.strip()
    directory = tmp_path_factory.mktemp("tenancy-operator")
    config = service_account_kubeconfig(kubeconfig, token, directory / "sa.kubeconfig",
                                        namespace=t.release)
    env = container_env(objects)
    assert env["LAKESERVE_DEFAULT_WORKSPACE"] == "false"
    settings = {**OPERATOR_SETTINGS, "log_format": env["LAKESERVE_LOG_FORMAT"],
                "default_workspace": "false", "cluster_workspaces": "true",
                "operator_namespace": t.release}  # the Deployment's fieldRef, by hand
    # The environment names no usable workspace: only the objects' workspaces can work.
    return OperatorProcess(str(config), "http://127.0.0.1:9", "not-a-token",
                           directory / "operator.log", settings=settings,
                           namespaces=deployment_namespaces(objects)).start()


def _clean_up(t: Tenancy, run_record) -> None:
    kubectl = t.kubectl
    for namespace in (t.team_a.namespace, t.team_b.namespace, t.release):
        run_record.snapshot(namespace)
    for kind, name in t.created:
        if kind == "clusterworkspace":  # the operator is gone: nobody removes its finalizer
            kubectl("patch", kind, name, "--type=merge", "-p",
                    '{"metadata":{"finalizers":null}}', check=False)
        kubectl("delete", kind, name, "--ignore-not-found", "--wait=false", check=False)
    for cluster in (t.team_a, t.team_b):
        for kind in ("servingendpoints", "workspaces"):
            for name in cluster.kubectl("get", kind, "-n", cluster.namespace, "-o",
                                        "name").stdout.split():
                kubectl("patch", name, "-n", cluster.namespace, "--type=merge", "-p",
                        '{"metadata":{"finalizers":null}}', check=False)
    for namespace in (t.team_a.namespace, t.team_b.namespace, t.release):
        kubectl("delete", "namespace", namespace, "--wait=false", check=False)


# ---- helpers ---------------------------------------------------------------------------------


def created_by(workspace, name: str, since: int = 0) -> list[str | None]:
    """Who sent the creates of endpoint ``name`` to this workspace."""
    return [c["principal"] for c in workspace.calls(since)["calls"]
            if c["method"] == "POST" and c["path"] == "/api/2.0/serving-endpoints"
            and (c.get("body") or {}).get("name") == name]


def mentions(workspace, name: str, since: int) -> list[dict]:
    return [c for c in workspace.calls(since)["calls"] if name in json.dumps(c)]


def condition(body: dict, type_: str) -> dict:
    return next(c for c in body["status"]["conditions"] if c["type"] == type_)


def ready_reason(cluster: Cluster, kind: str, name: str) -> str | None:
    body = cluster.get(kind, name) or {}
    conditions = (body.get("status") or {}).get("conditions")
    return condition(body, "Ready")["reason"] if conditions else None


def observed(kubectl, kind: str, name: str) -> bool:
    """The operator has checked the object's current generation."""
    body = json.loads(kubectl("get", kind, name, "-o", "json").stdout)
    return body.get("status", {}).get("observedGeneration") == body["metadata"]["generation"]


def operator_secret_reads(kubeconfig: str, service_account: str, namespace: str) -> set:
    """(namespace, name) of every Secret the operator's ServiceAccount asked the API server
    for, from the dev cluster's audit log; None without one (an existing cluster)."""
    audit = Path(kubeconfig).parent / "logs" / "audit.log"
    if not audit.exists():
        return None
    user = f"system:serviceaccount:{namespace}:{service_account}"
    reads = set()
    for line in audit.read_text().splitlines():
        event = json.loads(line)
        if event.get("user", {}).get("username") == user:
            ref = event.get("objectRef") or {}
            reads.add((ref.get("namespace"), ref.get("name"), event.get("verb")))
    return reads


# ---- the tests, in order -------------------------------------------------------------------


@pytest.mark.timeout(240)
def test_two_tenants_use_two_workspaces_each_object_where_its_reference_says(
        tenancy, workspace, second_workspace):
    t = tenancy
    a_since, b_since = workspace.last_seq(), second_workspace.last_seq()
    placements = {  # (namespace, endpoint): (workspaceRef, workspace, creator)
        (t.team_a, f"a-on-a-{t.run}"): ({"kind": "ClusterWorkspace", "name": t.shared("a")},
                                        workspace, "emulator-user@lakeserve.dev"),
        (t.team_a, f"a-on-b-{t.run}"): ({"name": "b"}, second_workspace,
                                        "emulator-user@lakeserve.dev"),
        (t.team_b, f"b-on-b-{t.run}"): ({"kind": "ClusterWorkspace", "name": t.shared("b")},
                                        second_workspace, SECOND_OAUTH_CLIENT),
        (t.team_b, f"b-on-a-{t.run}"): ({"kind": "ClusterWorkspace", "name": t.shared("a")},
                                        workspace, "emulator-user@lakeserve.dev"),
    }
    for (cluster, name), (ref, _, _) in placements.items():
        cluster.apply(endpoint(name, t.model, ref))
    for (cluster, name), (ref, target, creator) in placements.items():
        body = cluster.wait("servingendpoint", name, timeout=90)
        assert body["status"]["url"] == f"{target.host}/serving-endpoints/{name}/invocations"
        assert body["status"]["workspace"] == {"kind": ref.get("kind", "Workspace"),
                                               "name": ref["name"], "host": target.host}
        other = second_workspace if target is workspace else workspace
        since = b_since if target is workspace else a_since
        assert created_by(target, name) == [creator], "created once, as the workspace's identity"
        assert not mentions(other, name, since), f"{name} never reached the other workspace"
    shared_b = json.loads(t.kubectl("get", "clusterworkspace", t.shared("b"), "-o",
                                    "json").stdout)
    assert condition(shared_b, "Ready")["status"] == "True"
    assert (shared_b["status"]["identity"], shared_b["status"]["workspaceId"],
            shared_b["status"]["authType"]) == (SECOND_OAUTH_CLIENT, SECOND_WORKSPACE_ID,
                                                "oauth-m2m")
    team_a_b = t.team_a.get("workspace", "b")
    assert team_a_b["status"]["workspaceId"] == SECOND_WORKSPACE_ID
    columns = t.kubectl("get", "clusterworkspace", t.shared("a")).stdout.split("\n")[0].split()
    assert columns[:4] == ["NAME", "READY", "REASON", "HOST"] and "IDENTITY" in columns


@pytest.mark.produces(reasons.WORKSPACE_NOT_ALLOWED, reasons.CREDENTIALS_NOT_FOUND)
def test_a_tenant_cannot_reach_another_namespaces_workspace_or_secret(
        tenancy, kubeconfig, second_workspace, poll):
    t = tenancy
    since = second_workspace.last_seq()
    not_admitted, foreign = f"a-not-admitted-{t.run}", f"a-foreign-{t.run}"
    t.team_a.apply(endpoint(not_admitted, t.model,
                            {"kind": "ClusterWorkspace", "name": t.shared("b")}))
    t.team_a.apply(endpoint(foreign, t.model, {"name": "mine", "namespace": t.team_b.namespace}))
    # Team B's private Secret, named from team A: read in team A, where it does not exist.
    t.team_a.apply(workspace_object("Workspace", "steal", second_workspace.host, "b-private"))
    for name, words in ((not_admitted, f"ClusterWorkspace {t.shared('b')} does not admit "
                                        f"namespace {t.team_a.namespace}"),
                        (foreign, f"spec.workspaceRef.namespace is {t.team_b.namespace}, but a "
                                  "Workspace serves only its own namespace")):
        body = t.team_a.wait("servingendpoint", name, condition="Stalled", timeout=60)
        stalled = condition(body, "Stalled")
        assert (stalled["reason"], words in stalled["message"]) == ("WorkspaceNotAllowed", True)
        assert "WorkspaceNotAllowed" in t.team_a.event_reasons(name), "a Warning event"
        assert "workspace" not in body["status"], "resolved no workspace"
    steal = t.team_a.wait("workspace", "steal", condition="Stalled", timeout=60)
    assert condition(steal, "Stalled")["reason"] == "CredentialsNotFound"
    assert f"Secret {t.team_a.namespace}/b-private does not exist" in \
        condition(steal, "Stalled")["message"]
    assert not mentions(second_workspace, not_admitted, since)
    assert not mentions(second_workspace, foreign, since)
    reads = operator_secret_reads(kubeconfig, t.service_account, t.release)
    if reads is None:
        pytest.skip("no audit log on an existing cluster; the statuses above are the proof")
    in_team_b = {(ns, name) for ns, name, _ in reads if ns == t.team_b.namespace}
    assert in_team_b == {(t.team_b.namespace, "own-b")}, \
        "in team B only the Secret team B's own Workspace names"
    assert (t.team_a.namespace, "b-private") in {(ns, n) for ns, n, _ in reads}, \
        "the name was looked up in team A"
    assert {verb for _, _, verb in reads} == {"get"}, "Secrets are never listed or watched"


@pytest.mark.produces(reasons.WORKSPACE_NOT_ALLOWED)
def test_without_a_default_workspace_an_object_must_name_one(tenancy, workspace):
    t = tenancy
    name = f"a-nowhere-{t.run}"
    t.team_a.apply(endpoint(name, t.model))
    stalled = condition(t.team_a.wait("servingendpoint", name, condition="Stalled", timeout=60),
                        "Stalled")
    assert stalled["reason"] == "WorkspaceNotAllowed"
    assert "no default workspace" in stalled["message"]
    assert "set spec.workspaceRef" in stalled["message"]


@pytest.mark.produces(reasons.RATE_LIMITED)
def test_one_write_budget_per_host_across_namespaces_and_workspace_objects(
        tenancy, second_workspace, poll):
    t = tenancy
    # The strictest limit of host B becomes one write an hour, already spent by the first test;
    # it is set on shared-b and holds team A's Workspace b (same host) as well.
    t.kubectl("patch", "clusterworkspace", t.shared("b"), "--type=merge", "-p", json.dumps(
        {"spec": {"writeLimit": {"operations": 1, "windowSeconds": 3600}}}))
    poll(lambda: observed(t.kubectl, "clusterworkspace", t.shared("b")), timeout=30,
         message="shared-b's new spec to be checked")
    since = second_workspace.last_seq()
    limited = {t.team_a: (f"a-limited-{t.run}", {"name": "b"}),
               t.team_b: (f"b-limited-{t.run}", {"kind": "ClusterWorkspace",
                                                 "name": t.shared("b")})}
    for cluster, (name, ref) in limited.items():
        cluster.apply(endpoint(name, t.model, ref))
    for cluster, (name, _) in limited.items():
        poll(lambda: ready_reason(cluster, "servingendpoint", name) == "RateLimited",
             timeout=60, message=f"{name} to wait for host B's write budget")
        assert not created_by(second_workspace, name, since)
    t.kubectl("patch", "clusterworkspace", t.shared("b"), "--type=json", "-p",
              json.dumps([{"op": "remove", "path": "/spec/writeLimit"}]))
    for cluster, (name, _) in limited.items():
        cluster.wait("servingendpoint", name, timeout=60)
        assert len(created_by(second_workspace, name, since)) == 1


@pytest.mark.produces(reasons.IN_USE)
def test_a_workspace_is_kept_while_its_objects_need_it(tenancy, second_workspace, poll):
    t = tenancy
    users = [f"a-on-b-{t.run}", f"a-limited-{t.run}"]  # created by the tests above
    t.team_a.delete("workspace", "b", wait=False)
    poll(lambda: ready_reason(t.team_a, "workspace", "b") == "Deleting", timeout=30,
         message="the Workspace's deletion to wait")
    message = condition(t.team_a.get("workspace", "b"), "Reconciling")["message"]
    assert all(f"ServingEndpoint {t.team_a.namespace}/{name}" in message for name in users)
    assert "InUse" in t.team_a.event_reasons("b")
    for name in users:
        t.team_a.delete("servingendpoint", name, timeout=60)
    remaining = {e.name for e in second_workspace.client.serving_endpoints.list()}
    assert not set(users) & remaining, "deleted through the Workspace they were created with"
    poll(lambda: t.team_a.get("workspace", "b") is None, timeout=60,
         message="the Workspace to go once nothing needs it")


def test_a_cluster_workspace_is_kept_while_objects_in_any_served_namespace_need_it(
        tenancy, workspace, poll):
    """The users are listed in each namespace the operator serves, with the chart's RBAC."""
    t = tenancy
    users = {t.team_a: f"a-on-a-{t.run}", t.team_b: f"b-on-a-{t.run}"}  # the first test's
    t.kubectl("delete", "clusterworkspace", t.shared("a"), "--wait=false")
    poll(lambda: observed_reason(t.kubectl, "clusterworkspace", t.shared("a")) == "Deleting",
         timeout=30, message="the ClusterWorkspace's deletion to wait")
    shared = json.loads(t.kubectl("get", "clusterworkspace", t.shared("a"), "-o",
                                  "json").stdout)
    message = condition(shared, "Reconciling")["message"]
    assert all(f"ServingEndpoint {cluster.namespace}/{name}" in message
               for cluster, name in users.items()), message
    for cluster, name in users.items():
        cluster.delete("servingendpoint", name, timeout=60)
    remaining = {e.name for e in workspace.client.serving_endpoints.list()}
    assert not set(users.values()) & remaining, "deleted through the ClusterWorkspace"
    poll(lambda: t.kubectl("get", "clusterworkspace", t.shared("a"), "--ignore-not-found",
                           "-o", "name").stdout.strip() == "", timeout=60,
         message="the ClusterWorkspace to go once nothing needs it")


def observed_reason(kubectl, kind: str, name: str) -> str | None:
    """The Ready condition's reason of a cluster-scoped object."""
    found = kubectl("get", kind, name, "--ignore-not-found", "-o", "json").stdout
    if not found.strip():
        return None
    conditions = json.loads(found).get("status", {}).get("conditions") or []
    return next((c.get("reason") for c in conditions if c["type"] == "Ready"), None)
