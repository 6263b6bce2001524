import pytest

from lakeserve.databricks.limiter import RateLimited, WriteLimiter


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_allows_the_documented_fifty_per_five_minutes_then_waits():
    clock = Clock()
    limiter = WriteLimiter(50, 300, clock)
    assert all(limiter.try_acquire() == 0 for _ in range(50))
    assert limiter.try_acquire() == pytest.approx(300)
    clock.now += 299
    assert limiter.try_acquire() == pytest.approx(1)
    clock.now += 1
    assert limiter.try_acquire() == 0
    assert limiter.waits == 2


def test_pause_blocks_writes_until_retry_after():
    clock = Clock()
    limiter = WriteLimiter(50, 300, clock)
    limiter.pause(30)
    assert limiter.try_acquire() == pytest.approx(30)
    clock.now += 30
    assert limiter.try_acquire() == 0


def test_zero_limit_disables_counting_but_not_pauses():
    clock = Clock()
    limiter = WriteLimiter(0, 300, clock)
    assert all(limiter.try_acquire() == 0 for _ in range(500))
    limiter.pause(5)
    with pytest.raises(RateLimited):
        limiter.acquire_or_raise()
