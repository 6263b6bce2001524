"""Credentials never appear in logs, events, status or error messages.

The last test of the session scans everything the run produced for every secret value it used
(tests/e2e/conftest.py's RunRecord): every log file of the run, the events and lakeserve objects
of each test namespace as they were before it was deleted, and what is still in the cluster.
"""

from __future__ import annotations

import json
import uuid

import pytest

from lakeserve.operator_process import OperatorProcess
from lakeserve.reconcile import reasons

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

PREFIX = "sec-"


def endpoint(name, model="main.e2e.secret_model"):
    return {"apiVersion": "lakeserve.dev/v1alpha1", "kind": "ServingEndpoint",
            "metadata": {"name": name},
            "spec": {"config": {"servedEntities": [
                {"entityName": model, "entityVersion": "1"}]}}}


@pytest.mark.produces(reasons.CREDENTIALS_INVALID)
def test_rejected_token_is_reported_without_its_value(kubeconfig, workspace, crds, namespaces,
                                                      tmp_path, run_record):
    wrong_token = f"dapi{uuid.uuid4().hex}{uuid.uuid4().hex[:8]}"
    run_record.secret(wrong_token)
    log = tmp_path / "operator.log"
    cluster = namespaces(PREFIX)
    with OperatorProcess(kubeconfig, workspace.host, wrong_token, log, verbose=True,
                         settings={"converge_interval": "0.5", "drift_interval": "5"},
                         namespaces=[f"{PREFIX}*"]):
        cluster.apply(endpoint("secret"))
        body = cluster.wait("servingendpoint", "secret", condition="Stalled")
    stalled = next(c for c in body["status"]["conditions"] if c["type"] == "Stalled")
    assert stalled["reason"] == "CredentialsInvalid", "a 401 is a credentials problem"
    assert "Invalid access token" in stalled["message"] and "environment" in stalled["message"]
    events = cluster.events("secret")
    for text in (stalled["message"], *(e["message"] for e in events)):
        assert "Config:" not in text and workspace.host not in text, "no SDK config dump"
    everything = "\n".join([log.read_text(), json.dumps(body), json.dumps(events)])
    assert wrong_token not in everything
    assert wrong_token[4:20] not in everything


def test_working_token_is_not_in_the_session_operator_log(operator, workspace, cluster, models):
    model, name = workspace.names.model("secret_model"), workspace.names.endpoint("secret-ok")
    models.register(model)
    cluster.apply(endpoint(name, model))
    cluster.wait("servingendpoint", name)
    assert workspace.token not in operator.log_path.read_text()


@pytest.mark.last
@pytest.mark.timeout(180)
def test_no_secret_value_anywhere_in_the_run(run_record, workspace, kubectl, tmp_path_factory):
    texts = list(run_record.texts)
    for args in (("events", "-A"), ("lakeserve", "-A"), ("clusterworkspaces",)):
        shown = kubectl("get", *args, "-o", "json", check=False, timeout=120)
        texts.append((f"kubectl get {' '.join(args)}", shown.stdout))
    logs = sorted(tmp_path_factory.getbasetemp().rglob("*.log"))
    texts += [(str(path), path.read_text(errors="replace")) for path in logs]
    assert workspace.token in run_record.secrets, "the run registered the secrets it used"
    assert any("operator" in where for where, _ in texts), "operator logs were scanned"
    found = sorted({where for where, text in texts for value in run_record.secrets
                    if value in text})
    assert not found, f"a secret value appears in: {found}"
