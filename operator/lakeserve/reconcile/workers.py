"""When passes of the workspace kinds run: one worker per object (a kopf daemon), woken by spec
changes, otherwise on its own requeue.

Workspace and ClusterWorkspace objects are few (one per workspace and tenant), so a daemon each
costs nothing worth saving; the managed kinds, of which there are thousands, share one timer heap
instead (``lakeserve.reconcile.scheduler``). A worker runs a pass, then sleeps for the delay the
check asked for; a change that matters (a new generation, a watched annotation, the start of
deletion) or ``wake`` runs the next pass at once. Passes of one object never overlap.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any, Protocol

from lakeserve.reconcile.engine import PassOutcome
from lakeserve.reconcile.policy import wake_fingerprint
from lakeserve.settings import Settings

log = logging.getLogger(__name__)


class StopFlag(Protocol):
    def __bool__(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> Any: ...


class Reconciler(Protocol):
    """The engine, or the workspace check: what a worker runs."""

    settings: Settings

    async def reconcile(self, kind: str, body: Mapping[str, Any]) -> PassOutcome: ...

    def watched_annotations(self, kind: str) -> tuple[str, ...]: ...


class WorkerScheduler:
    def __init__(self, engine: Reconciler):
        self.engine = engine
        self._wakeups: dict[str, asyncio.Event] = {}
        self._seen: dict[str, tuple] = {}

    async def run_worker(self, kind: str, body: Mapping[str, Any], stopped: StopFlag) -> None:
        """Run passes until kopf stops the worker (deletion or operator exit)."""
        uid = body["metadata"]["uid"]
        wake = self._wakeups.setdefault(uid, asyncio.Event())
        try:
            while not stopped:
                wake.clear()
                self._seen[uid] = self._fingerprint(kind, body)
                delay = await self._pass(kind, body)
                await self._sleep(delay, wake, stopped)
        finally:
            self._wakeups.pop(uid, None)
            self._seen.pop(uid, None)

    def notice(self, kind: str, body: Mapping[str, Any]) -> None:
        """A watch event arrived: wake the worker if something it acts on changed."""
        uid = (body.get("metadata") or {}).get("uid")
        wake = self._wakeups.get(uid)
        if wake is not None and self._fingerprint(kind, body) != self._seen.get(uid):
            wake.set()

    def wake(self, uid: str) -> None:
        """Run the object's next pass now (e.g. a workspace its objects found failing)."""
        wake = self._wakeups.get(uid)
        if wake is not None:
            wake.set()

    async def _pass(self, kind: str, body: Mapping[str, Any]) -> float:
        try:
            return (await self.engine.reconcile(kind, body)).requeue_after
        except Exception:  # noqa: BLE001 - a bug must not kill the worker; retry later
            # e.g. the Kubernetes API refusing a status write: retry soon, not at once
            log.exception("reconcile pass of %s %s failed unexpectedly", kind,
                          body["metadata"].get("name"))
            return self.engine.settings.converge_max

    async def _sleep(self, delay: float, wake: asyncio.Event, stopped: StopFlag) -> None:
        waiters = {asyncio.ensure_future(wake.wait()),
                   asyncio.ensure_future(_wait_flag(stopped, delay))}
        try:
            await asyncio.wait(waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    def _fingerprint(self, kind: str, body: Mapping[str, Any]) -> tuple:
        return wake_fingerprint(body, self.engine.watched_annotations(kind))


async def _wait_flag(stopped: StopFlag, timeout: float) -> None:
    await stopped.wait(timeout)
