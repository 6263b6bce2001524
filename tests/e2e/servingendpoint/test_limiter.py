"""The client-side write limiter and Databricks' 429s, with an operator of their own."""

from __future__ import annotations

import time
import uuid

import pytest

from lakeserve.operator_process import OperatorProcess
from tests.e2e.conftest import gaps_text

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180),
              pytest.mark.emulator_only("counts writes against the limit and injects 429s")]

PREFIX = "lim-"
LIMIT, WINDOW = 2, 15


@pytest.fixture(scope="module")
def limited_operator(kubeconfig, workspace, crds, tmp_path_factory):
    workspace.require_emulator()
    from tests.e2e.conftest import OPERATOR_SETTINGS  # noqa: PLC0415 - same settings, tighter limit
    settings = {**OPERATOR_SETTINGS, "write_limit": str(LIMIT), "write_window": str(WINDOW)}
    log = tmp_path_factory.mktemp("limited-operator") / "operator.log"
    with OperatorProcess(kubeconfig, workspace.host, workspace.token, log, settings=settings,
                         namespaces=[f"{PREFIX}*"]) as process:
        yield process


@pytest.fixture(autouse=True)
def only_our_limit(workspace_settings):
    """The session's workspace keeps Databricks' own 50 writes per 5 minutes, which the tests
    before these may have used up: here only the operator's limit and the injected 429s count."""
    workspace_settings(write_limit={"limit": 0, "window_seconds": 300})


@pytest.fixture
def model(models):
    name = f"main.e2e.limit_{uuid.uuid4().hex[:6]}"
    models.register(name)
    return name


def endpoint(name, model):
    return {"apiVersion": "lakeserve.dev/v1alpha1", "kind": "ServingEndpoint",
            "metadata": {"name": name},
            "spec": {"name": name, "config": {"servedEntities": [
                {"entityName": model, "entityVersion": "1", "workloadSize": "Small"}]}}}


def ready_reasons(cluster, names):
    """The Ready condition's reason of each object, once every one of them reports one."""
    reasons = {}
    for name in names:
        conditions = ((cluster.get("servingendpoint", name) or {}).get("status") or {}).get(
            "conditions") or []
        reasons[name] = next((c["reason"] for c in conditions if c["type"] == "Ready"), None)
    return reasons if all(reasons.values()) else None


def creates(workspace, since, prefix):
    return [c for c in workspace.calls(since)["calls"] if c["method"] == "POST"
            and c["path"] == "/api/2.0/serving-endpoints"
            and (c.get("body") or {}).get("name", "").startswith(prefix)]


def test_writes_beyond_the_limit_wait_for_a_free_slot(limited_operator, namespaces, workspace,
                                                      model, poll):
    cluster = namespaces(PREFIX)
    prefix = f"{cluster.namespace}-"
    since = workspace.last_seq()
    for i in range(3):
        cluster.apply(endpoint(f"{prefix}{i}", model))
    reasons = poll(lambda: ready_reasons(cluster, [f"{prefix}{i}" for i in range(3)]),
                   timeout=30, message="a Ready condition on all three")
    assert sorted(reasons.values()).count("RateLimited") == 1, reasons
    for i in range(3):
        cluster.wait("servingendpoint", f"{prefix}{i}", timeout=WINDOW * 3)
    times = sorted(c["time"] for c in creates(workspace, since, prefix))
    assert len(times) == 3, "every create was sent once: no attempt beyond the limit"
    assert times[2] - times[0] >= WINDOW - 1, "the third create waited for the window"


@pytest.mark.parametrize("retry_after", [3, None], ids=["with-retry-after", "without"])
def test_429_is_handled_without_a_tight_loop(limited_operator, namespaces, workspace, model,
                                             retry_after, poll, figures):
    emulator = workspace.require_emulator()
    cluster = namespaces(PREFIX)
    name = f"{cluster.namespace}-throttled"
    times = 1 if retry_after else 4
    emulator.control("POST", "/_emulator/faults", {
        "method": "POST", "path": "^/api/2.0/serving-endpoints$", "status": 429,
        "retry_after": retry_after, "times": times})
    try:
        since = workspace.last_seq()
        started = time.monotonic()
        cluster.apply(endpoint(name, model))
        cluster.wait("servingendpoint", name, timeout=90)
        recovery = time.monotonic() - started
    finally:
        emulator.control("DELETE", "/_emulator/faults")
    attempts = sorted(c["time"] for c in creates(workspace, since, name))
    assert len(attempts) == times + 1, "each refused attempt was retried, nothing more"
    gaps = [b - a for a, b in zip(attempts, attempts[1:])]
    if retry_after:
        assert gaps[0] >= retry_after, "Retry-After was honoured"
    else:
        assert min(gaps) >= 0.9, f"no tight loop: {gaps}"
    assert "Throttled" in cluster.event_reasons(name)
    cluster.delete("servingendpoint", name, timeout=60)
    left = [e.name for e in workspace.client.serving_endpoints.list() if e.name == name]
    assert left == []
    header = f"Retry-After {retry_after} s" if retry_after else "no Retry-After"
    figures.record(f"429 x{times} on create, {header}", **{
        "end state": "Ready", "creates committed": 1, "duplicates": 0, "orphans": 0,
        "writes": len(attempts) + 1, "calls": len(attempts), "recovery s": recovery,
        "notes": gaps_text(attempts)})
