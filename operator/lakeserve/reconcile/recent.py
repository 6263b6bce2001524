"""Reads of a few shared Kubernetes objects, at most once per ``ttl`` seconds.

Many managed objects name one Workspace (and one namespace's labels decide a ClusterWorkspace's
admission): a read per pass of each would cost the API server and the operator a request per
object per pass. Watch events refresh an entry as they arrive, so a change shows at once; the
ttl bounds how long an entry can outlive an object whose deletion the watch missed (a re-listed
watch does not report objects that went meanwhile).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class Recent(Generic[T]):
    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic):
        self._ttl, self._clock = ttl, clock
        self._entries: dict[Hashable, tuple[float, T]] = {}

    async def get(self, key: Hashable, read: Callable[[], Awaitable[T]]) -> T:
        """The value seen within the ttl, else ``read()``'s (remembered, None included)."""
        entry = self._entries.get(key)
        if entry is not None and self._clock() - entry[0] < self._ttl:
            return entry[1]
        value = await read()
        self._entries[key] = (self._clock(), value)
        return value

    def put(self, key: Hashable, value: T) -> None:
        """A watch event brought the current value."""
        self._entries[key] = (self._clock(), value)

    def drop(self, key: Hashable) -> None:
        self._entries.pop(key, None)
