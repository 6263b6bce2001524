"""A write Databricks refused is retried with exponential backoff, until its inputs change."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from databricks.sdk.errors import BadRequest, NotFound

from lakeserve.api import featurefunction
from lakeserve.reconcile import backoff, reasons
from lakeserve.reconcile.engine import Registration
from lakeserve.resources.base import Managed
from tests.unit.reconcile.fakes import SETTINGS, Harness, ScriptedClient, body, existing, missing

REFUSED = BadRequest("Served model main.m version 7 does not exist",
                     error_code="INVALID_PARAMETER_VALUE")


def refused_once(annotations=None):
    """A harness after one refused create, and the status it left."""
    harness = Harness(ScriptedClient([missing()] * 9, write_error=REFUSED))
    harness.run(body(annotations=annotations))
    return harness, harness.kube.status


def overdue(status):
    """The same status with its next attempt moved into the past."""
    past = (datetime.now(timezone.utc) - timedelta(seconds=1)).isoformat()
    return {**status, "backoff": {**status["backoff"], "nextAttemptAt": past}}


@pytest.mark.produces(reasons.REJECTED)
def test_a_refusal_records_the_backoff_and_says_when_the_next_attempt_is():
    harness, status = refused_once()
    assert status["backoff"]["attempts"] == 1
    due = datetime.fromisoformat(status["backoff"]["nextAttemptAt"].replace("Z", "+00:00"))
    assert 55 <= (due - datetime.now(timezone.utc)).total_seconds() <= 61
    message = harness.condition("Stalled")["message"]
    assert "version 7 does not exist" in message
    assert f"next attempt at {status['backoff']['nextAttemptAt']}" in message


def test_before_it_is_due_nothing_is_written_not_even_status():
    harness, status = refused_once()
    patches, events = len(harness.kube.patches), len(harness.events.events)
    outcome = harness.run(body(status=status))
    assert harness.client.writes == ["create"], "the refused create is not sent again"
    assert outcome.verdict.reason == reasons.REJECTED
    assert 50 <= outcome.requeue_after <= 61
    assert len(harness.kube.patches) == patches and len(harness.events.events) == events


def test_the_backoff_survives_an_operator_restart():
    _, status = refused_once()
    fresh = Harness(ScriptedClient([missing()], write_error=REFUSED))  # a new process
    fresh.run(body(status=status))
    assert fresh.client.writes == []


def test_attempts_double_the_wait_up_to_the_cap():
    harness, status = refused_once()
    waits = []
    for _ in range(7):
        outcome = harness.run(body(status=overdue(status)), restart=True)
        status = harness.kube.status
        waits.append(round(outcome.requeue_after))
    assert harness.client.writes == ["create"] * 8
    assert status["backoff"]["attempts"] == 8
    # from 240 s on the wait is longer than the drift interval: the next pass only reads
    assert waits[:2] == [120, 240]
    assert all(270 <= wait <= 330 for wait in waits[2:]), waits
    left = backoff.seconds_left(Managed("K", "ns", "n", "u", 1, None, status=status),
                                status["backoff"]["inputs"])
    assert 3500 <= left <= SETTINGS.refused_backoff_max


# (reason for the case, how the next pass's body differs)
RESETS = [
    ("a spec change", {"generation": 2}),
    ("a request annotation", {"annotations": {"lakeserve.dev/reconcile-requested-at": "now"}}),
    ("the adopt annotation", {"annotations": {"lakeserve.dev/adopt": "true"}}),
]


@pytest.mark.parametrize("case, change", RESETS, ids=[r[0] for r in RESETS])
def test_a_change_of_the_inputs_retries_at_once(case, change):
    harness, status = refused_once()
    harness.run(body(status=status, **change))
    assert harness.client.writes == ["create", "create"]
    assert harness.kube.status["backoff"]["attempts"] == 1, "a new spec starts a new count"


def test_a_dependency_change_retries_at_once():
    fn = featurefunction.INFO
    refs = lambda spec: [type("R", (), {"kind": "FeatureFunction", "name": "fn"})()]  # noqa: E731
    client = ScriptedClient([missing()] * 3, write_error=REFUSED)
    harness = Harness(client, dependencies=refs,
                      others={fn.kind: Registration(info=fn, client_factory=lambda ws: client)})
    dependency = {"kind": "FeatureFunction",
                  "metadata": {"name": "fn", "uid": "fn-1", "generation": 1},
                  "status": {"observedGeneration": 1, "conditions": [
                      {"type": "Ready", "status": "True", "reason": "Ready"}]}}
    harness.kube.objects[("FeatureFunction", "fn")] = dependency
    harness.run(body())
    harness.run(body(status=harness.kube.status))
    assert client.writes == ["create"]
    dependency["metadata"]["generation"] = dependency["status"]["observedGeneration"] = 2
    harness.run(body(status=harness.kube.status))
    assert client.writes == ["create", "create"]


def test_success_clears_the_backoff():
    harness, status = refused_once()
    harness.client.write_error = None
    harness.run(body(status=status, generation=2))
    assert "backoff" not in harness.kube.status
    assert harness.condition("Reconciling")["reason"] == reasons.CREATING


def test_a_refused_update_backs_off_too():
    refused = NotFound("Model version 9 does not exist", error_code="RESOURCE_DOES_NOT_EXIST")
    harness = Harness(ScriptedClient([existing(diff=["servedEntities"])] * 2,
                                     write_error=refused))
    harness.run(body())
    harness.run(body(status=harness.kube.status))
    assert harness.client.writes == ["update"]
    assert harness.kube.status["backoff"]["attempts"] == 1
