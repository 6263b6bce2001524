"""The per-object worker: passes on its own schedule, woken early only by changes that matter."""

import asyncio

from lakeserve.reconcile.engine import PassOutcome
from lakeserve.reconcile.conditions import Verdict
from lakeserve.settings import Settings
from lakeserve.reconcile.scheduler import Scheduler


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
    settings = Settings(converge_max=0.05)

    def __init__(self, delay=60.0, fail=False):
        self.passes = 0
        self.delay = delay
        self.fail = fail
        self.registrations = {"K": type("R", (), {"watched_annotations": ("a/b",)})()}

    async def reconcile(self, kind, body):
        self.passes += 1
        if self.fail:
            raise RuntimeError("boom")
        return PassOutcome(Verdict.ready(), self.delay)


def body(generation=1, annotation=None, status=None):
    annotations = {"a/b": annotation} if annotation else {}
    return {"metadata": {"uid": "u1", "name": "x", "generation": generation,
                         "annotations": annotations}, "status": status or {}}


async def run_until(scheduler, engine, live, stop_after, changes):
    stopped = Flag()
    worker = asyncio.create_task(scheduler.run_worker("K", live, stopped))
    for change in changes:
        await asyncio.sleep(0.05)
        change(live)
        scheduler.notice("K", live)
    await asyncio.sleep(stop_after)
    stopped.set()
    await asyncio.wait_for(worker, 2)
    return engine.passes


def test_status_only_events_do_not_wake_the_worker():
    engine = CountingEngine()
    live = body()
    passes = asyncio.run(run_until(Scheduler(engine), engine, live, 0.1, [
        lambda b: b.__setitem__("status", {"observedGeneration": 1})]))
    assert passes == 1


def test_a_new_generation_wakes_it_at_once():
    engine = CountingEngine()
    live = body()
    passes = asyncio.run(run_until(Scheduler(engine), engine, live, 0.1, [
        lambda b: b["metadata"].__setitem__("generation", 2)]))
    assert passes == 2


def test_a_watched_annotation_wakes_it():
    engine = CountingEngine()
    live = body()
    passes = asyncio.run(run_until(Scheduler(engine), engine, live, 0.1, [
        lambda b: b["metadata"]["annotations"].__setitem__("a/b", "now")]))
    assert passes == 2


def test_a_failing_pass_is_retried_after_a_short_pause_not_at_once():
    engine = CountingEngine(fail=True)
    passes = asyncio.run(run_until(Scheduler(engine), engine, body(), 0.2, []))
    assert 2 <= passes <= 6
