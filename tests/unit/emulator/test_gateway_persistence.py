"""The gateway saves the persisted state before answering a request that may have changed it: a
write (not a scoring request), or any request during which a state machine moved on."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import warnings

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from lakeserve.emulator.faults import parse_fault
from lakeserve.emulator.gateway import Gateway
from lakeserve.emulator.persistence import STATE_FILE, Persistence

from .conftest import TOKEN

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

AUTH = {"Authorization": f"Bearer {TOKEN}"}


class Counter:
    def __init__(self) -> None:
        self.value = 0

    def snapshot(self) -> int:
        return self.value

    def restore(self, value: int) -> None:
        self.value = value


@pytest.fixture
def counter(ctx, tmp_path) -> Counter:
    ctx.persistence = Persistence(tmp_path / STATE_FILE)
    counter = Counter()
    ctx.persistence.register("counter", counter)
    return counter


@pytest.fixture
def gateway(ctx, counter) -> Gateway:
    async def write(request: Request) -> JSONResponse:
        counter.value += 1
        return JSONResponse({})

    async def read(request: Request) -> JSONResponse:
        if request.query_params.get("moves"):  # a state machine moving on when looked at
            counter.value += 1
            ctx.persistence.mark_changed()
        return JSONResponse({})

    stub = Starlette(routes=[Route("/api/2.0/things", write, methods=["POST"]),
                             Route("/api/2.0/things", read, methods=["GET"]),
                             Route("/serving-endpoints/e/invocations", write, methods=["POST"]),
                             Route("/_emulator/settings", write, methods=["PUT"])])
    return Gateway(stub, ctx)


@pytest.fixture
def client(gateway) -> TestClient:
    return TestClient(gateway, client=("127.0.0.1", 50000))


def stored(ctx) -> int | None:
    path = ctx.persistence.path
    if not path.exists():
        return None
    with sqlite3.connect(path) as db:
        row = db.execute("SELECT body FROM areas WHERE name = 'counter'").fetchone()
    return int(row[0]) if row else None


def test_a_write_is_saved_before_its_answer_goes_out(gateway, ctx):
    seen = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            seen.append((message["status"], stored(ctx)))

    for method, path, expected in (("POST", "/api/2.0/things", 1),
                                   ("PUT", "/_emulator/settings", 2)):
        scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(),
                 "query_string": b"", "headers": [(b"authorization", AUTH["Authorization"]
                                                   .encode())],
                 "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80),
                 "scheme": "http", "root_path": "", "http_version": "1.1"}
        asyncio.run(gateway(scope, receive, send))
        assert seen[-1] == (200, expected), f"{method} {path}"


def test_a_read_saves_only_when_a_state_machine_moved(client, ctx, counter):
    client.post("/api/2.0/things", headers=AUTH)
    counter.value = 5  # changed behind the gateway's back: not its business on a plain read
    client.get("/api/2.0/things", headers=AUTH)
    assert stored(ctx) == 1
    client.get("/api/2.0/things?moves=1", headers=AUTH)
    assert stored(ctx) == 6


def test_scoring_requests_do_not_save(client, ctx):
    client.post("/serving-endpoints/e/invocations", headers=AUTH)
    assert stored(ctx) is None


def test_a_write_whose_answer_is_lost_is_saved(client, ctx):
    ctx.faults.add(parse_fault({"path": "/things", "status": 503, "mode": "after_commit"}))
    assert client.post("/api/2.0/things", headers=AUTH).status_code == 503
    assert stored(ctx) == 1


def test_a_failed_save_is_logged_and_the_answer_stands(client, ctx, monkeypatch, caplog):
    def refuse() -> int:
        raise OSError("disk full")
    monkeypatch.setattr(ctx.persistence, "save", refuse)
    with caplog.at_level(logging.ERROR, logger="lakeserve.emulator.gateway"):
        assert client.post("/api/2.0/things", headers=AUTH).status_code == 200
    assert "could not save the workspace state" in caplog.text
