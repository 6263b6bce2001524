"""Bad input, one table: each case file says what is wrong and what the user must be told.

Cases are ``tests/e2e/<kind>/malformed/*.yaml`` (manifests), ``tests/e2e/credentials/bad/*.yaml``
(the default workspace's credentials Secret) and ``tests/e2e/workspace/bad/*.yaml`` (Workspaces,
their Secrets and the objects naming them). Their header::

    # <why it is wrong>
    # outcome: refused | Stalled/<Reason> | Reconciling/<Reason>     (default: refused)
    # expect: <text the refusal or the condition's message must contain>

``refused``: the API server refuses the last document, in the user's terms (admission: schema
and CEL rules). ``Stalled/<Reason>`` and ``Reconciling/<Reason>``: what only the operator can
tell; the last document gets that condition, reason and message, and nothing is written to
Databricks. Earlier documents are applied first (an older version of the object, a Secret, a
Workspace). ``${DATABRICKS_HOST}`` and ``${DATABRICKS_TOKEN}`` stand for the local workspace's,
``${SECOND_HOST}`` and ``${SECOND_TOKEN}`` for the second local workspace's, ``${NAMESPACE}`` for
the case's namespace and ``${RUN}`` for a suffix that keeps names apart (in the header too).
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

HERE = Path(__file__).parent
CASES = (sorted(HERE.glob("*/malformed/*.yaml")) + sorted(HERE.glob("credentials/bad/*.yaml"))
         + sorted(HERE.glob("workspace/bad/*.yaml")))
GROUPS = {"servingendpoint", "onlinetable", "featurefunction", "featurespec", "workspace",
          "credentials"}
OUTCOMES = ("refused", "Stalled/", "Reconciling/")


def header(path: Path, key: str, default: str | None = None) -> str:
    for line in path.read_text().splitlines():
        if line.startswith(f"# {key}: "):
            return line.removeprefix(f"# {key}: ")
    if default is None:
        raise AssertionError(f"{path.name} says nothing about its {key}")
    return default


def group(path: Path) -> str:
    return path.parent.parent.name


def case_id(path: Path) -> str:
    return f"{group(path)}/{path.parent.name}/{path.stem}"


def param(path: Path):
    """The case, marked as producing the reason it expects (when the operator gives one). A
    refused case runs against any workspace; a reported one reads the call log to show that
    nothing was written."""
    outcome = header(path, "outcome", "refused")
    marks = [] if outcome == "refused" else [
        pytest.mark.produces(outcome.split("/")[1]),
        pytest.mark.emulator_only("the call log shows nothing was written")]
    return pytest.param(path, id=case_id(path), marks=marks)


def test_there_are_at_least_60_cases_across_the_kinds_workspaces_and_credentials():
    assert len(CASES) >= 60
    assert {group(path) for path in CASES} == GROUPS
    assert len({case_id(path) for path in CASES}) == len(CASES)


@pytest.mark.parametrize("path", CASES, ids=[case_id(p) for p in CASES])
def test_every_case_says_why_and_what_the_user_is_told(path):
    assert path.read_text().startswith("# "), "first line: why the input is wrong"
    assert header(path, "outcome", "refused").startswith(OUTCOMES)
    assert header(path, "expect")


def _own_operator(kubeconfig, kubectl, run_record, tmp_path_factory, prefix: str, host: str,
                  token: str, **settings: str):
    """A namespace served by an operator of its own, with ``settings`` on top of the e2e ones;
    what it showed is scanned for secrets at the end of the run."""
    namespace = f"{prefix}-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", namespace)
    log = tmp_path_factory.mktemp(f"{prefix}-operator") / "operator.log"
    resolved = {key: value.replace("${NAMESPACE}", namespace) for key, value in settings.items()}
    try:
        with OperatorProcess(kubeconfig, host, token, log, settings={**OPERATOR_SETTINGS,
                                                                     **resolved},
                             namespaces=[namespace]):
            yield Cluster(kubectl, namespace)
    finally:
        run_record.snapshot(namespace)
        kubectl("delete", "namespace", namespace, "--wait=false", check=False)


@pytest.fixture(scope="module")
def credentials_cluster(kubeconfig, kubectl, workspace, crds, run_record, tmp_path_factory):
    """A namespace whose Secret ``databricks`` is the only credentials of an operator of its
    own, re-read every second."""
    yield from _own_operator(kubeconfig, kubectl, run_record, tmp_path_factory, "badcred",
                             "http://127.0.0.1:9", "not-the-token",
                             credentials_secret="${NAMESPACE}/databricks", secret_refresh="1")


@pytest.fixture(scope="module")
def workspace_cluster(kubeconfig, kubectl, workspace, crds, run_record, tmp_path_factory):
    """A namespace whose operator has it as its own namespace, so it serves ClusterWorkspaces."""
    yield from _own_operator(kubeconfig, kubectl, run_record, tmp_path_factory, "wsbad",
                             workspace.host, workspace.token,
                             operator_namespace="${NAMESPACE}")


def cluster_for(path: Path, request) -> Cluster:
    if group(path) == "credentials":
        cluster = request.getfixturevalue("credentials_cluster")
        cluster.kubectl("delete", "secret", "databricks", "-n", cluster.namespace,
                        "--ignore-not-found")
        return cluster
    if path.parent.name == "bad":
        return request.getfixturevalue("workspace_cluster")
    return request.getfixturevalue("cluster")


def placeholders(path: Path, request, workspace, cluster: Cluster) -> dict[str, str]:
    values = {"DATABRICKS_HOST": workspace.host, "DATABRICKS_TOKEN": workspace.token,
              "NAMESPACE": cluster.namespace, "RUN": uuid.uuid4().hex[:6]}
    if "${SECOND_" in path.read_text():
        second = request.getfixturevalue("second_workspace")
        values.update(SECOND_HOST=second.host, SECOND_TOKEN=second.token)
    return values


def substituted(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace(f"${{{key}}}", value)
    return text


@pytest.mark.parametrize("path", [param(p) for p in CASES])
def test_bad_input_is_refused_or_reported_with_a_message(path, request):
    # the workspace only fills placeholders of a refused case: such a case does not depend on
    # which workspace it is, and the real-workspace run skips it
    workspace = request.getfixturevalue("workspace")
    cluster = cluster_for(path, request)
    values = placeholders(path, request, workspace, cluster)
    outcome = header(path, "outcome", "refused")
    expected = substituted(header(path, "expect"), values)
    *setup, case = [d for d in yaml.safe_load_all(substituted(path.read_text(), values)) if d]
    if outcome == "refused":
        for document in setup:
            cluster.apply(document)
        result = cluster.kubectl("apply", "--dry-run=server", "-n", cluster.namespace, "-f", "-",
                                 input=yaml.safe_dump(case), check=False)
        assert result.returncode != 0, f"{path.name} was accepted"
        assert expected in result.stderr, result.stderr
        return
    condition, reason = outcome.split("/")
    reported(cluster, workspace, setup, case, (condition, reason, expected), path.stem)


def reported(cluster: Cluster, workspace, setup: list[dict], case: dict,
             outcome: tuple[str, str, str], name: str) -> None:
    """Apply ``setup``, then ``case`` as ``name``: it must get the condition with the reason
    and the expected text in its message, with nothing written to Databricks; then everything
    goes away when deleted."""
    condition, reason, expected = outcome
    case["metadata"]["name"] = name
    kind = case["kind"].lower()
    since = workspace.last_seq()
    try:
        for document in setup + [case]:
            cluster.apply(document)
        body = cluster.wait(kind, name, condition=condition, timeout=45)
        found = next(c for c in body["status"]["conditions"] if c["type"] == condition)
        assert found["reason"] == reason, found
        assert expected in found["message"], found["message"]
        for dumped in ("Config:", "Env:", workspace.token):
            assert dumped not in found["message"]
        names = {name, case["spec"].get("name") or name}
        written = [c for c in workspace.calls(since)["calls"] if c["method"] != "GET"
                   and c["status"] < 300 and any(n in json.dumps(c) for n in names)]
        assert written == [], "nothing half-created"
        cluster.delete(kind, name, timeout=30)
    finally:
        for document in reversed(setup + [case]):
            cluster.kubectl("delete", document["kind"].lower(), document["metadata"]["name"],
                            "-n", cluster.namespace, "--ignore-not-found", "--timeout=30s",
                            check=False, timeout=45)
