"""The operator's own Kubernetes calls: status and finalizer patches, events, reads of other
lakeserve objects (one by name, or a kind's list) and of Secrets, and the managed kinds' lists
and watches (``lakeserve.watch``; long-lived, so on connections of their own).

These calls are plain HTTP requests on the event loop (aiohttp, as kopf's own), with the
credentials kopf itself would use (``kopf.login_via_client``: in-cluster service account, else
the kubeconfig, exec plugins included; logged in again on a 401).
A request costs a third of what the official client's generated methods cost from a thread pool
(argument validation, model decoding, a thread hop): at thousands of objects that is most of the
operator's CPU. Answers to writes are not decoded. Events are posted in the background.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

import aiohttp
import kopf

from lakeserve.api.common import GROUP, VERSION
from lakeserve.api.crd import KindInfo
from lakeserve.reconcile.finalizer import Conflict
from lakeserve.resources.base import Event
from lakeserve.watch import lines

log = logging.getLogger(__name__)

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
REPORTING_COMPONENT = "lakeserve"
MAX_EVENT_MESSAGE = 1024
_TIMEOUT = aiohttp.ClientTimeout(total=30.0)
_SECRET_TIMEOUT = 60.0
_LIST_PAGE = 500

Login = Callable[[], kopf.ConnectionInfo | None]


class KubeError(Exception):
    """The API server refused a request: its status and its message."""

    def __init__(self, status: int, reason: str, message: str):
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.message = message


class KubeApi:
    """Implements the engine's KubePort and EventPort, plus the Secret reader for credentials.
    ``start`` and every call run on the operator's event loop, except ``read_secret``."""

    def __init__(self, login: Login, connections: int = 16):
        self._login = login
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None
        # Watches hold their connections for minutes: a pool of their own, not the requests'.
        self._watch_session: aiohttp.ClientSession | None = None
        self._server = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._background: set[asyncio.Task] = set()

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self._connect()

    async def close(self) -> None:
        for session in (self._session, self._watch_session):
            if session is not None:
                await session.close()

    # ---- KubePort ------------------------------------------------------------------------

    async def patch_status(self, info: KindInfo, namespace: str, name: str,
                           patch: Mapping[str, Any]) -> None:
        try:
            await self._request("PATCH", _path(info, namespace, name) + "/status",
                                {"status": dict(patch)}, MERGE_PATCH)
        except KubeError as exc:
            if exc.status != 404:  # deleted meanwhile: nothing to report on
                raise

    async def patch_metadata(self, info: KindInfo, namespace: str, name: str,
                             patch: Mapping[str, Any]) -> None:
        """A merge patch of the object itself (the finalizer); Conflict on a stale
        resourceVersion, nothing when the object is gone."""
        try:
            await self._request("PATCH", _path(info, namespace, name), dict(patch), MERGE_PATCH)
        except KubeError as exc:
            if exc.status == 409:
                raise Conflict(f"{info.kind} {namespace}/{name} changed meanwhile") from None
            if exc.status != 404:
                raise

    async def get_object(self, info: KindInfo, namespace: str, name: str) -> Mapping | None:
        return await self._get(_path(info, namespace, name))

    async def list_objects(self, info: KindInfo, namespace: str | None,
                           page: int = _LIST_PAGE) -> list[dict]:
        """Every object of a kind, in one namespace or (None) in all, read in pages; with no
        label selector: what all shards manage, not only this replica's."""
        items, _ = await self.list_items(collection(info, namespace), {}, page)
        return items

    async def namespace_labels(self, name: str) -> dict[str, str] | None:
        """The labels of a namespace; None when it does not exist."""
        namespace = await self._get(f"/api/v1/namespaces/{name}")
        return None if namespace is None else dict(
            (namespace.get("metadata") or {}).get("labels") or {})

    # ---- lists, and the WatchPort (lakeserve.watch) -------------------------------------

    async def list_items(self, path: str, query: Mapping[str, str],
                         page: int = _LIST_PAGE) -> tuple[list[dict], str]:
        """Every item of a collection, read in pages, and the list's resourceVersion."""
        items: list[dict] = []
        version, token = "", ""
        while True:
            paged = {**query, "limit": str(page), **({"continue": token} if token else {})}
            answer = json.loads(await self._request("GET", f"{path}?{urlencode(paged)}"))
            items.extend(answer.get("items") or [])
            meta = answer.get("metadata") or {}
            version, token = meta.get("resourceVersion") or version, meta.get("continue") or ""
            if not token:
                return items, version

    async def stream(self, path: str, query: Mapping[str, str],
                     read_timeout: float) -> AsyncIterator[bytes]:
        """The lines of a watch; ends when the API server ends it."""
        session = self._watch_session
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=30.0, sock_read=read_timeout)
        async with session.get(self._server + f"{path}?{urlencode(query)}", timeout=timeout,
                               headers={"Accept": JSON}) as response:
            if response.status == 401:
                await self._reconnect(self._session)
            if not 200 <= response.status <= 299:
                raise KubeError(response.status, response.reason or "",
                                _message(await response.read()))
            async for line in lines(response.content.iter_any()):
                yield line

    # ---- EventPort -----------------------------------------------------------------------

    def record(self, body: Mapping[str, Any], event: Event) -> None:
        """Post a Kubernetes event about ``body`` in the background."""
        self._spawn(self._post_event(_event(body, event, _now())))

    # ---- Secrets -------------------------------------------------------------------------

    async def read_versioned_secret(self, namespace: str,
                                    name: str) -> tuple[dict[str, str], str] | None:
        """A Secret's decoded data and its resourceVersion; None when it does not exist."""
        secret = await self._get(f"/api/v1/namespaces/{namespace}/secrets/{name}")
        if secret is None:
            return None
        return (_decoded(secret.get("data")),
                (secret.get("metadata") or {}).get("resourceVersion") or "")

    def read_secret(self, namespace: str, name: str) -> dict[str, str] | None:
        """Blocking: for the Databricks worker threads (never the event loop's own)."""
        secret = asyncio.run_coroutine_threadsafe(
            self._get(f"/api/v1/namespaces/{namespace}/secrets/{name}"), self._loop,
        ).result(_SECRET_TIMEOUT)
        return None if secret is None else _decoded(secret.get("data"))

    # ---- requests ------------------------------------------------------------------------

    async def _get(self, path: str) -> dict | None:
        try:
            return json.loads(await self._request("GET", path))
        except KubeError as exc:
            if exc.status == 404:
                return None
            raise

    async def _post_event(self, event: dict) -> None:
        ref = event["involvedObject"]
        try:
            await self._request("POST", f"/api/v1/namespaces/{ref['namespace']}/events", event)
        except Exception as exc:  # noqa: BLE001 - an event is not worth failing anything for
            log.warning("could not post the event %s about %s %s/%s: %s", event["reason"],
                        ref.get("kind"), ref.get("namespace"), ref.get("name"), exc)

    async def _request(self, method: str, path: str, body: Any = None,
                       content_type: str = JSON) -> bytes:
        for attempt in (1, 2):
            session = self._session
            async with session.request(
                    method, self._server + path, timeout=_TIMEOUT,
                    data=None if body is None else json.dumps(body),
                    headers={"Content-Type": content_type, "Accept": JSON}) as response:
                data = await response.read()
            if response.status == 401 and attempt == 1:  # e.g. a rotated token: log in again
                await self._reconnect(session)
                continue
            if not 200 <= response.status <= 299:
                raise KubeError(response.status, response.reason or "", _message(data))
            return data
        raise AssertionError("unreachable")

    async def _connect(self) -> None:
        info = await asyncio.to_thread(self._login)  # reads files, may run an exec plugin
        if info is None:
            raise RuntimeError("no Kubernetes credentials: neither in-cluster nor a kubeconfig")
        self._server = info.server.rstrip("/")
        ssl, headers = info.as_ssl_context(), info.as_http_headers()
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._connections, ssl=ssl),
            headers=headers, trust_env=info.trust_env)
        self._watch_session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, ssl=ssl), headers=headers,
            trust_env=info.trust_env)

    async def _reconnect(self, stale: aiohttp.ClientSession) -> None:
        if self._session is stale:  # not already replaced by a concurrent request
            stale_watches = self._watch_session
            await self._connect()
            await stale.close()
            if stale_watches is not None:  # open watches end, and resume with the new login
                await stale_watches.close()

    def _spawn(self, coroutine: Coroutine) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def _message(data: bytes) -> str:
    """The API server's Status message, else the raw answer."""
    try:
        return json.loads(data).get("message") or data.decode(errors="replace")
    except (ValueError, AttributeError):
        return data.decode(errors="replace")


def _path(info: KindInfo, namespace: str, name: str) -> str:
    return f"{collection(info, None if info.cluster_scoped else namespace)}/{name}"


def collection(info: KindInfo, namespace: str | None) -> str:
    """A kind's objects in one namespace, or (None) in all / of a cluster-scoped kind."""
    if namespace is None:
        return f"/apis/{GROUP}/{VERSION}/{info.plural}"
    return f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{info.plural}"


def _decoded(data: Mapping[str, str] | None) -> dict[str, str]:
    return {key: base64.b64decode(value).decode() for key, value in (data or {}).items()}


def _event(body: Mapping[str, Any], event: Event, now: str) -> dict:
    """A core/v1 Event as ``kubectl describe`` and ``kubectl get events`` show them."""
    meta = body.get("metadata") or {}
    message = event.message
    if len(message) > MAX_EVENT_MESSAGE:
        message = message[:MAX_EVENT_MESSAGE - 3] + "..."
    return {
        "metadata": {"generateName": f"{meta.get('name')}.", "namespace": meta.get("namespace")},
        "involvedObject": {"apiVersion": body.get("apiVersion"), "kind": body.get("kind"),
                           "name": meta.get("name"), "namespace": meta.get("namespace"),
                           "uid": meta.get("uid")},
        "type": "Warning" if event.warning else "Normal",
        "reason": event.reason,
        "message": message,
        "source": {"component": REPORTING_COMPONENT},
        "reportingComponent": REPORTING_COMPONENT,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
