import pytest

from lakeserve.databricks.limiter import HostLimiters, RateLimited, WriteLimiter


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


# ---- one limiter per host, shared; spec.writeLimit overrides ---------------------------------


def test_every_namespace_and_workspace_object_naming_one_host_shares_its_limiter():
    limiters = HostLimiters(limit=2, window=60, clock=lambda: 0.0)
    limiters.claim("Workspace team-a/dev", "https://a", None)
    limiters.claim("ClusterWorkspace shared", "https://a", None)
    first, second = limiters.for_host("https://a"), limiters.for_host("https://a")
    assert first is second
    assert limiters.for_host("https://b") is not first
    assert first.try_acquire() == 0 and second.try_acquire() == 0
    assert first.try_acquire() > 0, "the budget is the host's, whoever asks"


# (reason, claims as (source, operations, window), expected (limit, window))
OVERRIDES = [
    ("no claim keeps the default", [], (50, 300.0)),
    ("one claim overrides the default", [("Workspace a/x", 20, 60.0)], (20, 60.0)),
    ("the fewest operations per second wins",
     [("Workspace a/x", 20, 60.0), ("ClusterWorkspace y", 50, 300.0)], (50, 300.0)),
    ("equal rates: the smaller burst wins",
     [("Workspace a/x", 20, 60.0), ("ClusterWorkspace y", 10, 30.0)], (10, 30.0)),
]


@pytest.mark.parametrize("case, claims, expected", OVERRIDES, ids=[c[0] for c in OVERRIDES])
def test_the_strictest_write_limit_of_a_host_applies(case, claims, expected):
    limiters = HostLimiters(limit=50, window=300)
    limiter = limiters.for_host("https://a")
    for source, operations, window in claims:
        limiters.claim(source, "https://a", (operations, window))
    assert (limiter.limit, limiter.window) == expected


def test_a_withdrawn_limit_restores_the_default_and_taken_slots_still_count():
    now = [0.0]
    limiters = HostLimiters(limit=3, window=60, clock=lambda: now[0])
    limiter = limiters.for_host("https://a")
    limiters.claim("Workspace a/x", "https://a", (1, 60.0))
    assert limiter.try_acquire() == 0 and limiter.try_acquire() > 0
    limiters.withdraw("Workspace a/x")
    assert (limiter.limit, limiter.window) == (3, 60)
    assert limiter.try_acquire() == 0 and limiter.try_acquire() == 0
    assert limiter.try_acquire() > 0, "the slot taken under the override still counts"
