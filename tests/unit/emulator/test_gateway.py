"""The ASGI gateway around a stub app: auth, faults (each mode), latency-free call log."""

from __future__ import annotations

import warnings

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from lakeserve.emulator.gateway import Gateway
from lakeserve.emulator.faults import parse_fault

from .conftest import TOKEN

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def applied() -> list:
    return []


@pytest.fixture
def client(ctx, applied) -> TestClient:
    async def write(request: Request) -> JSONResponse:
        applied.append(await request.json())
        return JSONResponse({"principal": request.state.principal})

    async def control(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    stub = Starlette(routes=[Route("/api/2.0/things", write, methods=["POST"]),
                             Route("/_emulator/health", control),
                             Route("/.well-known/databricks-config", control)])
    return TestClient(Gateway(stub, ctx), client=("127.0.0.1", 50000))


def test_api_paths_need_the_token_and_handlers_see_the_principal(client, ctx):
    assert client.post("/api/2.0/things", json={}).status_code == 401
    answer = client.post("/api/2.0/things", json={}, headers=AUTH)
    assert answer.json() == {"principal": ctx.settings.user_name}


def test_every_api_call_is_logged_but_not_control_or_probe_calls(client, ctx):
    client.get("/_emulator/health")
    client.get("/.well-known/databricks-config")
    client.post("/api/2.0/things", json={"a": 1}, headers={**AUTH,
                                                           "X-Databricks-Workspace-Id": "42"})
    client.post("/api/2.0/things?x=1", json={"b": 2})
    calls = ctx.calls.since(0)
    assert [(c.method, c.path, c.status, c.body) for c in calls] == [
        ("POST", "/api/2.0/things", 200, {"a": 1}), ("POST", "/api/2.0/things", 401, {"b": 2})]
    assert calls[0].workspace_id == "42" and calls[1].query == {"x": "1"}


def test_control_paths_answer_loopback_clients_only(ctx):
    stub = Starlette(routes=[Route("/_emulator/health", lambda r: JSONResponse({}))])
    remote = TestClient(Gateway(stub, ctx), client=("10.1.2.3", 50000))
    answer = remote.get("/_emulator/health")
    assert (answer.status_code, answer.json()["error_code"]) == (403, "PERMISSION_DENIED")


def test_with_control_off_control_paths_are_unknown_apis_and_the_api_still_works(client, ctx):
    ctx.control = False
    answer = client.get("/_emulator/health")
    assert answer.status_code == 404
    assert answer.json() == {"error_code": "ENDPOINT_NOT_FOUND",
                             "message": "No API found for 'GET /_emulator/health'"}
    assert client.post("/api/2.0/things", json={}, headers=AUTH).status_code == 200
    assert client.get("/.well-known/databricks-config").status_code == 200


def test_error_fault_answers_instead_of_the_handler(client, ctx, applied):
    ctx.faults.add(parse_fault({"method": "POST", "path": "/things$", "status": 429,
                                "retry_after": 2, "message": "slow down"}))
    answer = client.post("/api/2.0/things", json={"n": 1}, headers=AUTH)
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "2"
    assert answer.json() == {"error_code": "REQUEST_LIMIT_EXCEEDED", "message": "slow down"}
    assert applied == []
    assert client.post("/api/2.0/things", json={"n": 2}, headers=AUTH).status_code == 200
    assert [c.fault for c in ctx.calls.since(0)] == ["error", None]


def test_fault_without_retry_after_sends_no_header(client, ctx):
    ctx.faults.add(parse_fault({"path": "/things", "status": 429}))
    answer = client.post("/api/2.0/things", json={}, headers=AUTH)
    assert answer.status_code == 429 and "retry-after" not in answer.headers


def test_after_commit_fault_applies_the_write_then_fails(client, ctx, applied):
    ctx.faults.add(parse_fault({"path": "/things", "status": 503, "mode": "after_commit"}))
    answer = client.post("/api/2.0/things", json={"n": 1}, headers=AUTH)
    assert answer.status_code == 503
    assert applied == [{"n": 1}]


def test_delay_fault_answers_normally_after_the_delay(client, ctx, applied):
    ctx.faults.add(parse_fault({"path": "/things", "mode": "delay", "delay_seconds": 0.2}))
    answer = client.post("/api/2.0/things", json={"n": 1}, headers=AUTH)
    assert answer.status_code == 200 and applied == [{"n": 1}]
    assert answer.elapsed.total_seconds() >= 0.2


def test_a_held_request_whose_client_went_away_is_logged_with_its_fault(ctx, applied):
    """A killed client's connection drops while its answer is held: the call still counts as
    carried out (the fault is in the log), which is what the operator's kill tests count."""
    import asyncio

    from lakeserve.emulator.gateway import Gateway

    async def write(request: Request) -> JSONResponse:
        applied.append(await request.json())
        return JSONResponse({})

    gateway = Gateway(Starlette(routes=[Route("/api/2.0/things", write, methods=["POST"])]), ctx)
    ctx.faults.add(parse_fault({"path": "/things", "mode": "delay", "delay_seconds": 30}))
    scope = {"type": "http", "method": "POST", "path": "/api/2.0/things", "query_string": b"",
             "headers": [(b"authorization", f"Bearer {TOKEN}".encode()),
                         (b"content-type", b"application/json")]}
    messages = [{"type": "http.request", "body": b'{"n": 1}', "more_body": False}]

    async def receive():
        return messages.pop(0) if messages else await asyncio.Event().wait()

    async def send(message):
        return None

    async def disconnect_while_held():
        call = asyncio.ensure_future(gateway(scope, receive, send))
        while not applied:
            await asyncio.sleep(0.01)
        call.cancel()  # what the server does when the client disconnects
        with pytest.raises(asyncio.CancelledError):
            await call

    asyncio.run(disconnect_while_held())
    (call,) = ctx.calls.since(0)
    assert call.fault == "delay" and applied == [{"n": 1}]
