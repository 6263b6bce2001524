"""Re-polls after a write: short and growing, never earlier than asked; drift stays as it was."""

import pytest

from lakeserve.reconcile.timing import Pacing
from lakeserve.settings import Settings

pytestmark = pytest.mark.timeout(10)


def test_after_a_write_the_polls_start_at_a_second_and_grow_by_half():
    pacing, settings = Pacing(), Settings()
    delays = [pacing.after_write(settings)] + [pacing.converging(settings) for _ in range(4)]
    for delay, asked in zip(delays, [1.0, 1.5, 2.25, 3.375, 5.0625]):
        assert asked <= delay <= asked * 1.1, delays


def test_converging_polls_stop_growing_at_converge_max():
    pacing, settings = Pacing(), Settings(converge_max=4.0)
    delays = [pacing.converging(settings) for _ in range(10)]
    assert max(delays) <= 4.4 and delays[-1] >= 4.0


def test_a_ready_object_is_read_once_per_drift_interval_spread_around_it():
    pacing, settings = Pacing(), Settings(drift_interval=300)
    delays = [pacing.settled(settings) for _ in range(200)]
    assert 270 <= min(delays) and max(delays) <= 330
    assert 290 <= sum(delays) / len(delays) <= 310
