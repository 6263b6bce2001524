"""managementPolicy: ObserveOnly, the pause annotation, and annotation values."""

from __future__ import annotations

import pytest

from lakeserve.reconcile import reasons
from lakeserve.resources.base import Marker
from tests.unit.reconcile.fakes import Harness, ScriptedClient, body, existing, missing, spec

OBSERVE_ONLY = spec(managementPolicy="ObserveOnly", deletionPolicy="Delete")
PAUSED = {"lakeserve.dev/paused": "true"}
OWNED = {"owned": {"name": "ep", "how": "Created"}}


@pytest.mark.produces(reasons.OBSERVED)
def test_observe_only_mirrors_someone_elses_object_and_never_writes():
    client = ScriptedClient([existing(marker=Marker.NONE, diff=["routes"],
                                      status={"url": "https://x/serving-endpoints/ep"})])
    harness = Harness(client)
    outcome = harness.run(body(spec=OBSERVE_ONLY))
    assert client.writes == []
    assert outcome.verdict.phase.value == "Ready" and outcome.verdict.reason == reasons.OBSERVED
    assert "differs from the spec in routes (not changed)" in harness.condition("Ready")["message"]
    assert harness.kube.status["url"] == "https://x/serving-endpoints/ep"
    assert "owned" not in harness.kube.status, "observing is not adopting"


@pytest.mark.produces(reasons.NOT_FOUND)
def test_observe_only_of_a_missing_object_stalls_and_creates_nothing():
    client = ScriptedClient([missing()])
    harness = Harness(client)
    outcome = harness.run(body(spec=OBSERVE_ONLY))
    assert client.writes == []
    assert outcome.verdict.reason == reasons.NOT_FOUND
    message = harness.condition("Stalled")["message"]
    assert "ObserveOnly" in message and "managementPolicy: Full" in message


def test_observe_only_does_not_wait_for_dependencies():
    client = ScriptedClient([existing(ready=True)])
    refs = lambda spec: [type("R", (), {"kind": "FeatureFunction", "name": "fn"})()]  # noqa: E731
    harness = Harness(client, dependencies=refs)
    assert harness.run(body(spec=OBSERVE_ONLY)).verdict.reason == reasons.OBSERVED


@pytest.mark.produces(reasons.ORPHANED)
def test_observe_only_never_deletes_whatever_the_deletion_policy():
    harness = Harness(ScriptedClient([existing()]))
    assert harness.finalize(body(spec=OBSERVE_ONLY)) is None
    assert harness.client.writes == []
    assert "ObserveOnly" in harness.events.events[0].message


@pytest.mark.produces(reasons.PAUSED)
def test_paused_makes_no_call_and_says_so_in_the_conditions():
    client = ScriptedClient([])  # any observe would fail: the script is empty
    harness = Harness(client)
    outcome = harness.run(body(annotations=PAUSED))
    assert outcome.verdict.reason == reasons.PAUSED
    conditions = {c["type"]: c for c in harness.kube.status["conditions"]}
    assert [c["status"] for c in conditions.values()] == ["False"] * 3
    assert all(c["reason"] == reasons.PAUSED for c in conditions.values())
    assert "remove the annotation" in conditions["Ready"]["message"]
    assert harness.events.warnings() == []


def test_resuming_runs_a_normal_pass():
    harness = Harness(ScriptedClient([existing(diff=["routes"])]))
    harness.run(body(annotations=PAUSED))
    outcome = harness.run(body(status=harness.kube.status,
                               annotations={"lakeserve.dev/paused": "false"}))
    assert harness.client.writes == ["update"]
    assert outcome.verdict.reason == reasons.UPDATING


@pytest.mark.produces(reasons.DELETING, reasons.PAUSED)
def test_deleting_a_paused_object_waits_for_the_pause_to_end():
    harness = Harness(ScriptedClient([existing()]))
    delay = harness.finalize(body(annotations=PAUSED, status=OWNED))
    assert delay is not None and harness.client.writes == []
    assert harness.condition("Reconciling")["reason"] == reasons.DELETING
    assert "paused" in harness.condition("Reconciling")["message"]
    assert [e.reason for e in harness.events.warnings()] == [reasons.PAUSED]
    assert harness.finalize(body(status=harness.kube.status)) is None
    assert harness.client.writes == ["delete"]


@pytest.mark.parametrize("annotation", ["lakeserve.dev/adopt", "lakeserve.dev/paused"])
def test_an_annotation_value_that_is_not_true_or_false_stalls_without_a_call(annotation):
    harness = Harness(ScriptedClient([]))
    outcome = harness.run(body(annotations={annotation: "yes"}))
    assert outcome.verdict.reason == reasons.INVALID_SPEC
    assert annotation in harness.condition("Stalled")["message"]
    assert '"true" or "false"' in harness.condition("Stalled")["message"]
