"""The per-object worker: passes on its own schedule, woken early only by changes that matter."""

import asyncio

import pytest

from lakeserve.reconcile.conditions import Verdict
from lakeserve.reconcile.engine import PassOutcome
from lakeserve.reconcile.policy import ENGINE_ANNOTATIONS
from lakeserve.reconcile.workers import WorkerScheduler
from lakeserve.settings import Settings

pytestmark = pytest.mark.timeout(10)


class Flag:
    """kopf's DaemonStopped, as far as the scheduler uses it."""

    def __init__(self):
        self._event = asyncio.Event()

    def __bool__(self):
        return self._event.is_set()

    def set(self):
        self._event.set()

    async def wait(self, timeout=None):
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except asyncio.TimeoutError:
            pass


class CountingEngine:
    """Counts passes; every pass asks to be requeued an hour later."""

    settings = Settings(converge_max=42.0)

    def __init__(self, fail=False):
        self.fail = fail
        self.passes = 0
        self.passed = asyncio.Event()

    def watched_annotations(self, kind):
        return ENGINE_ANNOTATIONS + ("a/b",)

    async def reconcile(self, kind, body):
        self.passes += 1
        self.passed.set()
        if self.fail:
            raise RuntimeError("boom")
        return PassOutcome(Verdict.ready(), 3600.0)

    async def next_pass(self):
        self.passed.clear()
        await self.passed.wait()


def body():
    return {"metadata": {"uid": "u1", "name": "x", "generation": 1, "annotations": {}},
            "status": {}}


async def first_pass(change):
    """Start a worker, wait for its first pass, apply ``change`` to the live body and report
    whether the watch event woke the worker (it would otherwise sleep for an hour)."""
    engine, live, stopped = CountingEngine(), body(), Flag()
    scheduler = WorkerScheduler(engine)
    worker = asyncio.create_task(scheduler.run_worker("K", live, stopped))
    await engine.next_pass()
    change(live)
    scheduler.notice("K", live)
    woken = scheduler._wakeups["u1"].is_set()
    if woken:
        await engine.next_pass()
    stopped.set()
    await worker
    return woken, engine.passes


# (reason, change to the live body, whether it wakes the worker)
CHANGES = [
    ("a status write (the operator's own) does not", lambda b: b["status"].update(
        observedGeneration=1), False),
    ("another controller's label does not", lambda b: b["metadata"].update(
        labels={"x": "y"}), False),
    ("a new generation (spec change) does", lambda b: b["metadata"].update(generation=2), True),
    ("a watched annotation does", lambda b: b["metadata"]["annotations"].update(
        {"a/b": "now"}), True),
    ("pausing does", lambda b: b["metadata"]["annotations"].update(
        {"lakeserve.dev/paused": "true"}), True),
    ("asking for adoption does", lambda b: b["metadata"]["annotations"].update(
        {"lakeserve.dev/adopt": "true"}), True),
    ("asking for a pass does", lambda b: b["metadata"]["annotations"].update(
        {"lakeserve.dev/reconcile-requested-at": "now"}), True),
    ("kopf's own annotations do not", lambda b: b["metadata"]["annotations"].update(
        {"lakeserve.dev/last-handled-configuration": "{}"}), False),
    ("the start of deletion does", lambda b: b["metadata"].update(
        deletionTimestamp="2026-11-25T00:00:00Z"), True),
]


@pytest.mark.parametrize("case, change, wakes", CHANGES, ids=[c[0] for c in CHANGES])
def test_wake_ups(case, change, wakes):
    woken, passes = asyncio.run(first_pass(change))
    assert woken is wakes
    assert passes == (2 if wakes else 1)


def test_a_failing_pass_is_retried_after_converge_max_not_at_once():
    scheduler = WorkerScheduler(CountingEngine(fail=True))
    delay = asyncio.run(scheduler._pass("K", body()))
    assert delay == 42.0
