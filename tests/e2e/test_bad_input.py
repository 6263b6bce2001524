"""Bad input, one table: each case file says what is wrong and what the user must be told.

Cases are ``tests/e2e/<kind>/malformed/*.yaml`` (manifests) and
``tests/e2e/credentials/bad/*.yaml`` (credentials Secrets). Their header::

    # <why it is wrong>
    # outcome: refused | Stalled/<Reason>      (default: refused)
    # expect: <text the refusal or the Stalled message must contain>

``refused``: the API server refuses the last document, in the user's terms (admission: schema
and CEL rules). ``Stalled/<Reason>``: what only the operator can tell; the object stalls with
that reason and message, and nothing is written to Databricks. Earlier documents are applied
first (an older version of the object, or the credentials Secret). In credentials cases
``${DATABRICKS_HOST}`` and ``${DATABRICKS_TOKEN}`` stand for the workspace's.
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
CASES = sorted(HERE.glob("*/malformed/*.yaml")) + sorted(HERE.glob("credentials/bad/*.yaml"))


def header(path: Path, key: str, default: str | None = None) -> str:
    for line in path.read_text().splitlines():
        if line.startswith(f"# {key}: "):
            return line.removeprefix(f"# {key}: ")
    if default is None:
        raise AssertionError(f"{path.name} says nothing about its {key}")
    return default


def case_id(path: Path) -> str:
    return f"{path.parent.parent.name}/{path.stem}"


def test_there_are_at_least_60_cases_across_the_kinds_and_credentials():
    assert len(CASES) >= 60
    groups = {path.parent.parent.name for path in CASES}
    assert groups == {"servingendpoint", "onlinetable", "featurefunction", "featurespec",
                      "credentials"}


@pytest.fixture(scope="module")
def credentials_cluster(kubeconfig, kubectl, workspace, crds, tmp_path_factory):
    """A namespace whose Secret ``databricks`` is the only credentials of an operator of its
    own, re-read every second."""
    workspace.require_emulator()
    namespace = f"badcred-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", namespace)
    settings = {**OPERATOR_SETTINGS, "credentials_secret": f"{namespace}/databricks",
                "secret_refresh": "1"}
    log = tmp_path_factory.mktemp("credentials-operator") / "operator.log"
    try:
        with OperatorProcess(kubeconfig, "http://127.0.0.1:9", "not-the-token", log,
                             settings=settings, namespaces=[namespace]):
            yield Cluster(kubectl, namespace)
    finally:
        kubectl("delete", "namespace", namespace, "--wait=false", check=False)


def documents(path: Path, workspace) -> list[dict]:
    text = path.read_text().replace("${DATABRICKS_HOST}", workspace.host) \
        .replace("${DATABRICKS_TOKEN}", workspace.token)
    return [d for d in yaml.safe_load_all(text) if d]


@pytest.mark.parametrize("path", CASES, ids=[case_id(p) for p in CASES])
def test_bad_input_is_refused_or_stalls_with_a_message(path, request, workspace):
    outcome, expected = header(path, "outcome", "refused"), header(path, "expect")
    *setup, case = documents(path, workspace)
    if path.parent.parent.name == "credentials":
        cluster = request.getfixturevalue("credentials_cluster")
        cluster.kubectl("delete", "secret", "databricks", "-n", cluster.namespace,
                        "--ignore-not-found")
    else:
        cluster = request.getfixturevalue("cluster")
    for document in setup:
        cluster.apply(document)
    if outcome == "refused":
        result = cluster.kubectl("apply", "--dry-run=server", "-n", cluster.namespace, "-f", "-",
                                 input=yaml.safe_dump(case), check=False)
        assert result.returncode != 0, f"{path.name} was accepted"
        assert expected in result.stderr, result.stderr
        return
    stalls(cluster, workspace, case, outcome.removeprefix("Stalled/"), expected, path.stem)


def stalls(cluster: Cluster, workspace, case: dict, reason: str, expected: str, name: str):
    """Apply ``case`` as ``name``; it must stall with ``reason`` and ``expected`` in the
    message, with nothing written to Databricks, and go away when deleted."""
    case["metadata"]["name"] = name
    kind = case["kind"].lower()
    since = workspace.last_seq()
    cluster.apply(case)
    body = cluster.wait(kind, name, condition="Stalled", timeout=45)
    stalled = next(c for c in body["status"]["conditions"] if c["type"] == "Stalled")
    assert stalled["reason"] == reason, stalled
    assert expected in stalled["message"], stalled["message"]
    for dumped in ("Config:", "Env:", workspace.token):
        assert dumped not in stalled["message"]
    names = {name, case["spec"].get("name") or name}
    written = [c for c in workspace.calls(since)["calls"] if c["method"] != "GET"
               and c["status"] < 300 and any(n in json.dumps(c) for n in names)]
    assert written == [], "nothing half-created"
    cluster.delete(kind, name, timeout=30)
