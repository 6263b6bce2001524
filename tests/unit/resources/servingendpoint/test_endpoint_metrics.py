"""Reading the endpoint metrics export: per served entity, either label, with or without sample
timestamps, Prometheus or OpenMetrics text; percentiles the way Prometheus computes them."""

from __future__ import annotations

import math

import pytest

from lakeserve.resources.servingendpoint.endpoint_metrics import histogram_quantile, parse

EXPORT = """\
# HELP request_count_total Number of requests during the last minute
# TYPE request_count_total gauge
request_count_total{served_model_name="champion"} 90.0 1788718020000
request_count_total{served_model_name="champion-canary"} 10.0 1788718020000
# TYPE request_4xx_count_total gauge
request_4xx_count_total{served_model_name="champion-canary"} 1.0 1788718020000
# TYPE request_5xx_count_total gauge
request_5xx_count_total{served_model_name="champion-canary"} 2.0 1788718020000
# TYPE cpu_usage_percentage gauge
cpu_usage_percentage{served_model_name="champion"} 2.3 1788718020000
# TYPE request_latency_ms histogram
request_latency_ms_bucket{served_model_name="champion-canary",le="5.0"} 0.0 1788718020000
request_latency_ms_bucket{served_model_name="champion-canary",le="100.0"} 8.0 1788718020000
request_latency_ms_bucket{served_model_name="champion-canary",le="500.0"} 10.0 1788718020000
request_latency_ms_bucket{served_model_name="champion-canary",le="+Inf"} 10.0 1788718020000
request_latency_ms_sum{served_model_name="champion-canary"} 900.0 1788718020000
request_latency_ms_count{served_model_name="champion-canary"} 10.0 1788718020000
"""


def test_each_served_entity_gets_its_requests_errors_and_latency():
    metrics = parse(EXPORT)
    canary = metrics["champion-canary"]
    assert (canary.requests, canary.errors_4xx, canary.errors_5xx) == (10, 1, 2)
    assert canary.error_rate == pytest.approx(0.3)
    assert canary.latency_ms(0.5) == pytest.approx(5 + 95 * 5 / 8)
    assert metrics["champion"].requests == 90 and metrics["champion"].error_rate == 0
    assert metrics["champion"].latency_ms(0.99) is None, "no latency figures: unknown, not 0"


@pytest.mark.parametrize("text", [
    EXPORT.replace("served_model_name", "served_entity_name"),
    EXPORT.replace(" 1788718020000", ""),
    EXPORT.replace("TYPE request_count_total gauge", "TYPE request_count counter") + "# EOF\n",
], ids=["served_entity_name label", "no timestamps", "declared as a counter, OpenMetrics end"])
def test_other_spellings_of_the_export_read_the_same(text):
    canary = parse(text)["champion-canary"]
    assert (canary.requests, canary.errors_4xx + canary.errors_5xx) == (10, 3)


def test_samples_without_an_entity_are_left_out():
    assert parse("# TYPE request_count_total gauge\nrequest_count_total 5.0\n") == {}


@pytest.mark.parametrize("quantile, buckets, expected", [
    (0.5, [(10, 0), (20, 10), (math.inf, 10)], 15),
    (0.99, [(10, 10), (20, 10), (math.inf, 10)], 9.9),
    (0.99, [(10, 0), (math.inf, 10)], 10),  # in +Inf: the highest finite bound
    (0.5, [(10, 0), (math.inf, 0)], None),
    (0.5, [], None),
], ids=["interpolated", "first bucket from 0", "beyond the last bound", "no requests", "none"])
def test_percentiles_are_prometheus_histogram_quantiles(quantile, buckets, expected):
    value = histogram_quantile(quantile, buckets)
    assert value == (pytest.approx(expected) if expected is not None else None)
