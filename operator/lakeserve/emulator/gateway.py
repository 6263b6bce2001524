"""The ASGI layer in front of every route: auth, latency, injected faults, the call log, and
saving the persisted state before a response that follows a change goes out.

Written as plain ASGI (not ``BaseHTTPMiddleware``) to keep the per-request cost small.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lakeserve.emulator.context import EmulatorContext
from lakeserve.emulator.errors import PERMISSION_DENIED, ApiError, no_such_api
from lakeserve.emulator.faults import Fault
from lakeserve.emulator.persistence import Persistence

log = logging.getLogger(__name__)

CONTROL_PREFIX = "/_emulator"
HOST_METADATA_PATH = "/.well-known/databricks-config"
PROTECTED_PREFIXES = ("/api/", "/serving-endpoints/", "/route-optimized/")
# Token requests may carry a client secret; scoring payloads (up to 16 MB, thousands per second)
# would pin memory in the call log; inference tables keep those.
# File contents are neither JSON nor small.
UNLOGGED_BODY_PREFIXES = ("/oidc/", "/serving-endpoints/", "/route-optimized/",
                          "/api/2.0/fs/files/", "/presigned/")
LOOPBACK_HOSTS = {"127.0.0.1", "::1", "localhost"}
# Requests that change nothing unless a state machine moves on (which marks the state changed).
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SCORING_SUFFIX = "/invocations"


class Gateway:
    def __init__(self, app: ASGIApp, ctx: EmulatorContext):
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(CONTROL_PREFIX) and self.ctx.control:
            await self._control(scope, receive, send)
        elif path == HOST_METADATA_PATH:
            await self.app(scope, receive, send)
        else:
            await self._api(scope, receive, send)

    async def _control(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if not client or client[0] not in LOOPBACK_HOSTS:
            await send_error(send, ApiError(403, PERMISSION_DENIED,
                                            "The /_emulator/ paths answer loopback clients only"))
            return
        await self.app(scope, receive, self._saving(scope, send))

    async def _api(self, scope: Scope, receive: Receive, send: Send) -> None:
        arrived = self.ctx.clock.now()
        body = await _read_body(receive)
        recorder = _StatusRecorder(send)
        taken: list[Fault] = []  # filled as soon as a fault applies, so that a request whose
        # client went away (a killed process) is still logged with it
        try:
            await self._serve(scope, body, recorder, taken)
        finally:
            self._record(scope, body, recorder.status, taken[0] if taken else None, arrived)

    async def _serve(self, scope: Scope, body: bytes, send: Send, taken: list[Fault]) -> None:
        method, path = scope["method"], scope["path"]
        if path.startswith(CONTROL_PREFIX):  # control is off: an unknown path, as in Databricks
            await send_error(send, no_such_api(method, path))
            return
        if path.startswith(PROTECTED_PREFIXES):
            try:
                principal = self.ctx.auth.principal(_header(scope, b"authorization"))
            except ApiError as error:
                await send_error(send, error)
                return
            scope.setdefault("state", {})["principal"] = principal
        latency = self.ctx.settings.latency_seconds
        if latency:
            await asyncio.sleep(latency)
        fault = self.ctx.faults.take(method, path)
        receive = _replay(body)
        if fault is None:
            await self.app(scope, receive, self._saving(scope, send))
            return
        taken.append(fault)
        if fault.mode == "error":
            await send_error(send, _fault_error(fault))
        elif fault.mode == "after_commit":
            await self.app(scope, receive, self._saving(scope, _discard))
            await send_error(send, _fault_error(fault))
        else:
            await self.app(scope, receive,
                           self._saving(scope, _delayed(send, fault.delay_seconds)))

    def _saving(self, scope: Scope, send: Send) -> Send:
        """``send``, saving the persisted state first when the request may have changed it: a
        write (scoring requests are not), or any request during which a state machine moved."""
        persistence = self.ctx.persistence
        if not persistence.enabled:
            return send
        write = scope["method"] not in READ_METHODS and not scope["path"].endswith(SCORING_SUFFIX)

        async def saving_send(message: Message) -> None:
            if message["type"] == "http.response.start" and (write or persistence.changed):
                await _save(persistence)
            await send(message)
        return saving_send

    def _record(self, scope: Scope, body: bytes, status: int, fault: Fault | None,
                arrived: float) -> None:
        path = scope["path"]
        self.ctx.calls.record(
            time=arrived, method=scope["method"], path=path,
            query_string=scope.get("query_string", b"").decode("latin-1"), status=status,
            body=None if path.startswith(UNLOGGED_BODY_PREFIXES) else body,
            fault=fault.mode if fault else None,
            workspace_id=_header(scope, b"x-databricks-workspace-id"),
            principal=scope.get("state", {}).get("principal"))


async def send_error(send: Send, error: ApiError) -> None:
    body = error.body()
    headers = [(b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in error.headers().items()]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _fault_error(fault: Fault) -> ApiError:
    return ApiError(fault.status, fault.error_code or "UNKNOWN", fault.message, fault.retry_after)


class _StatusRecorder:
    """Passes messages through and remembers the response status."""

    def __init__(self, send: Send):
        self._send = send
        self.status = 500  # what the client sees if the app dies before answering

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        await self._send(message)


async def _save(persistence: Persistence) -> None:
    try:
        await asyncio.to_thread(persistence.save)
    except Exception:  # noqa: BLE001 - the answer stands; the next change saves again
        log.exception("could not save the workspace state to %s", persistence.path)


async def _discard(message: Message) -> None:
    return None


def _delayed(send: Send, seconds: float) -> Send:
    async def delayed_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            await asyncio.sleep(seconds)
        await send(message)
    return delayed_send


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # like a client that stays connected
        return {"type": "http.disconnect"}
    return receive


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None

