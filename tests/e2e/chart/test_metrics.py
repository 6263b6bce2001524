"""The operator's Prometheus metrics and JSON logs, as the chart runs it (LAKESERVE_METRICS_PORT,
LAKESERVE_LOG_FORMAT=json), scraped after driving ServingEndpoints to Ready."""

from __future__ import annotations

import json
import urllib.request
import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families

from lakeserve.operator_process import OperatorProcess, free_port
from tests.e2e.conftest import OPERATOR_SETTINGS

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120),
              pytest.mark.emulator_only("counts creates and reads in the call log")]

PREFIX = "met-"
KIND = "ServingEndpoint"


@pytest.fixture(scope="module")
def metrics_operator(kubeconfig, workspace, crds, tmp_path_factory):
    workspace.require_emulator()
    # A write limit of one per window, so that the second endpoint's create waits for a slot.
    settings = {**OPERATOR_SETTINGS, "metrics_port": str(free_port()), "log_format": "json",
                "write_limit": "1", "write_window": "6"}
    log = tmp_path_factory.mktemp("metrics-operator") / "operator.log"
    with OperatorProcess(kubeconfig, workspace.host, workspace.token, log, settings=settings,
                         namespaces=[f"{PREFIX}*"]) as process:
        process.metrics_url = f"http://127.0.0.1:{settings['metrics_port']}/metrics"
        yield process
    print(f"\noperator log: {log}")


def scrape(url: str) -> dict[str, list[tuple[dict, float]]]:
    """{sample name: [(labels, value), …]}."""
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    samples: dict[str, list[tuple[dict, float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def value(samples, name: str, **labels) -> float:
    return sum(v for found, v in samples.get(name, []) if labels.items() <= found.items())


def endpoint(name: str, model: str) -> dict:
    return {"apiVersion": "lakeserve.dev/v1alpha1", "kind": KIND, "metadata": {"name": name},
            "spec": {"config": {"servedEntities": [
                {"entityName": model, "entityVersion": "1", "workloadSize": "Small",
                 "scaleToZeroEnabled": True}]}}}


def test_metrics_and_json_logs_after_two_endpoints_became_ready(metrics_operator, namespaces,
                                                                models, workspace, poll):
    model = f"main.e2e.metrics_{uuid.uuid4().hex[:6]}"
    models.register(model)
    cluster = namespaces(PREFIX)
    names = [f"{cluster.namespace}-{i}" for i in range(2)]
    since = workspace.last_seq()
    for name in names:
        cluster.apply(endpoint(name, model))
    for name in names:
        cluster.wait("servingendpoint", name, timeout=60)
    url = metrics_operator.metrics_url
    samples = poll(lambda: (lambda s: s if value(s, "lakeserve_objects", kind=KIND,
                                                 condition="Ready") == 2 else None)(scrape(url)),
                   timeout=20, message="both endpoints counted as Ready")

    # Reconcile passes: each endpoint was created (Reconciling/Creating) and became Ready; the
    # second one waited for the write limiter (Reconciling/RateLimited) first.
    assert value(samples, "lakeserve_reconciles_total", kind=KIND, result="Reconciling",
                 reason="Creating") >= 2
    assert value(samples, "lakeserve_reconciles_total", kind=KIND, result="Ready") >= 2
    assert value(samples, "lakeserve_reconciles_total", kind=KIND, result="Reconciling",
                 reason="RateLimited") >= 1
    assert value(samples, "lakeserve_reconciles_total", kind=KIND, result="Stalled") == 0
    passes = value(samples, "lakeserve_reconciles_total", kind=KIND)

    # Their durations: one observation per pass, each well under the HTTP timeout.
    count = value(samples, "lakeserve_reconcile_duration_seconds_count", kind=KIND)
    total = value(samples, "lakeserve_reconcile_duration_seconds_sum", kind=KIND)
    assert count == passes
    assert 0 < total / count < 5
    buckets = sorted((float(labels["le"]), v) for labels, v in
                     samples["lakeserve_reconcile_duration_seconds_bucket"]
                     if labels["kind"] == KIND)
    assert [v for _, v in buckets] == sorted(v for _, v in buckets), "cumulative buckets"
    assert buckets[-1] == (float("inf"), count)

    # Databricks requests by operation and status: exactly one create per endpoint, as the
    # emulator saw them, and the reads of each endpoint.
    creates = [c for c in workspace.calls(since)["calls"] if c["method"] == "POST"
               and c["path"] == "/api/2.0/serving-endpoints"
               and (c.get("body") or {}).get("name") in names]
    assert len(creates) == 2
    assert value(samples, "lakeserve_databricks_requests_total",
                 operation="POST serving-endpoints", status="200") == 2
    assert value(samples, "lakeserve_databricks_requests_total",
                 operation="GET serving-endpoints/{name}", status="200") >= 2
    statuses = {labels["status"] for labels, _ in samples["lakeserve_databricks_requests_total"]}
    assert all(status.isdigit() and len(status) == 3 for status in statuses), statuses
    assert value(samples, "lakeserve_databricks_request_duration_seconds_count") == value(
        samples, "lakeserve_databricks_requests_total")

    assert value(samples, "lakeserve_write_limiter_waits_total") >= 1
    assert value(samples, "lakeserve_objects", kind=KIND, condition="Reconciling") == 0

    # A deleted object leaves the gauge.
    cluster.delete("servingendpoint", names[0])
    poll(lambda: value(scrape(url), "lakeserve_objects", kind=KIND, condition="Ready") == 1,
         timeout=20, message="the deleted endpoint to leave lakeserve_objects")

    # LAKESERVE_LOG_FORMAT=json: every line one JSON object (json.loads fails on any other),
    # lines about an object name it in "object" (as kopf's own do), the engine's verdicts are
    # there.
    lines = metrics_operator.log_path.read_text().splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    assert all({"message", "timestamp", "severity"} <= record.keys() for record in records)
    assert any((record.get("object") or {}).get("name") == names[0] for record in records)
    assert any(f"{names[1]}: Ready (Ready)" in record["message"] for record in records)
