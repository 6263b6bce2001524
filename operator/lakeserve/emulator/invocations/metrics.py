"""The endpoint metrics export, ``GET /api/2.0/serving-endpoints/{name}/metrics``, computed from
the invocations the workspace really answered.

Databricks exports Prometheus text per served entity: ``request_count_total``,
``request_4xx_count_total`` and ``request_5xx_count_total`` as gauges of the last minute, and the
``request_latency_ms`` histogram (docs: "Track and export serving endpoint health metrics to
Prometheus and Datadog"; docs/fidelity.md). Here every answered request is kept with its time,
status and latency for ``metrics_window_seconds``; an export counts what falls in the window. The
label naming the served entity is the ``metrics_entity_label`` setting (not documented).
"""

from __future__ import annotations

import bisect
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from lakeserve.emulator.clock import Clock

# Bucket bounds in ms: our choice (Databricks' bounds are not documented; docs/fidelity.md F61).
LATENCY_BUCKETS_MS = (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000,
                      120000, 300000, 600000)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True)
class Answered:
    at: float
    status: int
    latency_ms: float


@dataclass
class EntityFigures:
    """One served entity's requests in the window."""

    requests: int = 0
    errors_4xx: int = 0
    errors_5xx: int = 0
    latency_sum_ms: float = 0.0
    buckets: list[int] = field(default_factory=lambda: [0] * len(LATENCY_BUCKETS_MS))

    def add(self, answered: Answered) -> None:
        self.requests += 1
        self.errors_4xx += 400 <= answered.status < 500
        self.errors_5xx += answered.status >= 500
        self.latency_sum_ms += answered.latency_ms
        first = bisect.bisect_left(LATENCY_BUCKETS_MS, answered.latency_ms)
        for index in range(first, len(LATENCY_BUCKETS_MS)):
            self.buckets[index] += 1  # cumulative, as Prometheus histograms are


class InvocationMetrics:
    """Answered requests per endpoint (by id: a recreated endpoint starts afresh) and entity."""

    def __init__(self, clock: Clock, window_seconds: Callable[[], float]):
        self._clock = clock
        self._window = window_seconds
        self._answered: dict[str, dict[str, deque[Answered]]] = {}
        self._lock = threading.Lock()

    def record(self, endpoint_id: str, entity: str, status: int, latency_ms: float) -> None:
        answered = Answered(self._clock.now(), status, latency_ms)
        with self._lock:
            self._answered.setdefault(endpoint_id, {}).setdefault(entity, deque()).append(answered)

    def figures(self, endpoint_id: str, entities: Iterable[str]) -> dict[str, EntityFigures]:
        """The figures in the window of each of ``entities`` (the ones the endpoint serves now),
        with or without traffic."""
        oldest = self._clock.now() - self._window()
        result = {name: EntityFigures() for name in entities}
        with self._lock:
            for name, answers in self._answered.get(endpoint_id, {}).items():
                while answers and answers[0].at < oldest:
                    answers.popleft()
                for answered in answers if name in result else ():
                    result[name].add(answered)
        return result

    def discard(self) -> None:
        with self._lock:
            self._answered.clear()


def render(figures: dict[str, EntityFigures], label: str, now: float) -> str:
    """Prometheus text exposition, each sample stamped with the time in ms."""
    stamp = int(now * 1000)
    lines: list[str] = []
    for metric, what, value in (
            ("request_count_total", "Number of requests", lambda f: f.requests),
            ("request_4xx_count_total", "Number of 4xx errors", lambda f: f.errors_4xx),
            ("request_5xx_count_total", "Number of 5xx errors", lambda f: f.errors_5xx)):
        lines += [f"# HELP {metric} {what} during the last minute", f"# TYPE {metric} gauge"]
        lines += [f"{metric}{{{label}=\"{name}\"}} {float(value(f))} {stamp}"
                  for name, f in sorted(figures.items())]
    lines += ["# HELP request_latency_ms Request latency in milliseconds during the last minute",
              "# TYPE request_latency_ms histogram"]
    for name, entity in sorted(figures.items()):
        lines += _histogram(f'{label}="{name}"', entity, stamp)
    return "\n".join(lines) + "\n"


def _histogram(labels: str, figures: EntityFigures, stamp: int) -> list[str]:
    lines = [f'request_latency_ms_bucket{{{labels},le="{float(bound)}"}} {float(count)} {stamp}'
             for bound, count in zip(LATENCY_BUCKETS_MS, figures.buckets)]
    lines.append(f'request_latency_ms_bucket{{{labels},le="+Inf"}} '
                 f'{float(figures.requests)} {stamp}')
    lines.append(f"request_latency_ms_sum{{{labels}}} {figures.latency_sum_ms} {stamp}")
    lines.append(f"request_latency_ms_count{{{labels}}} {float(figures.requests)} {stamp}")
    return lines
