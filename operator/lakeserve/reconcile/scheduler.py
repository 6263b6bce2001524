"""When passes run: one timer heap for every object, fed by watch events.

kopf hands every watch event to ``notice``. Per object the scheduler keeps a slim copy of the
body (what the engine reads: no managedFields, no foreign annotations) and when its next pass is
due; a bounded number of passes run at once. Passes of one object never overlap: a change that
arrives during a pass makes the object due again as soon as the pass ends, with the newest body,
so several spec changes made while Databricks is busy collapse into one update. Only changes that
matter make an object due at once -- a new generation, an annotation the engine or the kind reads
(adopt, paused, reconcile-requested-at, ...), the start of deletion; status writes, which also
come back as watch events, do not. A deleted object is finalized, and forgotten when it is gone.

While kopf's peering holds this operator back (another replica is active), no pass starts.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lakeserve.reconcile import finalizer
from lakeserve.reconcile.engine import Engine
from lakeserve.reconcile.policy import wake_fingerprint

log = logging.getLogger(__name__)

_METADATA = ("name", "namespace", "uid", "generation", "resourceVersion", "deletionTimestamp",
             "finalizers")


@dataclass(slots=True)
class Entry:
    """One object as the scheduler knows it."""

    kind: str
    body: dict[str, Any]
    fingerprint: tuple
    due: float = 0.0
    running: bool = False
    again: bool = False  # a change arrived during the running pass


class Scheduler:
    def __init__(self, engine: Engine, concurrency: int = 32,
                 clock: Callable[[], float] = time.monotonic):
        self.engine = engine
        self.concurrency = concurrency
        self._clock = clock
        self._entries: dict[str, Entry] = {}
        self._heap: list[tuple[float, int, str]] = []
        self._order = itertools.count()
        self._running: set[asyncio.Task] = set()
        self._wake = asyncio.Event()
        self.paused = False

    # ---- what kopf calls -----------------------------------------------------------------

    def notice(self, kind: str, body: Mapping[str, Any], event_type: str | None = None) -> None:
        """A watch event arrived (``event_type`` None for kopf's initial listing)."""
        uid = (body.get("metadata") or {}).get("uid")
        if not uid:
            return
        if event_type == "DELETED":
            self._forget(uid)
            return
        entry = self._entries.get(uid)
        fingerprint = self._fingerprint(kind, body)
        if entry is None:
            self._entries[uid] = Entry(kind, self._slim(kind, body, status=True), fingerprint)
            self._due(uid, self._clock())
            return
        changed = fingerprint != entry.fingerprint
        entry.body = {**self._slim(kind, body, status=False), **_status_of(entry.body)}
        entry.fingerprint = fingerprint
        if changed:
            self._changed(uid, entry)

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False
        self._wake.set()

    async def run(self) -> None:
        """Start passes as they fall due, until cancelled."""
        while True:
            self._start_due()
            await self._sleep()

    @property
    def size(self) -> int:
        return len(self._entries)

    # ---- dispatching ---------------------------------------------------------------------

    def _start_due(self) -> None:
        now = self._clock()
        while self._heap and self._heap[0][0] <= now and not self.paused \
                and len(self._running) < self.concurrency:
            due, _, uid = heapq.heappop(self._heap)
            entry = self._entries.get(uid)
            if entry is None or entry.due != due or entry.running:
                continue  # forgotten, rescheduled since, or running (it reschedules itself)
            entry.running = True
            task = asyncio.create_task(self._pass(uid, entry))
            self._running.add(task)
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task) -> None:
        self._running.discard(task)
        self._wake.set()

    async def _sleep(self) -> None:
        timeout = None
        if self._heap and not self.paused and len(self._running) < self.concurrency:
            timeout = max(0.0, self._heap[0][0] - self._clock())
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), timeout)
        except TimeoutError:
            pass

    def _due(self, uid: str, when: float) -> None:
        entry = self._entries[uid]
        entry.due = when
        heapq.heappush(self._heap, (when, next(self._order), uid))
        if self._heap[0][2] == uid:
            self._wake.set()

    def _changed(self, uid: str, entry: Entry) -> None:
        if entry.running:
            entry.again = True
        else:
            self._due(uid, self._clock())

    # ---- one pass ------------------------------------------------------------------------

    async def _pass(self, uid: str, entry: Entry) -> None:
        entry.again = False
        try:
            delay = await self._step(uid, entry)
        except Exception:  # noqa: BLE001 - a bug must not stop the object; retry later
            # e.g. the Kubernetes API refusing a status write: retry soon, not at once
            log.exception("reconcile pass of %s %s failed unexpectedly", entry.kind,
                          entry.body["metadata"].get("name"))
            delay = self.engine.settings.converge_max
        finally:
            entry.running = False
        if self._entries.get(uid) is not entry:
            return  # gone meanwhile
        if delay is None:
            self._forget(uid)
        else:
            self._due(uid, self._clock() + (0.0 if entry.again else delay))

    async def _step(self, uid: str, entry: Entry) -> float | None:
        body = entry.body
        if body["metadata"].get("deletionTimestamp"):
            if not finalizer.held(body):
                return None  # never written to Databricks, or already finalized
            return await self.engine.finalize(entry.kind, body)
        outcome = await self.engine.reconcile(entry.kind, body)
        # The engine keeps the status it wrote (fresher than any watch event): drop ours.
        body.pop("status", None)
        return outcome.requeue_after

    def _forget(self, uid: str) -> None:
        entry = self._entries.pop(uid, None)
        if entry is not None:
            self.engine.forget(entry.body)

    # ---- what is kept of a body ----------------------------------------------------------

    def _annotations(self, kind: str) -> tuple[str, ...]:
        return self.engine.watched_annotations(kind)

    def _slim(self, kind: str, body: Mapping[str, Any], status: bool) -> dict[str, Any]:
        meta = body.get("metadata") or {}
        annotations = meta.get("annotations") or {}
        slim_meta = {key: meta[key] for key in _METADATA if key in meta}
        slim_meta["annotations"] = {key: annotations[key] for key in self._annotations(kind)
                                    if key in annotations}
        slim = {"apiVersion": body.get("apiVersion"), "kind": body.get("kind"),
                "metadata": slim_meta, "spec": body.get("spec")}
        if status and body.get("status") is not None:
            slim["status"] = body["status"]
        return slim

    def _fingerprint(self, kind: str, body: Mapping[str, Any]) -> tuple:
        return wake_fingerprint(body, self._annotations(kind))


def _status_of(body: Mapping[str, Any]) -> dict[str, Any]:
    """The watched status kept until the object's first pass (the engine's afterwards)."""
    return {"status": body["status"]} if "status" in body else {}
