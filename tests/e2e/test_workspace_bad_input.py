"""Bad workspace input the schema cannot see: each case file says what is wrong and what the user
must be told (the admission refusals are tests/e2e/workspace/malformed/, run by
test_admission.py).

Cases are ``tests/e2e/workspace/bad/*.yaml``; their header::

    # <why it is wrong>
    # outcome: Stalled/<Reason> | Reconciling/<Reason>
    # expect: <text the condition's message must contain>

Earlier documents (Secrets, Workspaces, ClusterWorkspaces) are applied first; the last one is the
object whose condition is checked, with nothing written to Databricks. ``${HOST}`` and
``${TOKEN}`` stand for the local workspace's, ``${NAMESPACE}`` for the case's namespace and
``${RUN}`` for a suffix that keeps cluster-scoped names apart. The operator of this module has
a namespace of its own, so it serves ClusterWorkspaces.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import yaml

from lakeserve.operator_process import OperatorProcess
from tests.e2e.conftest import OPERATOR_SETTINGS, Cluster

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

CASES = sorted((Path(__file__).parent / "workspace" / "bad").glob("*.yaml"))


def header(path: Path, key: str) -> str:
    for line in path.read_text().splitlines():
        if line.startswith(f"# {key}: "):
            return line.removeprefix(f"# {key}: ")
    raise AssertionError(f"{path.name} says nothing about its {key}")


@pytest.fixture(scope="module")
def bad_input_cluster(kubeconfig, kubectl, workspace, crds, run_record, tmp_path_factory):
    workspace.require_emulator()
    namespace = f"wsbad-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", namespace)
    settings = {**OPERATOR_SETTINGS, "operator_namespace": namespace}
    log = tmp_path_factory.mktemp("workspace-bad-input") / "operator.log"
    try:
        with OperatorProcess(kubeconfig, workspace.host, workspace.token, log,
                             settings=settings, namespaces=[namespace]):
            yield Cluster(kubectl, namespace)
    finally:
        run_record.snapshot(namespace)
        kubectl("delete", "namespace", namespace, "--wait=false", check=False)


def documents(path: Path, cluster: Cluster, workspace, run: str) -> list[dict]:
    text = path.read_text()
    for key, value in (("HOST", workspace.host), ("TOKEN", workspace.token),
                       ("NAMESPACE", cluster.namespace), ("RUN", run)):
        text = text.replace(f"${{{key}}}", value)
    return [d for d in yaml.safe_load_all(text) if d]


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_bad_workspace_input_stalls_or_waits_with_a_message(path, bad_input_cluster, workspace):
    cluster, run = bad_input_cluster, uuid.uuid4().hex[:6]
    condition_type, reason = header(path, "outcome").split("/")
    expected = header(path, "expect").replace("${NAMESPACE}", cluster.namespace) \
        .replace("${RUN}", run)
    *setup, case = documents(path, cluster, workspace, run)
    since = workspace.last_seq()
    try:
        for document in setup + [case]:
            cluster.apply(document)
        kind, name = case["kind"].lower(), case["metadata"]["name"]
        body = cluster.wait(kind, name, condition=condition_type, timeout=45)
        found = next(c for c in body["status"]["conditions"] if c["type"] == condition_type)
        assert found["reason"] == reason, found
        assert expected in found["message"], found["message"]
        for leaked in ("Config:", "Env:", workspace.token):
            assert leaked not in found["message"]
        written = [c for c in workspace.calls(since)["calls"] if c["method"] != "GET"
                   and c["status"] < 300 and name in json.dumps(c.get("body"))]
        assert written == [], "nothing was written to Databricks"
    finally:
        for document in reversed(setup + [case]):
            _delete(cluster, document)


def _delete(cluster: Cluster, document: dict) -> None:
    kind, name = document["kind"].lower(), document["metadata"]["name"]
    cluster.kubectl("delete", kind, name, "-n", cluster.namespace, "--ignore-not-found",
                    "--timeout=30s", check=False, timeout=45)
