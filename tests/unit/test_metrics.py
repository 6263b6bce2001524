from types import SimpleNamespace

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.config import Config
from prometheus_client import generate_latest

from lakeserve.databricks.http import http_session
from lakeserve.metrics import Metrics, operation

# (reason, method, path, operation label)
OPERATIONS = [
    ("endpoint names become a placeholder", "GET", "/api/2.0/serving-endpoints/churn-ab",
     "GET serving-endpoints/{name}"),
    ("sub-resources keep their name", "PUT", "/api/2.0/serving-endpoints/churn-ab/config",
     "PUT serving-endpoints/{name}/config"),
    ("query strings are ignored", "GET", "/api/2.1/unity-catalog/models/m.s.x/aliases/champion?x=1",
     "GET models/{name}/aliases/{alias}"),
    ("unknown paths are bucketed", "GET", "/api/2.0/clusters/list", "GET other"),
    ("the workspace check", "GET", "/api/2.0/preview/scim/v2/Me", "GET scim/Me"),
    ("OAuth token grants", "POST", "/oidc/v1/token", "POST oidc/token"),
]


@pytest.mark.parametrize("case, method, path, expected", OPERATIONS, ids=[o[0] for o in OPERATIONS])
def test_operation_label(case, method, path, expected):
    assert operation(method, path) == expected


def test_response_hook_counts_and_times_requests():
    metrics = Metrics()
    response = SimpleNamespace(
        request=SimpleNamespace(method="PUT", path_url="/api/2.0/serving-endpoints/x/config"),
        status_code=409, elapsed=SimpleNamespace(total_seconds=lambda: 0.2))
    metrics.response_hook(response)
    text = generate_latest(metrics.registry).decode()
    assert ('lakeserve_databricks_requests_total{operation="PUT serving-endpoints/{name}/config",'
            'status="409"} 1.0') in text


def test_objects_by_condition_follow_the_last_pass():
    metrics = Metrics()
    metrics.reconciled("ServingEndpoint", "Reconciling", "Creating", 0.1, uid="a")
    metrics.reconciled("ServingEndpoint", "Ready", "Ready", 0.1, uid="a")
    metrics.reconciled("ServingEndpoint", "Stalled", "Rejected", 0.1, uid="b")
    metrics.forget("b")
    text = generate_latest(metrics.registry).decode()
    assert 'lakeserve_objects{condition="Ready",kind="ServingEndpoint"} 1.0' in text
    assert 'condition="Stalled"' not in text
    assert 'lakeserve_reconciles_total{kind="ServingEndpoint",reason="Creating",result="Reconciling"} 1.0' in text


def test_the_sdk_still_exposes_its_http_session():
    client = WorkspaceClient(config=Config(host="http://127.0.0.1:9", token="x" * 12,
                                           retry_timeout_seconds=1, http_timeout_seconds=1))
    session = http_session(client)
    Metrics().instrument(session)
    assert len(session.hooks["response"]) == 1
