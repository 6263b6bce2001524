"""helm lint and helm template of charts/lakeserve: the important bits of what it renders.

Offline (no cluster): golden checks of the parts that matter — RBAC rules, security context,
probes, the operator's settings — rather than a whole snapshot.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.e2e.chart.conftest import CHART, find, kinds

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

OBJECT_RESOURCES = ["servingendpoints", "onlinetables", "featurefunctions", "featurespecs",
                    "workspaces"]


def rules_of(role: dict) -> list[tuple[tuple, tuple, tuple, tuple]]:
    """Rules as comparable tuples: (apiGroups, resources, resourceNames, verbs)."""
    return [(tuple(r["apiGroups"]), tuple(r["resources"]), tuple(r.get("resourceNames", ())),
             tuple(r["verbs"])) for r in role["rules"]]


OBJECT_RULES = [
    (("lakeserve.dev",), tuple(OBJECT_RESOURCES), (), ("get", "list", "watch", "patch")),
    (("lakeserve.dev",), tuple(f"{r}/status" for r in OBJECT_RESOURCES), (), ("patch",)),
    (("",), ("events",), (), ("create",)),
    (("",), ("secrets",), (), ("get",)),  # a Workspace's Secret, in its own namespace
]
CRD_RULE = (("apiextensions.k8s.io",), ("customresourcedefinitions",), (), ("list", "watch"))
CLUSTER_WORKSPACE_RULES = [
    (("lakeserve.dev",), ("clusterworkspaces",), (), ("get", "list", "watch", "patch")),
    (("lakeserve.dev",), ("clusterworkspaces/status",), (), ("patch",)),
    (("",), ("namespaces",), (), ("get",)),  # labels, for allowedNamespaces
]
NAMESPACE_RULE = (("",), ("namespaces",), (), ("list", "watch"))


def test_lint_passes(helm):
    result = helm.run("lint", str(CHART), "--strict", "--values",
                      str(helm.values_file({"image": {"repository": "r/lakeserve"},
                                            "databricks": {"credentialsSecret": "s"}})))
    assert "1 chart(s) linted, 0 chart(s) failed" in result.stdout


def copy_chart(directory: Path) -> Path:
    copy = directory / "lakeserve"
    for path in CHART.rglob("*"):
        if path.is_file():
            target = copy / path.relative_to(CHART)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    return copy


def test_lint_fails_on_a_broken_template(helm, tmp_path):
    # The lint test can fail: the same chart with a template error does not lint.
    broken = copy_chart(tmp_path)
    (broken / "templates" / "service.yaml").write_text("{{ if }}\n")
    assert helm.run("lint", str(broken), check=False).returncode != 0


@pytest.mark.parametrize("missing, path", [
    ("databricks.credentialsSecret", {"databricks": {"credentialsSecret": ""}}),
    ("image.repository", {"image": {"repository": ""}}),
])
def test_a_missing_required_value_is_named(helm, missing, path):
    result = helm.template(path, check=False)
    assert result.returncode != 0
    assert f"{missing} is required" in result.stderr


def test_a_namespace_glob_is_refused_with_a_reason(helm):
    result = helm.template({"watchNamespaces": ["team-*"]}, check=False)
    assert result.returncode != 0
    assert '"team-*" is not a namespace name' in result.stderr


def test_defaults_watch_all_namespaces_with_one_cluster_role(helm):
    objects = helm.render(namespace="ops")
    assert kinds(objects) == ["ClusterRole", "ClusterRoleBinding", "Deployment", "Role",
                              "RoleBinding", "Service", "ServiceAccount"]
    assert rules_of(find(objects, "ClusterRole")) == [CRD_RULE, *CLUSTER_WORKSPACE_RULES,
                                                      *OBJECT_RULES]
    binding = find(objects, "ClusterRoleBinding")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "rel-lakeserve",
                                    "namespace": "ops"}]
    credentials = find(objects, "Role", "rel-lakeserve-credentials", "ops")
    # The default workspace's Secret and the ClusterWorkspaces' ones: any name in ops.
    assert rules_of(credentials) == [(("",), ("secrets",), (), ("get",))]
    assert find(objects, "RoleBinding")["roleRef"]["name"] == "rel-lakeserve-credentials"


def test_the_deployment_is_locked_down_and_probed(helm):
    deployment = find(helm.render(namespace="ops"), "Deployment")
    spec = deployment["spec"]
    assert spec["replicas"] == 1 and spec["strategy"] == {"type": "Recreate"}
    pod = spec["template"]["spec"]
    assert pod["securityContext"] == {"runAsNonRoot": True, "runAsUser": 10001,
                                      "runAsGroup": 10001,
                                      "seccompProfile": {"type": "RuntimeDefault"}}
    (container,) = pod["containers"]
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}
    assert container["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
    assert pod["volumes"] == [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]
    assert container["args"] == ["--liveness", "http://0.0.0.0:8080/healthz"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"health": 8080, "metrics": 9090}
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "health"}
    assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
    assert container["image"] == "registry.example.com/lakeserve:0.1.0"


def test_credentials_come_from_the_secret_by_name_never_as_env(helm):
    objects = helm.render(namespace="ops")
    container = find(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["LAKESERVE_CREDENTIALS_SECRET"]["value"] == "ops/databricks"
    assert not [e for e in container["env"] if "secretKeyRef" in e.get("valueFrom", {})]
    assert "envFrom" not in container
    assert not [name for name in env if name.startswith("DATABRICKS_")]
    assert env["POD_ID"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert {n: e.get("value") for n, e in env.items() if n.startswith("LAKESERVE_")} == {
        "LAKESERVE_CREDENTIALS_SECRET": "ops/databricks", "LAKESERVE_LOG_FORMAT": "text",
        "LAKESERVE_DRIFT_INTERVAL": "300", "LAKESERVE_METRICS_PORT": "9090",
        "LAKESERVE_DEFAULT_WORKSPACE": "true", "LAKESERVE_CLUSTER_WORKSPACES": "true",
        "LAKESERVE_OPERATOR_NAMESPACE": None}
    assert env["LAKESERVE_OPERATOR_NAMESPACE"]["valueFrom"] == {
        "fieldRef": {"fieldPath": "metadata.namespace"}}


def test_a_namespace_list_gets_roles_per_namespace_and_little_cluster_wide(helm):
    objects = helm.render({"watchNamespaces": ["ml-a", "ml-b"]}, namespace="ops")
    assert rules_of(find(objects, "ClusterRole")) == [CRD_RULE, *CLUSTER_WORKSPACE_RULES,
                                                      NAMESPACE_RULE]
    # ClusterWorkspace events go to the operator's namespace, which is not watched here.
    assert (("",), ("events",), (), ("create",)) in \
        rules_of(find(objects, "Role", "rel-lakeserve-credentials", "ops"))
    for namespace in ("ml-a", "ml-b"):
        assert rules_of(find(objects, "Role", "rel-lakeserve", namespace)) == OBJECT_RULES
        binding = find(objects, "RoleBinding", "rel-lakeserve", namespace)
        assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                      "name": "rel-lakeserve"}
        assert binding["subjects"][0]["namespace"] == "ops"
    container = find(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["--liveness", "http://0.0.0.0:8080/healthz",
                                 "--namespace", "ml-a", "--namespace", "ml-b"]


def test_non_default_settings_reach_the_operator(helm):
    objects = helm.render({
        "logFormat": "json", "driftInterval": 60, "verbose": True,
        "extraEnv": [{"name": "LAKESERVE_WRITE_LIMIT", "value": "40"}],
        "image": {"tag": "1.2.3"}, "fullnameOverride": "lake",
        "metrics": {"enabled": False}, "serviceAccount": {"name": "lake-sa"},
    }, namespace="ops")
    deployment = find(objects, "Deployment", "lake")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["LAKESERVE_LOG_FORMAT"] == "json"
    assert env["LAKESERVE_DRIFT_INTERVAL"] == "60"
    assert env["LAKESERVE_WRITE_LIMIT"] == "40"
    assert env["LAKESERVE_METRICS_PORT"] == "0", "metrics off overrides the image's default"
    assert container["args"][-1] == "--verbose"
    assert container["image"] == "registry.example.com/lakeserve:1.2.3"
    assert [p["name"] for p in container["ports"]] == ["health"]
    assert "Service" not in kinds(objects)
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == "lake-sa"
    assert find(objects, "ServiceAccount", "lake-sa")


def test_service_monitor_only_when_enabled(helm):
    assert "ServiceMonitor" not in kinds(helm.render())
    objects = helm.render({"metrics": {"serviceMonitor": {
        "enabled": True, "labels": {"release": "prom"}, "interval": "15s"}}}, namespace="ops")
    monitor = find(objects, "ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "prom"
    assert monitor["spec"]["endpoints"] == [{"port": "metrics", "path": "/metrics",
                                             "interval": "15s", "scrapeTimeout": "10s"}]
    service = find(objects, "Service")
    assert monitor["spec"]["selector"]["matchLabels"] == service["spec"]["selector"]
    assert service["spec"]["ports"][0]["targetPort"] == "metrics"


def test_ha_runs_two_replicas_with_cluster_peering(helm):
    objects = helm.render({"ha": {"enabled": True}}, namespace="ops")
    deployment = find(objects, "Deployment")
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    peering = find(objects, "ClusterKopfPeering")
    assert peering["apiVersion"] == "kopf.dev/v1" and peering["metadata"]["name"] == "rel-lakeserve"
    env = {e["name"]: e.get("value") for e in
           deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["LAKESERVE_PEERING"] == "rel-lakeserve"
    rules = rules_of(find(objects, "ClusterRole"))
    assert (("kopf.dev",), ("clusterkopfpeerings",), (), ("list", "watch")) in rules
    assert (("kopf.dev",), ("clusterkopfpeerings",), ("rel-lakeserve",), ("patch",)) in rules


def test_ha_with_a_namespace_list_peers_per_namespace(helm):
    objects = helm.render({"ha": {"enabled": True, "peeringName": "lake"},
                           "watchNamespaces": ["ml-a"]}, namespace="ops")
    peering = find(objects, "KopfPeering", "lake", "ml-a")
    assert peering["apiVersion"] == "kopf.dev/v1"
    assert "ClusterKopfPeering" not in kinds(objects)
    rules = rules_of(find(objects, "Role", "rel-lakeserve", "ml-a"))
    assert (("kopf.dev",), ("kopfpeerings",), ("lake",), ("patch",)) in rules


def test_without_ha_there_is_no_peering_and_no_peering_rule(helm):
    objects = helm.render(namespace="ops")
    assert not {"ClusterKopfPeering", "KopfPeering"} & set(kinds(objects))
    assert "LAKESERVE_PEERING" not in str(find(objects, "Deployment"))
    assert "kopf.dev" not in str(find(objects, "ClusterRole"))


def test_crds_are_the_repository_ones_plus_kopfs_peerings(helm):
    objects = helm.render(include_crds=True)
    crds = sorted(o["metadata"]["name"] for o in objects if o["kind"] ==
                  "CustomResourceDefinition")
    assert crds == ["clusterkopfpeerings.kopf.dev", "clusterworkspaces.lakeserve.dev",
                    "featurefunctions.lakeserve.dev", "featurespecs.lakeserve.dev",
                    "kopfpeerings.kopf.dev", "onlinetables.lakeserve.dev",
                    "servingendpoints.lakeserve.dev", "workspaces.lakeserve.dev"]
    repo_crd = yaml.safe_load((Path(CHART).parents[1] / "crds" /
                               "servingendpoints.lakeserve.dev.yaml").read_text())
    assert find(objects, "CustomResourceDefinition", "servingendpoints.lakeserve.dev") == repo_crd


def test_notes_say_what_to_do_next(helm, tmp_path):
    # helm renders NOTES.txt only on install (which needs a cluster); rendered as an ordinary
    # template of a copy of the chart, it shows offline.
    chart = copy_chart(tmp_path)
    text = (chart / "templates" / "NOTES.txt").read_text()
    (chart / "templates" / "NOTES.txt").unlink()
    (chart / "templates" / "notes.yaml").write_text(
        f'{{{{- define "notes" -}}}}\n{text}\n{{{{- end }}}}\n'
        'notes: {{ include "notes" . | toJson }}\n')
    notes = yaml.safe_load(helm.run(
        "template", "rel", str(chart), "--namespace", "ops", "--show-only",
        "templates/notes.yaml", "--values", str(helm.values_file({
            "image": {"repository": "r/lakeserve"}, "databricks": {"credentialsSecret": "dbx"},
            "watchNamespaces": ["ml"]}))).stdout)["notes"]
    assert "kubectl -n ops create secret generic dbx" in notes
    assert "DATABRICKS_HOST" in notes and "DATABRICKS_TOKEN" in notes
    assert "kubectl -n ops rollout status deployment/rel-lakeserve" in notes
    assert "kubectl wait -n ml servingendpoint/churn-ab --for=condition=Ready" in notes
    assert "docs/argocd.md" in notes


def test_shards_render_one_deployment_each_with_its_label_and_share(helm):
    objects = helm.render({"sharding": {"shards": 3, "writeShare": 10}}, namespace="ops")
    deployments = [o for o in objects if o["kind"] == "Deployment"]
    assert [d["metadata"]["name"] for d in deployments] == [
        f"rel-lakeserve-shard-{i}" for i in range(3)]
    for index, deployment in enumerate(deployments):
        env = {e["name"]: e.get("value") for e in
               deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["LAKESERVE_SHARD_INDEX"] == str(index)
        assert env["LAKESERVE_SHARD_COUNT"] == "3"
        assert env["LAKESERVE_WRITE_SHARE"] == "10"
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selector["lakeserve.dev/shard"] == str(index), "no Deployment adopts another's pods"
        assert deployment["spec"]["template"]["metadata"]["labels"]["lakeserve.dev/shard"] == \
            str(index)
    service = find(objects, "Service")
    assert "lakeserve.dev/shard" not in service["spec"]["selector"], "metrics of every shard"


def test_shards_with_ha_peer_per_shard(helm):
    objects = helm.render({"sharding": {"shards": 2}, "ha": {"enabled": True}}, namespace="ops")
    peerings = sorted(o["metadata"]["name"] for o in objects if o["kind"] == "ClusterKopfPeering")
    assert peerings == ["rel-lakeserve-shard-0", "rel-lakeserve-shard-1"]
    rules = rules_of(find(objects, "ClusterRole"))
    assert (("kopf.dev",), ("clusterkopfpeerings",), tuple(peerings), ("patch",)) in rules


def test_one_shard_renders_as_without_sharding(helm):
    assert helm.render({"sharding": {"shards": 1}}, namespace="ops") == helm.render(
        namespace="ops")


def test_zero_shards_are_refused_with_a_reason(helm):
    result = helm.template({"sharding": {"shards": 0}}, check=False)
    assert result.returncode != 0 and "sharding.shards is 0" in result.stderr


def test_workspace_choices_narrow_the_rules(helm):
    objects = helm.render({"databricks": {"defaultWorkspace": False, "credentialsSecret": ""},
                           "workspaces": {"namespaced": False, "clusterSecrets": ["prod", "dev"]},
                           "watchNamespaces": ["ml"]}, namespace="ops")
    role = rules_of(find(objects, "Role", "rel-lakeserve", "ml"))
    assert (("",), ("secrets",), (), ("get",)) not in role, "no Workspace Secrets to read"
    credentials = rules_of(find(objects, "Role", "rel-lakeserve-credentials", "ops"))
    assert credentials[0] == (("",), ("secrets",), ("prod", "dev"), ("get",))
    env = {e["name"]: e.get("value") for e in
           find(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["LAKESERVE_DEFAULT_WORKSPACE"] == "false"
    assert "LAKESERVE_CREDENTIALS_SECRET" not in env


def test_without_cluster_workspaces_they_are_only_watched(helm):
    objects = helm.render({"workspaces": {"cluster": False}}, namespace="ops")
    rules = rules_of(find(objects, "ClusterRole"))
    assert (("lakeserve.dev",), ("clusterworkspaces",), (), ("list", "watch")) in rules
    assert not [r for r in rules if r[1] == ("namespaces",)]
    assert rules_of(find(objects, "Role", "rel-lakeserve-credentials", "ops")) == [
        (("",), ("secrets",), ("databricks",), ("get",))]
