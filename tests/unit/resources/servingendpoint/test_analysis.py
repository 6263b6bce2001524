"""One check: each canary's figures against the spec's limits."""

from __future__ import annotations

import pytest

from lakeserve.api.rollout import Analysis
from lakeserve.resources.servingendpoint.analysis import FAILED, INCONCLUSIVE, PASSED, check
from lakeserve.resources.servingendpoint.canary import Rolled
from lakeserve.resources.servingendpoint.endpoint_metrics import EntityMetrics

ROLLED = [Rolled("champion", "main.ml.churn", "1", "3")]
LIMITS = Analysis.model_validate({"minRequests": 10, "metrics": [
    {"name": "errorRate", "max": 0.1}, {"name": "latencyP50Ms", "max": 100}]})


def figures(requests, errors=0.0, slowest=50.0):
    return {"champion-canary": EntityMetrics(requests=requests, errors_5xx=errors,
                                             latency_buckets=[(slowest, requests),
                                                              (float("inf"), requests)])}


# (why, figures, result, words in the message)
CASES = [
    ("within every limit", figures(20), PASSED, "champion-canary 20 requests, errorRate 0"),
    ("error rate over the limit", figures(20, errors=10), FAILED,
     "errorRate of champion-canary (v3) was 0.5 (50.0%), over its limit 0.1 (10.0%)"),
    ("median latency over the limit", figures(20, slowest=400), FAILED,
     "latencyP50Ms of champion-canary (v3) was 200 ms, over its limit 100 ms"),
    ("too few requests to judge", figures(9, errors=9), INCONCLUSIVE,
     "champion-canary answered 9 of the 10 requests a check needs (minRequests)"),
    ("the canary is not in the export", {}, INCONCLUSIVE, "answered 0 of the 10"),
]


@pytest.mark.parametrize("case, measured, result, words", CASES, ids=[c[0] for c in CASES])
def test_check(case, measured, result, words):
    found = check(LIMITS, ROLLED, measured)
    assert found.result == result
    assert words in found.message
    assert found.canaries[0]["name"] == "champion-canary"


def test_the_status_record_carries_the_figures():
    record = check(LIMITS, ROLLED, figures(20, errors=2)).as_status("2026-01-01T00:00:00Z")
    (canary,) = record["canaries"]
    assert canary == {"name": "champion-canary", "requests": 20, "errorRate": 0.1,
                      "latencyP50Ms": 25.0, "latencyP99Ms": 49.5}
