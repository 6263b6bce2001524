"""Client-side limiter for Databricks' create/update operations.

Databricks documents 50 create/update operations per 5 minutes per workspace and the SDK has no
limiter of its own. Rather than block a reconcile pass, ``try_acquire`` answers at once: either a
slot was taken (0.0) or the number of seconds until one frees, and the caller requeues for then.
A 429 from the workspace pauses all writes until its Retry-After has passed.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

DEFAULT_LIMIT = 50
DEFAULT_WINDOW_SECONDS = 300.0


class RateLimited(Exception):
    """A write must wait for the limiter; the pass requeues after ``seconds``."""

    def __init__(self, seconds: float):
        super().__init__(f"client-side write limit reached; next slot in {seconds:.0f}s")
        self.seconds = seconds


class WriteLimiter:
    """A sliding-window limiter: at most ``limit`` writes in any ``window`` seconds."""

    def __init__(self, limit: int = DEFAULT_LIMIT, window: float = DEFAULT_WINDOW_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._taken: deque[float] = deque()
        self._paused_until = 0.0
        self.waits = 0  # how often a write had to wait; exported as a metric

    def try_acquire(self) -> float:
        """Take a slot now (returns 0.0) or return how many seconds until one is free."""
        with self._lock:
            now = self._clock()
            wait = self._wait_locked(now)
            if wait > 0:
                self.waits += 1
                return wait
            self._taken.append(now)
            return 0.0

    def acquire_or_raise(self) -> None:
        wait = self.try_acquire()
        if wait > 0:
            raise RateLimited(wait)

    def pause(self, seconds: float) -> None:
        """The workspace throttled us: no writes for ``seconds``."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def _wait_locked(self, now: float) -> float:
        while self._taken and self._taken[0] <= now - self.window:
            self._taken.popleft()
        pause = max(0.0, self._paused_until - now)
        if self.limit <= 0:
            return pause
        if len(self._taken) < self.limit:
            return pause
        return max(pause, self._taken[0] + self.window - now)
