"""The workspace write limit: a sliding window with Retry-After until a slot frees."""

from __future__ import annotations

import pytest

from lakeserve.emulator.errors import ApiError
from lakeserve.emulator.ratelimit import WriteLimiter
from lakeserve.emulator.settings import WriteLimit


def limiter(clock, limit=3, window=60.0) -> WriteLimiter:
    return WriteLimiter(clock, lambda: WriteLimit(limit, window))


def test_admits_up_to_the_limit_then_answers_429_with_the_wait(clock):
    writes = limiter(clock)
    for _ in range(3):
        writes.admit("create")
        clock.advance(10)
    with pytest.raises(ApiError) as caught:
        writes.admit("create")
    assert (caught.value.status, caught.value.error_code) == (429, "REQUEST_LIMIT_EXCEEDED")
    assert caught.value.retry_after == pytest.approx(30)  # the first slot frees at t=60
    assert caught.value.headers() == {"Retry-After": "30"}


def test_slots_free_as_the_window_slides(clock):
    writes = limiter(clock, limit=1, window=60)
    writes.admit("create")
    clock.advance(59.5)
    with pytest.raises(ApiError) as caught:
        writes.admit("create")
    assert caught.value.headers() == {"Retry-After": "1"}  # rounded up, never 0
    clock.advance(0.5)
    writes.admit("create")


def test_refused_attempts_take_no_slot(clock):
    writes = limiter(clock, limit=1, window=60)
    writes.admit("create")
    for _ in range(5):
        with pytest.raises(ApiError):
            writes.admit("create")
    clock.advance(60)
    writes.admit("create")


def test_limit_zero_disables_and_reset_forgets(clock):
    off = limiter(clock, limit=0)
    for _ in range(100):
        off.admit("create")
    writes = limiter(clock, limit=1)
    writes.admit("create")
    writes.reset()
    writes.admit("create")
