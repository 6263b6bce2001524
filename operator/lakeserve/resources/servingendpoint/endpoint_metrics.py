"""The endpoint metrics export (``serving_endpoints.export_metrics``), read per served entity.

Databricks answers ``GET /api/2.0/serving-endpoints/{name}/metrics`` with Prometheus or
OpenMetrics text: ``request_count_total``, ``request_4xx_count_total`` and
``request_5xx_count_total`` are gauges of the last minute, ``request_latency_ms`` a histogram
(docs: "Track and export serving endpoint health metrics to Prometheus and Datadog";
docs/fidelity.md). Samples may carry a timestamp. Which label names the served entity is not
documented: both names seen in use are read.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

ENTITY_LABELS = ("served_entity_name", "served_model_name")
REQUESTS, ERRORS_4XX, ERRORS_5XX = ("request_count_total", "request_4xx_count_total",
                                    "request_5xx_count_total")
LATENCY_BUCKET = "request_latency_ms_bucket"


@dataclass
class EntityMetrics:
    """One served entity's figures of the last minute."""

    requests: float = 0.0
    errors_4xx: float = 0.0
    errors_5xx: float = 0.0
    # (upper bound in ms, cumulative count), the last bound +Inf
    latency_buckets: list[tuple[float, float]] = field(default_factory=list)

    @property
    def error_rate(self) -> float | None:
        return (self.errors_4xx + self.errors_5xx) / self.requests if self.requests else None

    def latency_ms(self, quantile: float) -> float | None:
        return histogram_quantile(quantile, sorted(self.latency_buckets))


def parse(text: str) -> dict[str, EntityMetrics]:
    """Served entity name -> its figures; samples without an entity label are skipped."""
    entities: dict[str, EntityMetrics] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            entity = next((sample.labels[label] for label in ENTITY_LABELS
                           if sample.labels.get(label)), None)
            if entity is not None:
                _add(entities.setdefault(entity, EntityMetrics()), sample.name, sample.labels,
                     sample.value)
    return entities


def _add(metrics: EntityMetrics, name: str, labels: dict[str, str], value: float) -> None:
    if name == REQUESTS:
        metrics.requests += value
    elif name == ERRORS_4XX:
        metrics.errors_4xx += value
    elif name == ERRORS_5XX:
        metrics.errors_5xx += value
    elif name == LATENCY_BUCKET and "le" in labels:
        metrics.latency_buckets.append((float(labels["le"]), value))


def histogram_quantile(quantile: float,
                       buckets: Iterable[tuple[float, float]]) -> float | None:
    """Prometheus' histogram_quantile: linear within the bucket the rank falls in; the highest
    finite bound when it falls in +Inf; None without observations."""
    buckets = list(buckets)
    total = buckets[-1][1] if buckets else 0.0
    if total <= 0:
        return None
    rank = quantile * total
    lower, below = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return lower
            if count == below:
                return bound
            return lower + (bound - lower) * (rank - below) / (count - below)
        lower, below = bound, count
    return lower
