"""The rendered chart applied server-side to the real control plane: first as a server-side dry
run, then for real; then what its ServiceAccount may and may not do (kubectl auth can-i)."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.e2e.chart.conftest import find, manifest_text

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


def apply(kubectl, objects, *extra):
    return kubectl("apply", "--server-side", "--field-manager=lakeserve-chart-test", *extra,
                   "-f", "-", input=manifest_text(objects), timeout=90)


@pytest.fixture
def release(release_namespace, cluster_scoped_cleanup):
    """(release name, namespace, register-for-cleanup)."""
    return f"t{uuid.uuid4().hex[:6]}", release_namespace, cluster_scoped_cleanup


def test_default_install_applies_dry_run_then_for_real(helm, kubectl, crds, release):
    name, namespace, cleanup = release
    crd_objects = [o for o in helm.render(release=name, namespace=namespace, include_crds=True)
                   if o["kind"] == "CustomResourceDefinition"]
    objects = helm.render(release=name, namespace=namespace)
    cleanup(crd_objects + objects)
    # The CRDs first (helm does the same with crds/): the rest is checked against them.
    apply(kubectl, crd_objects, "--dry-run=server")
    apply(kubectl, crd_objects)
    kubectl("wait", "--for=condition=Established", "--timeout=60s",
            *[f"crd/{o['metadata']['name']}" for o in crd_objects])

    dry = apply(kubectl, objects, "--dry-run=server")
    assert "serverside-applied (server dry run)" in dry.stdout
    assert kubectl("get", "deployment", "-n", namespace, "-o", "name").stdout == "", \
        "a dry run creates nothing"
    applied = apply(kubectl, objects)
    assert applied.stdout.count("serverside-applied") == len(objects)

    fullname = f"{name}-lakeserve"
    deployment = json.loads(kubectl("get", "deployment", fullname, "-n", namespace,
                                    "-o", "json").stdout)
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    for kind, obj_name, scope in (("clusterrole", fullname, []),
                                  ("clusterrolebinding", fullname, []),
                                  ("serviceaccount", fullname, ["-n", namespace]),
                                  ("role", f"{fullname}-credentials", ["-n", namespace]),
                                  ("service", f"{fullname}-metrics", ["-n", namespace])):
        kubectl("get", kind, obj_name, *scope)
    # Applying the same manifests again changes nothing (no field fights with the API server's
    # defaulting, e.g. of the probes or the security context).
    again = apply(kubectl, objects)
    assert "serverside-applied" in again.stdout
    after = json.loads(kubectl("get", "deployment", fullname, "-n", namespace,
                               "-o", "json").stdout)
    assert after["metadata"]["generation"] == deployment["metadata"]["generation"]


def test_a_broken_manifest_is_refused_by_the_server_dry_run(helm, kubectl, release):
    # The dry run can fail: an invalid field in the Deployment is refused by the API server.
    name, namespace, cleanup = release
    objects = helm.render(release=name, namespace=namespace)
    deployment = find(objects, "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"][
        "capabilities"]["drop"] = "ALL"
    result = kubectl("apply", "--server-side", "--dry-run=server", "-f", "-",
                     input=manifest_text([deployment]), check=False)
    assert result.returncode != 0 and "drop" in result.stderr


CAN = [
    # (verb, resource, namespace flag, expected) for the all-namespaces install
    ("list", "servingendpoints.lakeserve.dev", "--all-namespaces", "yes"),
    ("watch", "onlinetables.lakeserve.dev", "--all-namespaces", "yes"),
    ("patch", "featurefunctions.lakeserve.dev/status", "-n=anywhere", "yes"),
    ("get", "servingendpoints.lakeserve.dev", "-n=anywhere", "yes"),
    ("create", "events", "-n=anywhere", "yes"),
    ("list", "customresourcedefinitions.apiextensions.k8s.io", "", "yes"),
    # never needed: the operator does not create, update or delete objects, nor touch others
    ("update", "servingendpoints.lakeserve.dev", "-n=anywhere", "no"),
    ("delete", "servingendpoints.lakeserve.dev", "-n=anywhere", "no"),
    ("create", "servingendpoints.lakeserve.dev", "-n=anywhere", "no"),
    ("update", "servingendpoints.lakeserve.dev/status", "-n=anywhere", "no"),
    ("list", "namespaces", "", "no"),
    ("list", "secrets", "--all-namespaces", "no"),
    ("list", "pods", "-n=anywhere", "no"),
    ("create", "customresourcedefinitions.apiextensions.k8s.io", "", "no"),
]


def test_the_service_account_may_do_what_the_operator_does_and_no_more(helm, kubectl, release):
    name, namespace, cleanup = release
    objects = helm.render(release=name, namespace=namespace)
    cleanup(objects)
    apply(kubectl, objects)
    user = f"--as=system:serviceaccount:{namespace}:{name}-lakeserve"

    def can(verb, resource, *flags):
        result = kubectl("auth", "can-i", verb, resource, user, *filter(None, flags),
                         check=False)
        return result.stdout.strip()

    answers = {(verb, resource): can(verb, resource, flag) for verb, resource, flag, _ in CAN}
    assert answers == {(verb, resource): expected for verb, resource, _, expected in CAN}
    # Secrets by name, read-only: Workspaces name theirs in any watched namespace.
    assert can("get", "secrets/databricks", f"-n={namespace}") == "yes"
    assert can("get", "secrets/a-workspaces", "-n=anywhere") == "yes"
    assert can("watch", "secrets/databricks", f"-n={namespace}") == "no"
    assert can("update", "secrets/databricks", f"-n={namespace}") == "no"
    assert can("get", "clusterworkspaces.lakeserve.dev/x") == "yes"
    assert can("get", "namespaces/anywhere") == "yes", "labels, for allowedNamespaces"


def test_without_workspace_objects_only_the_default_secret_is_readable(helm, kubectl, release):
    name, namespace, cleanup = release
    objects = helm.render({"workspaces": {"namespaced": False, "cluster": False}},
                          release=name, namespace=namespace)
    cleanup(objects)
    apply(kubectl, objects)
    user = f"--as=system:serviceaccount:{namespace}:{name}-lakeserve"

    def can(verb, resource, *flags):
        return kubectl("auth", "can-i", verb, resource, user, *flags, check=False).stdout.strip()

    assert can("get", "secrets/databricks", f"-n={namespace}") == "yes"
    assert can("get", "secrets/other", f"-n={namespace}") == "no"
    assert can("get", "secrets/databricks", "-n=default") == "no"
    assert can("get", "namespaces/anywhere") == "no"
    assert can("patch", "clusterworkspaces.lakeserve.dev/x") == "no"
