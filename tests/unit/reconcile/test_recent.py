"""Shared objects read at most once per ttl; watch events refresh them at once."""

from __future__ import annotations

import asyncio

from lakeserve.reconcile.recent import Recent


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_reads_once_per_ttl_and_watch_events_refresh_at_once():
    clock, reads = Clock(), []

    async def read():
        reads.append(clock.now)
        return f"read at {clock.now}"

    recent = Recent(30.0, clock)

    async def scenario():
        assert await recent.get("ws", read) == "read at 0.0"
        clock.now = 29.0
        assert await recent.get("ws", read) == "read at 0.0", "within the ttl: no read"
        recent.put("ws", "from the watch")
        assert await recent.get("ws", read) == "from the watch"
        clock.now = 60.0
        assert await recent.get("ws", read) == "read at 60.0", "expired: read again"
        recent.drop("ws")
        assert await recent.get("ws", read) == "read at 60.0"

    asyncio.run(scenario())
    assert reads == [0.0, 60.0, 60.0]


def test_not_found_is_remembered_too():
    reads = []

    async def read():
        reads.append(1)

    recent = Recent(30.0, Clock())
    asyncio.run(recent.get("gone", read))
    asyncio.run(recent.get("gone", read))
    assert reads == [1]
