"""Running the blocking Databricks SDK calls in threads without losing their exceptions.

``Threads`` is the operator's pool for them. Not a ThreadPoolExecutor under
``loop.run_in_executor``: there every call takes the executor's two locks, a
``concurrent.futures.Future`` with its own Condition, and asyncio's second future chained to
it -- about 6 % of the operator's CPU at 1,000 new objects (three calls each; py-spy, GIL
samples). Here a call is one put on a SimpleQueue and one ``call_soon_threadsafe`` back.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import Any

_STOP = None


class Threads:
    """A fixed number of threads running blocking calls for coroutines."""

    def __init__(self, workers: int, name: str):
        self._calls: queue.SimpleQueue = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._serve, name=f"{name}_{index}",
                                          daemon=True) for index in range(workers)]
        for thread in self._threads:
            thread.start()

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._calls.put((loop, future, fn, args))
        return await future

    def shutdown(self) -> None:
        """Calls not started yet are dropped (their coroutines are being cancelled); the
        threads end after the calls they are in."""
        try:
            while True:
                self._calls.get_nowait()
        except queue.Empty:
            pass
        for _ in self._threads:
            self._calls.put(_STOP)

    def _serve(self) -> None:
        while (call := self._calls.get()) is not _STOP:
            loop, future, fn, args = call
            if future.cancelled():
                # its coroutine was cancelled while the call waited for a thread: the call is
                # dropped, as an executor drops a future cancelled before it starts (reading
                # the flag from here is one attribute read)
                continue
            result, error = _captured(fn, args)
            try:
                loop.call_soon_threadsafe(_settle, future, result, error)
            except RuntimeError:
                pass  # the loop is closed: nobody waits for this answer


def _settle(future: asyncio.Future, result: Any, error: BaseException | None) -> None:
    if future.done():  # the waiting coroutine was cancelled
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


async def run_blocking(threads: Threads | None, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` in one of ``threads`` (None: the loop's default executor, for tests that
    build an engine without them), its exception raised here as it was."""
    if threads is not None:
        return await threads.run(fn, *args)
    loop = asyncio.get_running_loop()
    result, error = await loop.run_in_executor(None, _captured, fn, args)
    if error is not None:
        raise error
    return result


def _captured(fn: Callable[..., Any], args: tuple) -> tuple[Any, BaseException | None]:
    """Run ``fn`` and hand back its exception as a value: asyncio replaces a TimeoutError
    crossing from a thread with a fresh one, losing the SDK's cause (what was retried)."""
    try:
        return fn(*args), None
    except BaseException as exc:  # noqa: BLE001 - re-raised by the caller
        return None, exc
