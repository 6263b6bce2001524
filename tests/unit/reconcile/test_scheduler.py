"""The scheduler: one timer heap, passes due on their own schedule or at once on changes that
matter; one pass per object at a time, a bounded number in all."""

import asyncio
import copy

import pytest

from lakeserve.api.common import FINALIZER
from lakeserve.reconcile.conditions import Verdict
from lakeserve.reconcile.engine import PassOutcome
from lakeserve.reconcile.policy import ENGINE_ANNOTATIONS
from lakeserve.reconcile.scheduler import Scheduler
from lakeserve.settings import Settings

pytestmark = pytest.mark.timeout(10)

HOUR = 3600.0


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class Engine:
    """Records passes; each asks to be requeued ``requeue`` seconds later. A pass waits for
    ``gate`` when one is set."""

    settings = Settings(converge_max=42.0)

    def __init__(self, requeue=HOUR, fail=False, finalized=None):
        self.requeue, self.fail, self.finalized = requeue, fail, finalized
        self.passes: list[dict] = []
        self.finalizations: list[dict] = []
        self.forgotten: list[str] = []
        self.gate: asyncio.Event | None = None
        self.running = self.most_running = 0

    def watched_annotations(self, kind):
        return ENGINE_ANNOTATIONS + ("a/b",)

    async def reconcile(self, kind, body):
        self.passes.append(copy.deepcopy(body))
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            if self.gate:
                await self.gate.wait()
            if self.fail:
                raise RuntimeError("boom")
            return PassOutcome(Verdict.ready(), self.requeue)
        finally:
            self.running -= 1

    async def finalize(self, kind, body):
        self.finalizations.append(body)
        return self.finalized

    def forget(self, body):
        self.forgotten.append(body["metadata"]["uid"])


def body(uid="u1", **metadata):
    return {"apiVersion": "lakeserve.dev/v1alpha1", "kind": "K",
            "metadata": {"uid": uid, "name": uid, "namespace": "ns", "generation": 1,
                         "annotations": {}, **metadata},
            "spec": {"x": 1}, "status": {"observedGeneration": 1}}


async def run_due(scheduler):
    """Start what is due and wait until no pass runs."""
    while True:
        scheduler._start_due()
        if not scheduler._running:
            return
        await asyncio.gather(*scheduler._running)


def started(engine=None, clock=None, concurrency=8):
    clock = clock or Clock()
    scheduler = Scheduler(engine or Engine(), concurrency=concurrency, clock=clock)
    return scheduler, scheduler.engine, clock


# (reason, change to the body, whether it makes the object due at once)
CHANGES = [
    ("a status write (the operator's own) does not", lambda b: b["status"].update(
        observedGeneration=2), False),
    ("another controller's label does not", lambda b: b["metadata"].update(
        labels={"x": "y"}), False),
    ("a new finalizer list does not", lambda b: b["metadata"].update(finalizers=[FINALIZER]),
     False),
    ("a new generation (spec change) does", lambda b: b["metadata"].update(generation=2), True),
    ("a watched annotation does", lambda b: b["metadata"]["annotations"].update(
        {"a/b": "now"}), True),
    ("pausing does", lambda b: b["metadata"]["annotations"].update(
        {"lakeserve.dev/paused": "true"}), True),
    ("asking for adoption does", lambda b: b["metadata"]["annotations"].update(
        {"lakeserve.dev/adopt": "true"}), True),
    ("asking for a pass does", lambda b: b["metadata"]["annotations"].update(
        {"lakeserve.dev/reconcile-requested-at": "now"}), True),
    ("kopf's old bookkeeping annotations do not", lambda b: b["metadata"]["annotations"].update(
        {"lakeserve.dev/last-handled-configuration": "{}"}), False),
]


@pytest.mark.parametrize("case, change, due", CHANGES, ids=[c[0] for c in CHANGES])
def test_changes_that_matter_make_the_object_due_at_once(case, change, due):
    async def scenario():
        scheduler, engine, _ = started()
        live = body()
        scheduler.notice("K", live, "ADDED")
        await run_due(scheduler)
        change(live)
        scheduler.notice("K", live, "MODIFIED")
        await run_due(scheduler)
        return len(engine.passes)

    assert asyncio.run(scenario()) == (2 if due else 1)


def test_a_pass_comes_again_when_its_requeue_delay_has_passed():
    async def scenario():
        scheduler, engine, clock = started(Engine(requeue=5.0))
        scheduler.notice("K", body(), None)
        await run_due(scheduler)
        clock.now += 4.9
        await run_due(scheduler)
        early = len(engine.passes)
        clock.now += 0.1
        await run_due(scheduler)
        return early, len(engine.passes)

    assert asyncio.run(scenario()) == (1, 2)


def test_changes_during_a_pass_collapse_into_one_more_pass_with_the_newest_body():
    async def scenario():
        scheduler, engine, _ = started()
        engine.gate = asyncio.Event()
        scheduler.notice("K", body(), "ADDED")
        scheduler._start_due()
        await asyncio.sleep(0)
        for generation in (2, 3, 4):
            scheduler.notice("K", body(generation=generation), "MODIFIED")
        engine.gate.set()
        await run_due(scheduler)
        return [b["metadata"]["generation"] for b in engine.passes], engine.most_running

    generations, most_running = asyncio.run(scenario())
    assert generations == [1, 4], "one pass for the three changes, with the last of them"
    assert most_running == 1, "passes of one object never overlap"


def test_at_most_concurrency_passes_run_at_once():
    async def scenario():
        scheduler, engine, _ = started(concurrency=3)
        engine.gate = asyncio.Event()
        for i in range(10):
            scheduler.notice("K", body(uid=f"u{i}"), "ADDED")
        scheduler._start_due()
        await asyncio.sleep(0)
        running_at_first = engine.running
        engine.gate.set()
        await run_due(scheduler)
        return running_at_first, engine.most_running, len(engine.passes)

    assert asyncio.run(scenario()) == (3, 3, 10)


def test_no_pass_starts_while_paused():
    async def scenario():
        scheduler, engine, _ = started()
        scheduler.pause()
        scheduler.notice("K", body(), "ADDED")
        await run_due(scheduler)
        while_paused = len(engine.passes)
        scheduler.resume()
        await run_due(scheduler)
        return while_paused, len(engine.passes)

    assert asyncio.run(scenario()) == (0, 1)


def test_the_body_kept_is_what_the_engine_reads_and_the_watched_status_only_until_a_pass():
    async def scenario():
        scheduler, engine, _ = started()
        live = body(managedFields=[{"manager": "kubectl"}], labels={"team": "x"},
                    finalizers=[FINALIZER], resourceVersion="7")
        live["metadata"]["annotations"] = {"lakeserve.dev/paused": "false", "a/b": "1",
                                           "kubectl.kubernetes.io/last-applied-configuration": "…"}
        scheduler.notice("K", live, None)
        await run_due(scheduler)
        scheduler.notice("K", live, "MODIFIED")
        return engine.passes[0], scheduler._entries["u1"].body

    first_pass, kept_later = asyncio.run(scenario())
    assert first_pass["metadata"] == {
        "name": "u1", "namespace": "ns", "uid": "u1", "generation": 1, "resourceVersion": "7",
        "finalizers": [FINALIZER], "annotations": {"lakeserve.dev/paused": "false", "a/b": "1"}}
    assert first_pass["status"] == {"observedGeneration": 1}
    assert "managedFields" not in first_pass["metadata"]
    assert "status" not in kept_later, "after a pass the engine's own status is the fresher"


# (reason, finalizers on the deleted object, what finalize answers, finalized, forgotten)
DELETIONS = [
    ("ours and done: finalized and forgotten", [FINALIZER], None, True, True),
    ("ours, Databricks still deleting: finalized, kept for the retry", [FINALIZER], 5.0, True,
     False),
    ("never held by the operator: forgotten without a call", ["other/finalizer"], None, False,
     True),
]


@pytest.mark.parametrize("case, finalizers, answer, finalized, forgotten", DELETIONS,
                         ids=[c[0] for c in DELETIONS])
def test_a_deleted_object_is_finalized_when_the_finalizer_is_ours(case, finalizers, answer,
                                                                   finalized, forgotten):
    async def scenario():
        scheduler, engine, _ = started(Engine(finalized=answer))
        scheduler.notice("K", body(finalizers=finalizers), None)
        await run_due(scheduler)
        scheduler.notice("K", body(finalizers=finalizers,
                                   deletionTimestamp="2026-11-25T00:00:00Z"), "MODIFIED")
        await run_due(scheduler)
        return bool(engine.finalizations), "u1" in engine.forgotten, len(engine.passes)

    assert asyncio.run(scenario()) == (finalized, forgotten, 1)


def test_a_deleted_event_forgets_the_object():
    async def scenario():
        scheduler, engine, clock = started(Engine(requeue=1.0))
        scheduler.notice("K", body(), None)
        await run_due(scheduler)
        scheduler.notice("K", body(), "DELETED")
        clock.now += 10
        await run_due(scheduler)
        return len(engine.passes), engine.forgotten, scheduler.size

    assert asyncio.run(scenario()) == (1, ["u1"], 0)


def test_a_failing_pass_is_retried_after_converge_max_not_at_once():
    async def scenario():
        scheduler, engine, clock = started(Engine(fail=True))
        scheduler.notice("K", body(), None)
        await run_due(scheduler)
        clock.now += 41
        await run_due(scheduler)
        early = len(engine.passes)
        clock.now += 1
        await run_due(scheduler)
        return early, len(engine.passes)

    assert asyncio.run(scenario()) == (1, 2)
