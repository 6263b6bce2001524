"""Who the caller is, as the SDK asks it; rotating tokens; OAuth tokens refreshed after expiry."""

from __future__ import annotations

import time

import httpx
import pytest
from databricks.sdk.errors import Unauthenticated

from lakeserve.emulator.process import EmulatorProcess

from ..conftest import OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, workspace_client

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def test_a_token_is_the_workspace_user_and_the_org_id_header_names_the_workspace(emulator):
    client = workspace_client(emulator.host, token=emulator.token, auth_type="pat")
    me = client.current_user.me()
    assert me.user_name == "emulator-user@lakeserve.dev" and me.active
    assert me.id and me.id.isdigit()
    answer = httpx.get(f"{emulator.host}/api/2.0/preview/scim/v2/Me",
                       headers={"Authorization": f"Bearer {emulator.token}"})
    assert answer.headers["X-Databricks-Org-Id"] == "1234567890123456"


def test_an_oauth_client_is_a_service_principal_named_by_its_application_id(emulator, calls):
    client = workspace_client(emulator.host, client_id=OAUTH_CLIENT_ID,
                              client_secret=OAUTH_CLIENT_SECRET, auth_type="oauth-m2m")
    me = client.current_user.me()
    assert me.user_name == OAUTH_CLIENT_ID and me.display_name != OAUTH_CLIENT_ID
    (call,) = [c for c in calls.get()["calls"] if c["path"].endswith("/Me")]
    assert call["principal"] == OAUTH_CLIENT_ID, "the call log says who called"


def test_an_added_token_works_until_revoked(emulator):
    emulator.control("POST", "/_emulator/tokens", {"token": "rotation-token-0001"})
    client = workspace_client(emulator.host, token="rotation-token-0001", auth_type="pat")
    assert client.current_user.me().user_name == "emulator-user@lakeserve.dev"
    emulator.control("POST", "/_emulator/tokens/revoke", {"token": "rotation-token-0001"})
    with pytest.raises(Unauthenticated):
        client.current_user.me()


def test_expired_oauth_tokens_are_refused_and_the_sdk_fetches_new_ones(emulator, calls):
    emulator.control("PUT", "/_emulator/settings", {"oauth_token_seconds": 2})
    client = workspace_client(emulator.host, client_id=OAUTH_CLIENT_ID,
                              client_secret=OAUTH_CLIENT_SECRET, auth_type="oauth-m2m")
    first = client.config.authenticate()["Authorization"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and client.config.authenticate()["Authorization"] == first:
        client.current_user.me()
        time.sleep(0.2)
    answer = httpx.get(f"{emulator.host}/api/2.0/preview/scim/v2/Me",
                       headers={"Authorization": first})
    assert answer.status_code in (200, 401)
    time.sleep(2.1)  # the first token is past its lifetime now, whatever the SDK did meanwhile
    refused = httpx.get(f"{emulator.host}/api/2.0/preview/scim/v2/Me",
                        headers={"Authorization": first})
    assert (refused.status_code, refused.json()["error_code"]) == (401, "UNAUTHENTICATED")
    assert client.current_user.me().user_name == OAUTH_CLIENT_ID, "the SDK refreshed"
    mine = calls.get()
    assert mine["counts"]["POST /oidc/v1/token"] >= 2
    sdk_statuses = [c["status"] for c in mine["calls"]
                    if c["path"].endswith("/Me") and c["principal"] is not None]
    assert sdk_statuses and set(sdk_statuses) == {200}


def test_a_second_workspace_reports_its_own_id():
    with EmulatorProcess(workspace_id="2222222222222222") as other:
        client = workspace_client(other.host, token=other.token, auth_type="pat")
        assert client.config.workspace_id == "2222222222222222"
        assert other.control("GET", "/_emulator/health")["workspace_id"] == "2222222222222222"
