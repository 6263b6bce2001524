"""One check of a rollout step: each canary's figures of the last minute against the limits.

A canary with fewer than ``minRequests`` requests in the window makes the check inconclusive:
the step waits for traffic rather than pass on too little evidence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lakeserve.api.rollout import Analysis, AnalysisMetricName
from lakeserve.resources.servingendpoint.canary import Rolled
from lakeserve.resources.servingendpoint.endpoint_metrics import EntityMetrics

PASSED, FAILED, INCONCLUSIVE = "Passed", "Failed", "Inconclusive"


@dataclass
class Check:
    result: str
    message: str
    canaries: list[dict[str, Any]] = field(default_factory=list)

    def as_status(self, time: str) -> dict[str, Any]:
        return {"time": time, "result": self.result, "message": self.message,
                "canaries": self.canaries}


def check(analysis: Analysis, rolled: Sequence[Rolled],
          metrics: Mapping[str, EntityMetrics]) -> Check:
    figures, breaches, waiting = [], [], []
    for one in rolled:
        measured = metrics.get(one.canary_name, EntityMetrics())
        figures.append(_figures(one.canary_name, measured))
        if measured.requests < analysis.min_requests:
            waiting.append(f"{one.canary_name} answered {measured.requests:.0f} of the "
                           f"{analysis.min_requests} requests a check needs (minRequests)")
            continue
        breaches += [f"{metric.name} of {one.canary_name} (v{one.canary_version}) was "
                     f"{_shown(metric.name, value)}, over its limit {_shown(metric.name, metric.max)}"
                     for metric in analysis.metrics
                     if (value := _value(metric.name, measured)) is not None
                     and value > metric.max]
        waiting += [f"{one.canary_name} has no {metric.name} figure" for metric in
                    analysis.metrics if _value(metric.name, measured) is None]
    if breaches:
        return Check(FAILED, "; ".join(breaches), figures)
    if waiting:
        return Check(INCONCLUSIVE, "waiting for traffic: " + "; ".join(waiting)
                     + " in the last minute", figures)
    return Check(PASSED, "within every limit: " + "; ".join(
        _summary(f) for f in figures), figures)


def unavailable(rolled: Sequence[Rolled], reason: str) -> Check:
    """The export could not be read: nothing is known, so nothing passes."""
    return Check(INCONCLUSIVE, f"the metrics export could not be read: {reason}",
                 [{"name": one.canary_name, "requests": 0} for one in rolled])


def _value(name: str, measured: EntityMetrics) -> float | None:
    if name == AnalysisMetricName.ERROR_RATE:
        return measured.error_rate
    if name == AnalysisMetricName.LATENCY_P99_MS:
        return measured.latency_ms(0.99)
    return measured.latency_ms(0.5)


def _figures(name: str, measured: EntityMetrics) -> dict[str, Any]:
    values = {"errorRate": measured.error_rate, "latencyP50Ms": measured.latency_ms(0.5),
              "latencyP99Ms": measured.latency_ms(0.99)}
    return {"name": name, "requests": int(measured.requests),
            **{key: round(value, 4) for key, value in values.items() if value is not None}}


def _shown(name: str, value: float) -> str:
    if name == AnalysisMetricName.ERROR_RATE:
        return f"{value:.3g} ({value:.1%})"
    return f"{value:.0f} ms"


def _summary(figures: Mapping[str, Any]) -> str:
    parts = [f"{figures['requests']} requests"]
    if "errorRate" in figures:
        parts.append(f"errorRate {figures['errorRate']:.3g}")
    if "latencyP99Ms" in figures:
        parts.append(f"latencyP99Ms {figures['latencyP99Ms']:.0f}")
    return f"{figures['name']} " + ", ".join(parts)
