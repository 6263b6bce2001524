"""Prometheus metrics: reconciles, Databricks API calls, limiter waits, objects by condition.

Served on ``LAKESERVE_METRICS_PORT`` (``/metrics``); the names are documented in
docs/operations.md and scraped by the chart's ServiceMonitor.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable

import requests
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily

# Path templates for the operation label: ids and names become placeholders, so the label set
# stays small whatever the workspace holds.
_OPERATIONS: list[tuple[re.Pattern, str]] = [
    (re.compile(p), name) for p, name in [
        (r"^/api/2\.0/serving-endpoints$", "serving-endpoints"),
        (r"^/api/2\.0/serving-endpoints/[^/]+$", "serving-endpoints/{name}"),
        (r"^/api/2\.0/serving-endpoints/[^/]+/(config|tags|ai-gateway|notifications)$",
         r"serving-endpoints/{name}/\1"),
        (r"^/api/2\.1/unity-catalog/models/[^/]+/aliases/[^/]+$", "models/{name}/aliases/{alias}"),
        (r"^/api/2\.0/database/synced_tables(/[^/]+)?$", "database/synced_tables"),
        (r"^/api/2\.0/online-tables/[^/]+$", "online-tables/{name}"),
        (r"^/api/2\.0/pipelines/[^/]+/updates$", "pipelines/{id}/updates"),
        (r"^/api/2\.0/sql/statements(/[^/]+)?$", "sql/statements"),
        (r"^/api/2\.1/unity-catalog/functions(/[^/]+)?$", "unity-catalog/functions"),
        (r"^/\.well-known/databricks-config$", "host-metadata"),
        (r"^/api/2\.0/preview/scim/v2/Me$", "scim/Me"),
        (r"^/oidc/v1/token$", "oidc/token"),
    ]
]

_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


def operation(method: str, path: str) -> str:
    path = path.split("?", 1)[0]
    for pattern, name in _OPERATIONS:
        match = pattern.match(path)
        if match:
            # expand() parses its template on every call: only templates with groups need it
            return f"{method} {match.expand(name) if _BACKSLASH in name else name}"
    return f"{method} other"


_BACKSLASH = "\\"


class Metrics:
    """The operator's metrics, in a registry of their own (tests create as many as they like)."""

    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        self.reconciles = Counter(
            "lakeserve_reconciles", "Reconcile passes by kind and result.",
            ["kind", "result", "reason"], registry=self.registry)
        self.reconcile_seconds = Histogram(
            "lakeserve_reconcile_duration_seconds", "Duration of one reconcile pass.", ["kind"],
            buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.api_calls = Counter(
            "lakeserve_databricks_requests", "Databricks API requests by operation and status.",
            ["operation", "status"], registry=self.registry)
        self.api_seconds = Histogram(
            "lakeserve_databricks_request_duration_seconds", "Databricks API request latency.",
            ["operation"], buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.limiter_waits = Counter(
            "lakeserve_write_limiter_waits", "Writes deferred by the client-side write limiter.",
            registry=self.registry)
        self._phases: dict[str, tuple[str, str]] = {}  # uid -> (kind, phase)
        self._lock = threading.Lock()
        self.registry.register(_ObjectsCollector(self._object_counts))

    # ---- the engine's MetricsPort --------------------------------------------------------

    def reconciled(self, kind: str, phase: str, reason: str, seconds: float,
                   uid: str | None = None) -> None:
        self.reconciles.labels(kind, phase, reason).inc()
        self.reconcile_seconds.labels(kind).observe(seconds)
        if uid:
            with self._lock:
                self._phases[uid] = (kind, phase)

    def forget(self, uid: str) -> None:
        with self._lock:
            self._phases.pop(uid, None)

    def rate_limited(self) -> None:
        self.limiter_waits.inc()

    # ---- Databricks requests -------------------------------------------------------------

    def response_hook(self, response: requests.Response, *args: object, **kwargs: object) -> None:
        request = response.request
        name = operation(request.method or "", request.path_url or "")
        self.api_calls.labels(name, str(response.status_code)).inc()
        self.api_seconds.labels(name).observe(response.elapsed.total_seconds())

    def instrument(self, session: requests.Session) -> None:
        if self.response_hook not in session.hooks["response"]:
            session.hooks["response"].append(self.response_hook)

    def serve(self, port: int) -> None:
        start_http_server(port, registry=self.registry)

    def _object_counts(self) -> dict[tuple[str, str], int]:
        counts: dict[tuple[str, str], int] = {}
        with self._lock:
            for key in self._phases.values():
                counts[key] = counts.get(key, 0) + 1
        return counts


class _ObjectsCollector:
    """lakeserve_objects{kind, condition}: how many objects are Ready / Reconciling / Stalled."""

    def __init__(self, counts: Callable[[], dict[tuple[str, str], int]]):
        self._counts = counts

    def collect(self) -> Iterable[GaugeMetricFamily]:
        family = GaugeMetricFamily("lakeserve_objects", "Objects by kind and the condition that "
                                   "is True.", labels=["kind", "condition"])
        for (kind, condition), count in sorted(self._counts().items()):
            family.add_metric([kind, condition], count)
        yield family
