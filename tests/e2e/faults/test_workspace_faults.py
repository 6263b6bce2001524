"""The workspace misbehaves: 5xx bursts, slow answers, answers lost after the write committed.

Every scenario ends Ready (or deleted) with one committed create, no orphan and a bounded
number of calls, asserted on the emulator's call log.
"""

from __future__ import annotations

import pytest

from lakeserve.reconcile import reasons
from tests.e2e.faults.conftest import HTTP_TIMEOUT
from tests.reasons import table

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(150),
              pytest.mark.emulator_only("injects workspace faults and counts calls in the call "
                                         "log")]

CREATE = "^/api/2.0/serving-endpoints$"

# (reason for the case, method, path template, status, times, an event it must cause)
BURSTS = [
    ("503 burst on create (the SDK retries 503 itself)", "POST", CREATE, 503, 3,
     reasons.CREATED),
    ("500 burst on create (the engine retries with backoff)", "POST", CREATE, 500, 3,
     reasons.TRANSIENT_ERROR),
    ("503 burst on the read", "GET", "^/api/2.0/serving-endpoints/{name}$", 503, 5,
     reasons.TRANSIENT_ERROR),
]


@pytest.mark.parametrize("case, method, path, status, times, event", table(BURSTS, reason_at=5))
def test_5xx_bursts(scenario, faults, figures, case, method, path, status, times, event):
    faults.add(method, path.format(name=scenario.name), status=status, times=times)
    scenario.apply()
    scenario.ready()
    assert scenario.committed_creates() == 1
    refused = [c for c in scenario.calls() if c["status"] == status]
    assert len(refused) == times, "every injected failure was met once, and retried"
    assert len(scenario.creates()) <= times + 1
    assert event in scenario.cluster.event_reasons("ep")
    scenario.finish(figures, f"{status} x{times} on {'create' if method == 'POST' else 'read'}")


def test_a_create_answered_too_late_is_found_not_repeated(scenario, faults, figures):
    """The create is carried out, but the answer comes after the operator's HTTP timeout."""
    faults.add("POST", CREATE, mode="delay", delay_seconds=HTTP_TIMEOUT + 2)
    scenario.apply()
    scenario.ready()
    assert scenario.committed_creates() == 1
    assert len(scenario.creates()) <= 2, "at most the SDK's own retry, answered 409"
    scenario.finish(figures, "create answered after the HTTP timeout")


# (reason for the case, status the lost answer is replaced with)
LOST = [("lost as a 500", 500), ("lost as a 503 (the SDK retries)", 503)]


@pytest.mark.parametrize("case, status", LOST, ids=[c[0] for c in LOST])
def test_create_answer_lost_after_commit(scenario, faults, figures, case, status):
    faults.add("POST", CREATE, status=status, mode="after_commit")
    scenario.apply()
    body = scenario.ready()
    assert body["status"]["owned"]["name"] == scenario.name
    assert scenario.committed_creates() == 1
    assert len(scenario.creates()) <= 2
    scenario.finish(figures, f"create committed, answer lost ({status})")


@pytest.mark.parametrize("case, status", LOST, ids=[c[0] for c in LOST])
def test_update_answer_lost_after_commit(scenario, faults, figures, poll, case, status):
    scenario.apply(1)
    scenario.ready()
    faults.add("PUT", f"^/api/2.0/serving-endpoints/{scenario.name}/config$", status=status,
               mode="after_commit")
    scenario.apply(2)
    poll(lambda: scenario.served_version() == "2", timeout=60, message="version 2 served")
    body = scenario.ready()
    assert body["status"]["observedGeneration"] == 2
    puts = [c["status"] for c in scenario.writes() if c["method"] == "PUT"]
    assert len(scenario.committed_writes("PUT")) == 1, f"one update carried out: {puts}"
    scenario.finish(figures, f"update committed, answer lost ({status})")


@pytest.mark.produces(reasons.TRANSIENT_ERROR, reasons.DELETED)
def test_delete_answer_lost_after_commit(scenario, faults, figures, poll):
    scenario.apply()
    scenario.ready()
    faults.add("DELETE", f"^/api/2.0/serving-endpoints/{scenario.name}$", status=500,
               mode="after_commit")
    scenario.cluster.delete("servingendpoint", "ep", timeout=60)
    events = scenario.cluster.events("ep")
    blocked = [e for e in events if e["type"] == "Warning" and e["reason"] == "TransientError"]
    assert blocked and "cannot delete yet" in blocked[0]["message"]
    poll(lambda: "Deleted" in scenario.cluster.event_reasons("ep"), message="the Deleted event")
    deletes = [c for c in scenario.writes() if c["method"] == "DELETE"]
    assert len(deletes) == 1, "the lost answer was not a reason to delete again"
    left = [e.name for e in scenario.workspace.client.serving_endpoints.list()
            if e.name == scenario.name]
    assert left == [] and scenario.committed_creates() == 1
    figures.record("delete committed, answer lost (500)", **{
        "end state": "deleted", "creates committed": 1, "duplicates": 0, "orphans": 0,
        "writes": len(scenario.writes()), "calls": len(scenario.calls())})
