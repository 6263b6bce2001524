"""Throttling, injected faults and the SDK's retries, counted through the call log."""

from __future__ import annotations

import httpx
import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.config import Config
from databricks.sdk.errors import ResourceAlreadyExists, TemporarilyUnavailable

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

ENDPOINTS = "/api/2.0/serving-endpoints"


def create_body(name: str) -> dict:
    return {"name": name, "config": {"served_entities": [
        {"name": "m", "entity_name": "main.default.model", "entity_version": "1",
         "workload_size": "Small", "scale_to_zero_enabled": True}]}}


def add_fault(emulator, **fault) -> None:
    emulator.control("POST", "/_emulator/faults", fault)


@pytest.mark.parametrize("retry_after", [1, None], ids=["with Retry-After", "without"])
def test_sdk_retries_429_until_the_fault_is_used_up(workspace, emulator, calls, retry_after):
    add_fault(emulator, method="GET", path=f"^{ENDPOINTS}$", status=429, times=2,
              retry_after=retry_after, message="Too many requests")
    assert workspace.serving_endpoints.list() == []
    assert calls.statuses("GET", ENDPOINTS) == [429, 429, 200]
    assert [c["fault"] for c in calls.get()["calls"]] == ["error", "error", None]


@pytest.mark.parametrize("retry_after, header", [(7, "7"), (None, None)])
def test_retry_after_header_is_sent_only_when_configured(emulator, retry_after, header):
    add_fault(emulator, path=ENDPOINTS, status=429, retry_after=retry_after)
    answer = httpx.get(emulator.host + ENDPOINTS,
                       headers={"Authorization": f"Bearer {emulator.token}"})
    assert answer.status_code == 429
    assert answer.json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    assert answer.headers.get("Retry-After") == header


def test_write_limit_throttles_creates_and_the_sdk_waits_it_out(workspace, emulator, calls,
                                                                model_version):
    model_version()
    emulator.control("PUT", "/_emulator/settings",
                     {"write_limit": {"limit": 2, "window_seconds": 2}})
    for name in ("one", "two"):
        workspace.api_client.do("POST", ENDPOINTS, body=create_body(name))
    direct = httpx.post(emulator.host + ENDPOINTS, json=create_body("three"),
                        headers={"Authorization": f"Bearer {emulator.token}"})
    assert direct.status_code == 429
    assert direct.json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    assert 1 <= int(direct.headers["Retry-After"]) <= 2

    # The SDK sleeps Retry-After and retries; the window slides and the create goes through.
    workspace.api_client.do("POST", ENDPOINTS, body=create_body("three"))
    statuses = calls.statuses("POST", ENDPOINTS)
    assert statuses[:3] == [200, 200, 429]
    assert statuses[-1] == 200 and 429 in statuses[3:]
    assert sorted(e.name for e in workspace.serving_endpoints.list()) == ["one", "three", "two"]


def test_committed_write_with_a_lost_response_surfaces_as_already_exists(workspace, emulator,
                                                                        calls, model_version):
    model_version()
    add_fault(emulator, method="POST", path=f"^{ENDPOINTS}$", status=503, mode="after_commit")
    with pytest.raises(ResourceAlreadyExists):
        workspace.api_client.do("POST", ENDPOINTS, body=create_body("lost-response"))
    assert calls.statuses("POST", ENDPOINTS) == [503, 409]
    assert workspace.serving_endpoints.get("lost-response").name == "lost-response"


def test_server_errors_that_are_not_retryable_fail_at_once(workspace, emulator, calls):
    add_fault(emulator, path=ENDPOINTS, status=500, times=None)
    with pytest.raises(Exception) as caught:
        workspace.serving_endpoints.list()
    assert "Injected fault" in str(caught.value)
    assert calls.statuses("GET", ENDPOINTS) == [500]
    emulator.control("DELETE", "/_emulator/faults")
    assert workspace.serving_endpoints.list() == []


def test_delay_fault_makes_a_client_time_out(emulator, calls):
    add_fault(emulator, path=ENDPOINTS, mode="delay", delay_seconds=1.5)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(emulator.host + ENDPOINTS, timeout=0.5,
                  headers={"Authorization": f"Bearer {emulator.token}"})


def test_503_is_temporarily_unavailable_once_retries_run_out(emulator):
    add_fault(emulator, path=ENDPOINTS, status=503, times=None)
    client = WorkspaceClient(config=Config(host=emulator.host, token=emulator.token,
                                           auth_type="pat", retry_timeout_seconds=1,
                                           http_timeout_seconds=5))
    with pytest.raises(TimeoutError) as caught:
        client.serving_endpoints.list()
    assert isinstance(caught.value.__cause__, TemporarilyUnavailable)
