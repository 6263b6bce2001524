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

    def reconfigure(self, limit: int, window: float) -> None:
        """A new limit and window; the writes already taken still count."""
        with self._lock:
            self.limit, self.window = limit, window

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


class HostLimiters:
    """One WriteLimiter per workspace host, shared by every namespace and by every Workspace,
    ClusterWorkspace and the default workspace naming that host.

    A Workspace's ``spec.writeLimit`` overrides the default for its host. When several objects
    naming one host disagree, the strictest applies: the fewest operations per second, then the
    fewest operations. An override goes when its object does.

    ``share`` turns a workspace's limit into this replica's part of it (shards split each
    workspace's budget); ``limit`` is the default already as this replica's part.
    """

    def __init__(self, limit: int = DEFAULT_LIMIT, window: float = DEFAULT_WINDOW_SECONDS,
                 clock: Callable[[], float] = time.monotonic,
                 share: Callable[[int], int] = lambda limit: limit):
        self._default = (limit, window)
        self._clock = clock
        self._share = share
        self._lock = threading.Lock()
        self._limiters: dict[str, WriteLimiter] = {}
        self._overrides: dict[str, dict[str, tuple[int, float]]] = {}

    def for_host(self, host: str) -> WriteLimiter:
        with self._lock:
            if host not in self._limiters:
                limit, window = self._effective(host)
                self._limiters[host] = WriteLimiter(limit, window, self._clock)
            return self._limiters[host]

    def claim(self, source: str, host: str, limit: tuple[int, float] | None) -> None:
        """``source`` (e.g. "Workspace ns/name") names ``host``, asking for ``limit`` (operations,
        window seconds) or for the default (None)."""
        with self._lock:
            touched = self._withdraw_locked(source)
            if limit is not None:
                self._overrides.setdefault(host, {})[source] = limit
                touched.add(host)
            self._reconfigure_locked(touched)

    def withdraw(self, source: str) -> None:
        """``source`` is gone: its limit no longer counts."""
        with self._lock:
            self._reconfigure_locked(self._withdraw_locked(source))

    def _withdraw_locked(self, source: str) -> set[str]:
        return {host for host, claims in self._overrides.items()
                if claims.pop(source, None) is not None}

    def _reconfigure_locked(self, hosts: set[str]) -> None:
        for host in hosts:
            if host in self._limiters:
                self._limiters[host].reconfigure(*self._effective(host))

    def _effective(self, host: str) -> tuple[int, float]:
        claims = list((self._overrides.get(host) or {}).values())
        if not claims:
            return self._default
        limit, window = min(claims, key=lambda claim: (claim[0] / claim[1], claim[0]))
        return self._share(limit), window
