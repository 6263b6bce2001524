"""When to look again: short while converging, the drift interval when Ready, backoff on errors."""

from __future__ import annotations

import random
from dataclasses import dataclass

from lakeserve.settings import Settings


@dataclass
class Pacing:
    """Per-object counters behind the requeue delays."""

    converge_polls: int = 0
    errors: int = 0

    def converging(self, settings: Settings) -> float:
        delay = settings.converge_interval * settings.converge_growth ** self.converge_polls
        self.converge_polls += 1
        self.errors = 0
        return _later(min(delay, settings.converge_max))

    def after_write(self, settings: Settings) -> float:
        """The first re-poll after a write; later ones grow from there (1 s, 1.5 s, 2.25 s...)."""
        self.converge_polls = 1
        self.errors = 0
        return _later(settings.converge_interval)

    def failing(self, settings: Settings, at_least: float = 0.0) -> float:
        delay = settings.error_backoff * 2 ** self.errors
        self.errors += 1
        return max(at_least, _jitter(min(delay, settings.error_backoff_max)))

    def settled(self, settings: Settings) -> float:
        self.converge_polls = 0
        self.errors = 0
        return _jitter(settings.drift_interval)


def _jitter(delay: float) -> float:
    # Spread passes of objects created together, so they do not poll Databricks in lockstep.
    return delay * random.uniform(0.9, 1.1)


def _later(delay: float) -> float:
    # Converging polls spread too, but never come earlier than asked: a poll before Databricks
    # can have moved is a wasted read.
    return delay * random.uniform(1.0, 1.1)
