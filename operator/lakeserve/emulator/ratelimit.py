"""The workspace-wide limit on endpoint create/update operations (a sliding window)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

from lakeserve.emulator.clock import Clock
from lakeserve.emulator.errors import rate_limited
from lakeserve.emulator.settings import WriteLimit


class WriteLimiter:
    """Admits at most ``limit`` operations per ``window_seconds``; ``limit == 0`` admits all.

    Every admitted attempt takes a slot, whether or not the request then passes validation, as a
    gateway-side limit would.
    """

    def __init__(self, clock: Clock, limit: Callable[[], WriteLimit]):
        self._clock = clock
        self._limit = limit
        self._admitted: deque[float] = deque()
        self._lock = threading.Lock()

    def admit(self, operation: str) -> None:
        """Take a slot, or raise 429 ``REQUEST_LIMIT_EXCEEDED`` saying when one frees."""
        limit = self._limit()
        if limit.limit <= 0:
            return
        with self._lock:
            now = self._clock.now()
            self._forget_before(now - limit.window_seconds)
            if len(self._admitted) >= limit.limit:
                wait = self._admitted[0] + limit.window_seconds - now
                raise rate_limited(
                    f"{operation} was rejected: the workspace allows at most {limit.limit} "
                    f"serving endpoint create/update operations per {limit.window_seconds:g} "
                    f"seconds. Retry after {max(1, round(wait))} seconds.", wait)
            self._admitted.append(now)

    def snapshot(self) -> list[float]:
        """When the operations still counted were admitted."""
        with self._lock:
            return list(self._admitted)

    def restore(self, admitted: list[float]) -> None:
        with self._lock:
            self._admitted = deque(sorted(admitted))

    def reset(self) -> None:
        with self._lock:
            self._admitted.clear()

    def _forget_before(self, cutoff: float) -> None:
        while self._admitted and self._admitted[0] <= cutoff:
            self._admitted.popleft()
