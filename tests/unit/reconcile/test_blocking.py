"""Blocking calls run in the operator's threads: results, exceptions as raised, cancellation,
shutdown."""

from __future__ import annotations

import asyncio
import threading

import pytest

from lakeserve.reconcile.blocking import Threads, run_blocking


@pytest.fixture()
def threads():
    pool = Threads(2, "test")
    yield pool
    pool.shutdown()


def test_a_call_runs_in_a_pool_thread_and_returns_its_result(threads):
    async def scenario():
        return await run_blocking(threads, lambda a, b: (threading.current_thread().name, a + b),
                                  1, 2)

    name, total = asyncio.run(scenario())
    assert name.startswith("test_") and total == 3


def test_the_exception_raised_is_the_one_the_call_raised_with_its_cause(threads):
    cause = ConnectionError("refused")

    def failing():
        raise TimeoutError("timed out after retries") from cause

    async def scenario():
        with pytest.raises(TimeoutError) as caught:
            await run_blocking(threads, failing)
        return caught.value

    error = asyncio.run(scenario())
    assert str(error) == "timed out after retries" and error.__cause__ is cause, \
        "the SDK's TimeoutError keeps what was retried (asyncio would make a fresh one)"


def test_calls_run_side_by_side_up_to_the_number_of_threads(threads):
    both_in = threading.Barrier(2, timeout=10)

    async def scenario():
        return await asyncio.gather(run_blocking(threads, both_in.wait),
                                    run_blocking(threads, both_in.wait))

    assert sorted(asyncio.run(scenario())) == [0, 1], "two threads: both calls at once"


def test_a_cancelled_waiter_is_not_answered_and_the_thread_goes_on(threads):
    release = threading.Event()

    async def scenario():
        waiting = asyncio.ensure_future(run_blocking(threads, release.wait, 10))
        await asyncio.sleep(0)
        waiting.cancel()
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        return await run_blocking(threads, lambda: "next")

    assert asyncio.run(scenario()) == "next"


async def _queued_behind_a_busy_thread(pool: Threads, ran: list):
    """The pool's one thread held by a first call, a second call (appending "queued" to
    ``ran``) waiting behind it; the first ends when ``release`` is set."""
    started, release = threading.Event(), threading.Event()

    def first():
        started.set()
        release.wait(10)

    running = asyncio.ensure_future(run_blocking(pool, first))
    queued = asyncio.ensure_future(run_blocking(pool, ran.append, "queued"))
    await asyncio.get_running_loop().run_in_executor(None, started.wait, 10)
    return running, queued, release


def test_a_call_whose_waiter_was_cancelled_before_it_started_is_not_made():
    pool, ran = Threads(1, "test"), []

    async def scenario():
        running, queued, release = await _queued_behind_a_busy_thread(pool, ran)
        queued.cancel()
        await asyncio.sleep(0)
        release.set()
        await running
        return await run_blocking(pool, ran.append, "after")

    try:
        asyncio.run(scenario())
    finally:
        pool.shutdown()
    assert ran == ["after"], "the cancelled call was dropped; the thread went on to the next"


def test_shutdown_drops_calls_not_started_and_ends_the_threads():
    pool, ran = Threads(1, "test"), []

    async def scenario():
        running, queued, release = await _queued_behind_a_busy_thread(pool, ran)
        pool.shutdown()
        release.set()
        await running
        queued.cancel()

    asyncio.run(scenario())
    for thread in pool._threads:  # noqa: SLF001 - the test's view of the pool
        thread.join(10)
        assert not thread.is_alive()
    assert ran == [], "the call queued behind a running one was dropped at shutdown"


def test_without_threads_the_loops_default_executor_runs_the_call():
    async def scenario():
        return await run_blocking(None, lambda: 42)

    assert asyncio.run(scenario()) == 42
