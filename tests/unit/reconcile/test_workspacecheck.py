"""The check behind a Workspace's status: one authenticated call, its answer as a condition."""

from __future__ import annotations

import asyncio
import functools

import pytest
import requests
from databricks.sdk.errors import PermissionDenied, TemporarilyUnavailable, Unauthenticated

from lakeserve.databricks.errors import RetryDeferred
from lakeserve.databricks.limiter import HostLimiters
from lakeserve.databricks.tenants import WorkspaceClients
from lakeserve.reconcile import reasons
from lakeserve.reconcile.blocking import run_blocking
from lakeserve.reconcile.conditions import Phase
from lakeserve.reconcile.workspacecheck import WorkspaceChecker
from lakeserve.reconcile.workspaces import WorkspaceResolver
from lakeserve.settings import Settings
from tests.reasons import table
from tests.unit.reconcile.fakes import SETTINGS, FakeEvents, FakeKube, FakeWorkspaces
from tests.unit.reconcile.test_workspaces import workspace_body

TOKEN = "dapi-check-token-0001"


class FakeApi:
    def __init__(self, answer):
        self.answer, self.calls = answer, []

    def do(self, method, path, response_headers=None):
        self.calls.append((method, path))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


class FakeClient:
    def __init__(self, answer):
        self.api_client = FakeApi(answer)
        self.config = type("Config", (), {"workspace_id": "from-host-metadata"})()


class Builder:
    def __init__(self, answer):
        self.client = FakeClient(answer)

    def get(self, key, build, host):
        return self.client

    def forget(self, keep):
        pass


class Check:
    def __init__(self, answer, settings=None):
        self.settings = settings or Settings(**{**SETTINGS.__dict__, "operator_namespace": "ops"})
        self.kube, self.events = FakeKube(), FakeEvents()
        self.builder = Builder(answer)
        self.clients = WorkspaceClients(self.settings, self.builder, HostLimiters())
        resolver = WorkspaceResolver(self.settings, self.kube, FakeWorkspaces(), self.clients,
                                     functools.partial(run_blocking, None))
        self.checker = WorkspaceChecker(self.settings, resolver, self.kube, self.events)
        self.kube.secrets[("ns", "creds")] = ({"DATABRICKS_TOKEN": TOKEN}, "1")

    def run(self, obj):
        return asyncio.run(self.checker.reconcile(obj["kind"], obj))


def _deferred_connection_retry() -> Exception:
    """What the SDK raises when its clock refuses a long sleep between connection retries."""
    try:
        try:
            raise requests.ConnectionError("Connection refused")
        except requests.ConnectionError:
            raise RetryDeferred(2.5)  # noqa: B904 - the SDK's retry loop sets __context__ so
    except RetryDeferred as deferred:
        return deferred


ME = {"userName": "sp-application-id", "displayName": "deployer",
      "X-Databricks-Org-Id": "2222222222222222"}


def test_working_credentials_are_ready_with_the_identity_and_the_workspace_id():
    check = Check(ME)
    outcome = check.run(workspace_body(status={}))
    assert outcome.verdict.phase is Phase.READY
    status = check.kube.status
    assert (status["identity"], status["workspaceId"], status["host"], status["authType"]) == \
        ("sp-application-id", "2222222222222222", "https://a.example", "pat")
    assert check.builder.client.api_client.calls == [("GET", "/api/2.0/preview/scim/v2/Me")]
    assert outcome.requeue_after >= check.settings.drift_interval * 0.9
    assert TOKEN not in str(status)


def test_the_workspace_id_comes_from_host_metadata_when_the_header_is_missing():
    check = Check({"userName": "someone@example.com"})
    check.run(workspace_body(status={}))
    assert check.kube.status["workspaceId"] == "from-host-metadata"


# (case, Secret data or None, Databricks' answer, phase, reason, words of the message)
CASES = [
    ("no Secret", None, ME, Phase.STALLED, reasons.CREDENTIALS_NOT_FOUND,
     "the credentials Secret ns/creds does not exist: create it with DATABRICKS_TOKEN"),
    ("a Secret with two auth methods",
     {"DATABRICKS_TOKEN": TOKEN, "ARM_CLIENT_ID": "a", "ARM_CLIENT_SECRET": "b",
      "ARM_TENANT_ID": "c"}, ME, Phase.STALLED, reasons.CREDENTIALS_INVALID,
     "keys of 2 auth methods at once"),
    ("a token Databricks refuses", {"DATABRICKS_TOKEN": TOKEN},
     Unauthenticated("Invalid access token."), Phase.STALLED, reasons.CREDENTIALS_INVALID,
     "Databricks refused the credentials of Secret ns/creds (Invalid access token.)"),
    ("an identity without access to the workspace", {"DATABRICKS_TOKEN": TOKEN},
     PermissionDenied("User is not a member of this workspace."), Phase.STALLED,
     reasons.PERMISSION_DENIED, "may not use this workspace"),
    ("a host nobody answers on", {"DATABRICKS_TOKEN": TOKEN},
     requests.ConnectionError("Connection refused"), Phase.STALLED, reasons.UNREACHABLE,
     "https://a.example did not answer as a Databricks workspace"),
    ("a host whose connection retries the SDK defers", {"DATABRICKS_TOKEN": TOKEN},
     _deferred_connection_retry(), Phase.STALLED, reasons.UNREACHABLE, "cannot connect"),
    ("a workspace that is briefly unavailable", {"DATABRICKS_TOKEN": TOKEN},
     TemporarilyUnavailable("try later"), Phase.RECONCILING, reasons.TRANSIENT_ERROR,
     "try later"),
]


@pytest.mark.parametrize("case, secret, answer, phase, reason, words", table(CASES, reason_at=4))
def test_each_failure_is_a_condition_naming_what_to_fix(case, secret, answer, phase, reason,
                                                        words):
    check = Check(answer)
    if secret is None:
        del check.kube.secrets[("ns", "creds")]
    else:
        check.kube.secrets[("ns", "creds")] = (secret, "2")
    outcome = check.run(workspace_body(status={}))
    assert (outcome.verdict.phase, outcome.verdict.reason) == (phase, reason)
    assert words in outcome.verdict.message
    assert "identity" not in check.kube.status and TOKEN not in outcome.verdict.message


def test_the_secret_is_read_afresh_on_every_check():
    check = Check(ME)
    obj = workspace_body(status={})
    check.run(obj)
    check.run(obj)
    assert check.kube.secret_reads == [("ns", "creds")] * 2


def test_a_cluster_workspace_reads_its_secret_from_the_operators_namespace():
    check = Check(ME)
    check.kube.secrets[("ops", "creds")] = ({"DATABRICKS_TOKEN": TOKEN}, "1")
    assert check.run(workspace_body("ClusterWorkspace", "shared", status={})).verdict.phase \
        is Phase.READY
    assert check.kube.secret_reads == [("ops", "creds")]


@pytest.mark.produces(reasons.IN_USE)
def test_deletion_waits_while_objects_need_the_workspace():
    check = Check(ME)
    obj = workspace_body(status={})
    check.run(obj)
    users = {"ServingEndpoint ns/churn", "OnlineTable ns/features"}
    delay = asyncio.run(check.checker.finalize("Workspace", obj, users))
    assert delay is not None
    reconciling = next(c for c in check.kube.status["conditions"] if c["type"] == "Reconciling")
    assert reconciling["reason"] == reasons.DELETING
    assert "OnlineTable ns/features, ServingEndpoint ns/churn" in reconciling["message"]
    assert [e.reason for e in check.events.warnings()] == [reasons.IN_USE]
    assert asyncio.run(check.checker.finalize("Workspace", obj, set())) is None
    assert check.clients.last_built("Workspace ns/dev") is None, "its clients are forgotten"
