"""The metrics export's figures: per served entity, counted over the window, as Prometheus text
that Prometheus' own parser reads."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from lakeserve.emulator.clock import ManualClock
from lakeserve.emulator.invocations.metrics import InvocationMetrics, render


def metrics(clock, window=60.0):
    return InvocationMetrics(clock, lambda: window)


def samples(text):
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_requests_errors_and_latency_are_counted_per_entity():
    clock = ManualClock()
    store = metrics(clock)
    for status, latency in ((200, 3), (200, 40), (400, 7), (503, 900)):
        store.record("id1", "canary", status, latency)
    store.record("id1", "stable", 200, 12)
    figures = store.figures("id1", ["stable", "canary"])
    canary = figures["canary"]
    assert (canary.requests, canary.errors_4xx, canary.errors_5xx) == (4, 1, 1)
    assert canary.latency_sum_ms == 950
    assert figures["stable"].requests == 1


def test_only_the_window_counts_and_entities_without_traffic_show_zeros():
    clock = ManualClock()
    store = metrics(clock, window=60)
    store.record("id1", "stable", 500, 10)
    clock.advance(61)
    store.record("id1", "stable", 200, 10)
    figures = store.figures("id1", ["stable", "canary"])
    assert (figures["stable"].requests, figures["stable"].errors_5xx) == (1, 0)
    assert figures["canary"].requests == 0


def test_an_entity_the_endpoint_no_longer_serves_is_not_reported():
    store = metrics(ManualClock())
    store.record("id1", "old-canary", 200, 10)
    assert set(store.figures("id1", ["stable"])) == {"stable"}
    assert store.figures("other-id", ["stable"])["stable"].requests == 0, "per endpoint id"


def test_the_export_is_prometheus_text_labelled_by_served_entity():
    clock = ManualClock()
    store = metrics(clock)
    for latency in (3, 30, 30, 3000):
        store.record("id1", "canary", 200, latency)
    store.record("id1", "canary", 500, 30)
    text = render(store.figures("id1", ["canary"]), "served_model_name", clock.now())
    parsed = samples(text)
    label = frozenset({("served_model_name", "canary")})
    assert parsed[("request_count_total", label)] == 5
    assert parsed[("request_5xx_count_total", label)] == 1
    assert parsed[("request_4xx_count_total", label)] == 0
    assert parsed[("request_latency_ms_bucket", label | {("le", "5.0")})] == 1
    assert parsed[("request_latency_ms_bucket", label | {("le", "50.0")})] == 4
    assert parsed[("request_latency_ms_bucket", label | {("le", "+Inf")})] == 5
    assert parsed[("request_latency_ms_count", label)] == 5
    assert "# TYPE request_count_total gauge" in text, "gauges of the last minute, not counters"
    stamp = str(int(clock.now() * 1000))
    assert all(line.endswith(stamp) for line in text.splitlines() if not line.startswith("#"))
