"""OAuth M2M end to end: a Workspace with a service principal's client id and secret on the
second local workspace, whose access tokens live a few seconds: the operator keeps fetching new
ones, and no request is ever refused."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.conftest import OAUTH_TOKEN_SECONDS, SECOND_OAUTH_CLIENT, SECOND_WORKSPACE_ID
from tests.e2e.workspaces.conftest import (
    condition,
    endpoint,
    reads_as,
    secret,
    workspace_object,
    writes,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(150),
              pytest.mark.emulator_only("a second local workspace with short-lived OAuth tokens")]

TOKEN_PATH = "/oidc/v1/token"


def test_a_service_principal_with_short_lived_tokens(operator, cluster, second_workspace, poll):
    b = second_workspace.require_emulator()
    model = f"main.e2e.oauth_{uuid.uuid4().hex[:6]}"
    b.control("POST", "/_emulator/registry/model-versions", {"name": model})
    name = f"{cluster.namespace}-sp"
    since = second_workspace.last_seq()
    cluster.apply(secret("sp", DATABRICKS_CLIENT_ID=SECOND_OAUTH_CLIENT,
                         DATABRICKS_CLIENT_SECRET=b.client_secret))
    cluster.apply(workspace_object("sp", second_workspace.host, "sp"))
    status = cluster.wait("workspace", "sp")["status"]
    assert (status["identity"], status["authType"], status["workspaceId"]) == (
        SECOND_OAUTH_CLIENT, "oauth-m2m", SECOND_WORKSPACE_ID)
    cluster.apply(endpoint(name, model, "sp"))
    ready = condition(cluster.wait("servingendpoint", name), "Ready")
    creates = [c for c in writes(second_workspace, since, [name]) if c["method"] == "POST"]
    assert [c["principal"] for c in creates] == [SECOND_OAUTH_CLIENT]

    def grants() -> list[float]:
        return [c["time"] for c in second_workspace.calls(since)["calls"]
                if c["path"] == TOKEN_PATH and c["status"] == 200]

    poll(lambda: len(grants()) >= 3, timeout=8 * OAUTH_TOKEN_SECONDS,
         message="the operator to fetch a third access token")
    later = second_workspace.last_seq()
    first_expired = grants()[0] + OAUTH_TOKEN_SECONDS
    poll(lambda: reads_as(second_workspace, later, name, SECOND_OAUTH_CLIENT), timeout=30,
         message="a pass after the first tokens expired")
    calls = second_workspace.calls(since)["calls"]
    assert [c for c in calls if c["time"] > first_expired and c["principal"]], \
        "requests went on after the first token expired"
    assert not [c for c in calls if c["status"] == 401], "no request was refused"
    again = condition(cluster.get("servingendpoint", name), "Ready")
    assert (again["status"], again["lastTransitionTime"]) == ("True", ready["lastTransitionTime"])
