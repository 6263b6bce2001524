"""The managed kinds' own watch: list, then watch from the list's resourceVersion, and hand
every object to the scheduler as it arrives.

kopf delivers each watch event through a per-object worker task, cause detection and handler
invocation (a logger, a patch and some thirty keyword arguments per call) -- a quarter of the
operator's CPU at thousands of objects, for a handler that only hands the body on. Here a
watch event costs its JSON decoding and the scheduler's ``notice``. kopf still runs the
operator: start-up and clean-up, peering, probes, and the workspace kinds' handlers.

Semantics are the API server's list-then-watch: the list's items go out as the initial listing
(event type None); after a reconnect the watch resumes from the last resourceVersion seen
(bookmarks keep it fresh); when that version has expired (410 Gone) the kind is listed again,
and objects that vanished meanwhile are reported DELETED.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Protocol

log = logging.getLogger(__name__)

Deliver = Callable[[Mapping[str, Any], "str | None"], None]

# The API server ends a watch after timeoutSeconds (the watch then resumes); a read that
# stays silent longer than this means the connection is dead.
WATCH_SECONDS = 300
RETRY_FIRST, RETRY_MAX = 1.0, 30.0
RECONNECT = 0.1  # between watches that ended normally: no busy loop on a server ending at once


class Expired(Exception):
    """The resourceVersion to resume from is too old (410 Gone): list again."""


class WatchPort(Protocol):
    async def list_items(self, path: str,
                         query: Mapping[str, str]) -> tuple[list[dict], str]: ...

    def stream(self, path: str, query: Mapping[str, str],
               read_timeout: float) -> AsyncIterator[bytes]: ...


class KindWatch:
    """One kind in one namespace (or, with None, in all): runs until cancelled."""

    def __init__(self, port: WatchPort, collection: str, deliver: Deliver,
                 selector: str | None = None):
        self.port = port
        self.collection = collection  # e.g. /apis/lakeserve.dev/v1alpha1/namespaces/ns/...
        self.deliver = deliver
        self.selector = selector
        self.known: dict[str, dict] = {}  # uid -> the metadata a DELETED report needs
        self.version: str | None = None  # where the watch resumes; None: list first

    async def run(self) -> None:
        delay = RETRY_FIRST
        while True:
            try:
                if self.version is None:
                    self.version = await self._list()
                await self._watch()
                delay = RETRY_FIRST
                await asyncio.sleep(RECONNECT)
            except Expired:
                self.version = None
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the API server or the network; retry
                if getattr(exc, "status", None) == 410:  # the watch refused outright as Gone
                    self.version = None
                    continue
                log.warning("watching %s failed (%s); retrying in %.0f s", self.collection,
                            _brief(exc), delay)
                await asyncio.sleep(delay)
                delay = min(RETRY_MAX, delay * 2)

    async def _list(self) -> str:
        items, version = await self.port.list_items(self.collection, self._selector())
        listed = {}
        for item in items:
            listed[_uid(item)] = _identity(item)
            self.deliver(item, None)
        for uid, identity in self.known.items():
            if uid not in listed:  # gone while the watch was not looking
                self.deliver({"metadata": identity}, "DELETED")
        self.known = listed
        return version

    async def _watch(self) -> None:
        query = {"watch": "1", "allowWatchBookmarks": "true", "resourceVersion": self.version,
                 "timeoutSeconds": str(WATCH_SECONDS), **self._selector()}
        async for line in self.port.stream(self.collection, query, WATCH_SECONDS + 30):
            event = json.loads(line)
            kind, obj = event.get("type"), event.get("object") or {}
            if kind == "ERROR":
                if obj.get("code") == 410:
                    raise Expired()
                raise RuntimeError(f"{obj.get('code')} {obj.get('reason')}: "
                                   f"{obj.get('message')}")
            self.version = (obj.get("metadata") or {}).get("resourceVersion") or self.version
            if kind == "BOOKMARK":
                continue
            if kind == "DELETED":
                self.known.pop(_uid(obj), None)
            else:
                self.known[_uid(obj)] = _identity(obj)
            self.deliver(obj, kind)

    def _selector(self) -> dict[str, str]:
        return {"labelSelector": self.selector} if self.selector else {}


def _uid(body: Mapping[str, Any]) -> str:
    return (body.get("metadata") or {}).get("uid", "")


def _identity(body: Mapping[str, Any]) -> dict:
    meta = body.get("metadata") or {}
    return {key: meta[key] for key in ("uid", "name", "namespace") if key in meta}


def _brief(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


async def lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Whole lines of a stream of chunks, however long (an object can be megabytes)."""
    pending = b""
    async for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for line in complete:
            if line.strip():
                yield line
    if pending.strip():
        yield pending
