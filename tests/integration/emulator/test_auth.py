"""Bearer auth, host metadata and OAuth M2M as the SDK uses them."""

from __future__ import annotations

import httpx
import pytest
from databricks.sdk.errors import Unauthenticated

from ..conftest import OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, workspace_client

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def test_wrong_token_is_unauthenticated_and_not_echoed(emulator):
    client = workspace_client(emulator.host, token="not-the-token", auth_type="pat")
    with pytest.raises(Unauthenticated):
        client.serving_endpoints.list()
    answer = httpx.get(f"{emulator.host}/api/2.0/serving-endpoints",
                       headers={"Authorization": "Bearer not-the-token"})
    assert answer.status_code == 401
    assert answer.json()["error_code"] == "UNAUTHENTICATED"
    assert "not-the-token" not in answer.text and emulator.token not in answer.text


def test_missing_credentials_on_every_api_prefix(emulator):
    for path in ("/api/2.0/serving-endpoints", "/api/2.1/unity-catalog/models",
                 "/serving-endpoints/x/invocations"):
        answer = httpx.get(emulator.host + path)
        assert (answer.status_code, answer.json()["error_code"]) == (401, "UNAUTHENTICATED"), path


def test_client_learns_the_workspace_id_and_sends_it(workspace, emulator, calls):
    assert workspace.config.workspace_id == "1234567890123456"
    workspace.serving_endpoints.list()
    (call,) = calls.get()["calls"]
    assert call["workspace_id"] == "1234567890123456"


def test_oauth_m2m_client_gets_a_token_and_calls_the_api(emulator, calls):
    client = workspace_client(emulator.host, client_id=OAUTH_CLIENT_ID,
                              client_secret=OAUTH_CLIENT_SECRET, auth_type="oauth-m2m")
    assert client.serving_endpoints.list() == []
    counts = calls.get()["counts"]
    assert counts["POST /oidc/v1/token"] == 1
    assert counts["GET /api/2.0/serving-endpoints"] == 1
    token_call = next(c for c in calls.get()["calls"] if c["path"] == "/oidc/v1/token")
    assert token_call["body"] is None  # token requests are logged without their body


def test_oauth_m2m_with_a_wrong_secret_fails(emulator):
    client = workspace_client(emulator.host, client_id=OAUTH_CLIENT_ID,
                              client_secret="wrong", auth_type="oauth-m2m")
    with pytest.raises(Exception, match="invalid_client"):
        client.serving_endpoints.list()


def test_endpoints_created_over_oauth_name_the_client_as_creator(emulator, model_version):
    model_version()
    client = workspace_client(emulator.host, client_id=OAUTH_CLIENT_ID,
                              client_secret=OAUTH_CLIENT_SECRET, auth_type="oauth-m2m")
    created = client.api_client.do("POST", "/api/2.0/serving-endpoints", body={
        "name": "by-sp", "config": {"served_entities": [
            {"entity_name": "main.default.model", "entity_version": "1"}]}})
    assert created["creator"] == OAUTH_CLIENT_ID
