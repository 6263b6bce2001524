"""The endpoint metrics export through the real SDK (``export_metrics``), computed from real
queries of a logged sklearn model, and the setting that makes one served entity fail a share of
its requests or answer slowly."""

from __future__ import annotations

from collections import Counter

import pytest
from databricks.sdk.errors import DatabricksError, NotFound
from prometheus_client.parser import text_string_to_metric_families

from ..conftest import wait_for
from .test_invocations import create, ready, records

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


def exported(workspace, name: str) -> dict[tuple[str, str], float]:
    """(metric sample name, served entity) -> value, plus the latency buckets by ``le``."""
    text = workspace.serving_endpoints.export_metrics(name).contents.read().decode()
    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            entity = sample.labels.get("served_model_name") or \
                sample.labels.get("served_entity_name")
            key = sample.name if "le" not in sample.labels else \
                f"{sample.name}[{sample.labels['le']}]"
            values[(key, entity)] = sample.value
    return values


def query(workspace, name: str, count: int) -> Counter:
    """``count`` queries; how each served entity answered (entity, ok or the status class)."""
    answered = Counter()
    for _ in range(count):
        try:
            response = workspace.serving_endpoints.query(name=name, dataframe_records=records(2))
            answered[(response.served_model_name, "ok")] += 1
        except DatabricksError as error:
            answered[("?", error.error_code)] += 1
    return answered


def test_requests_and_errors_are_exported_per_served_entity(workspace, emulator,
                                                            sklearn_version):
    version = sklearn_version()
    create(workspace, "churn-metrics", {"stable": (version, 50), "canary": (version, 50)})
    ready(workspace, "churn-metrics")
    emulator.control("PUT", "/_emulator/settings", {"served_entity_faults": {
        "churn-metrics/canary": {"error_share": 1.0}}})
    answered = query(workspace, "churn-metrics", 40)
    values = exported(workspace, "churn-metrics")

    stable_ok = answered[("stable", "ok")]
    failed = answered[("?", "INTERNAL_ERROR")]
    assert stable_ok + failed == 40 and stable_ok and failed, answered
    assert answered[("canary", "ok")] == 0, "every canary request failed"
    assert values[("request_count_total", "stable")] == stable_ok
    assert values[("request_5xx_count_total", "stable")] == 0
    assert values[("request_count_total", "canary")] == failed
    assert values[("request_5xx_count_total", "canary")] == failed
    assert values[("request_4xx_count_total", "canary")] == 0
    assert values[("request_latency_ms_count", "canary")] == failed


def test_added_latency_shows_in_the_entitys_histogram_only(workspace, emulator,
                                                            sklearn_version):
    version = sklearn_version()
    create(workspace, "churn-slow-canary", {"stable": (version, 50), "canary": (version, 50)})
    ready(workspace, "churn-slow-canary")
    emulator.control("PUT", "/_emulator/settings", {
        "served_entity_faults": {"churn-slow-canary/canary": {"added_latency_ms": 300}},
        "metrics_entity_label": "served_entity_name"})
    query(workspace, "churn-slow-canary", 16)
    values = exported(workspace, "churn-slow-canary")

    canary, stable = values[("request_count_total", "canary")], \
        values[("request_count_total", "stable")]
    assert canary and stable
    assert values[("request_latency_ms_bucket[250.0]", "canary")] == 0, "all slower than 300 ms"
    assert values[("request_latency_ms_bucket[500.0]", "canary")] == canary
    assert values[("request_latency_ms_bucket[250.0]", "stable")] == stable
    assert values[("request_latency_ms_sum", "canary")] >= 300 * canary


def test_the_window_forgets_old_requests(workspace, emulator, sklearn_version):
    version = sklearn_version()
    create(workspace, "churn-window", {"only": (version, 100)})
    ready(workspace, "churn-window")
    query(workspace, "churn-window", 3)
    assert exported(workspace, "churn-window")[("request_count_total", "only")] == 3
    emulator.control("PUT", "/_emulator/settings", {"metrics_window_seconds": 0.1})
    wait_for(lambda: exported(workspace, "churn-window")[("request_count_total", "only")] == 0,
             timeout=5)


def test_the_export_of_an_unknown_endpoint_is_not_found(workspace, emulator):
    with pytest.raises(NotFound, match="Endpoint with name 'ghost' does not exist"):
        workspace.serving_endpoints.export_metrics("ghost")
