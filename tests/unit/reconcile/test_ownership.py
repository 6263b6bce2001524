"""Only objects the operator created, or was told to adopt, are written to or deleted."""

from __future__ import annotations

import pytest

from lakeserve.reconcile import reasons
from lakeserve.resources.base import Marker
from tests.reasons import table
from tests.unit.reconcile.fakes import (
    FakeWorkspaces,
    Harness,
    ScriptedClient,
    body,
    existing,
    missing,
)

ADOPT = {"lakeserve.dev/adopt": "true"}
RECORDED = {"owned": {"name": "ep", "how": "Created", "since": "2026-01-01T00:00:00Z"}}
OTHER_RECORD = {"owned": {"name": "other", "how": "Created"}}

# (reason for the case, marker, owner, status, annotations, expected writes, reason)
EXISTING = [
    ("an unmarked object nobody recorded is someone else's", Marker.NONE, None, {}, {}, [],
     reasons.ALREADY_EXISTS),
    ("a record of another name does not count", Marker.NONE, None, OTHER_RECORD, {}, [],
     reasons.ALREADY_EXISTS),
    ("the adopt annotation takes an unmarked object over", Marker.NONE, None, {}, ADOPT,
     ["update"], reasons.UPDATING),
    ("a recorded object is ours without a marker (tables, functions)", Marker.NONE, None,
     RECORDED, {}, ["update"], reasons.UPDATING),
    ("our own marker is enough", Marker.OURS, "ns/ep", {}, {}, ["update"], reasons.UPDATING),
    ("another resource's marker wins over the adopt annotation", Marker.FOREIGN, "team/churn",
     {}, ADOPT, [], reasons.OWNED_BY_ANOTHER_OBJECT),
    ("another resource's marker wins over our record", Marker.FOREIGN, "team/churn",
     RECORDED, {}, [], reasons.OWNED_BY_ANOTHER_OBJECT),
]


@pytest.mark.parametrize("case, marker, owner, status, annotations, writes, reason",
                         table(EXISTING, reason_at=6))
def test_whose_object_it_is(case, marker, owner, status, annotations, writes, reason):
    client = ScriptedClient([existing(marker=marker, owner=owner, diff=["routes"],
                                      status={"url": "https://someone-elses"})])
    harness = Harness(client)
    outcome = harness.run(body(status=status, annotations=annotations))
    assert client.writes == writes
    assert outcome.verdict.reason == reason
    if not writes:
        stalled = harness.condition("Stalled")
        assert stalled["status"] == "True"
        assert "ep" in stalled["message"] and "pick another name" in stalled["message"]
        assert "url" not in harness.kube.status, "nothing of someone else's object is mirrored"
        assert [e.reason for e in harness.events.warnings()] == [reason]


@pytest.mark.produces(reasons.ADOPTED)
def test_adoption_is_a_warning_naming_the_object_and_is_recorded():
    harness = Harness(ScriptedClient([existing(marker=Marker.NONE, diff=["routes"])]))
    harness.run(body(annotations=ADOPT))
    (adopted,) = [e for e in harness.events.events if e.reason == reasons.ADOPTED]
    assert adopted.warning and "took over ep" in adopted.message
    assert harness.kube.status["owned"]["name"] == "ep"
    assert harness.kube.status["owned"]["how"] == "Adopted"


def test_an_adopted_object_stays_ours_without_the_annotation():
    harness = Harness(ScriptedClient([existing(marker=Marker.NONE, diff=["routes"]),
                                      existing(marker=Marker.NONE, ready=True)]))
    harness.run(body(annotations=ADOPT))
    outcome = harness.run(body(status=harness.kube.status))
    assert outcome.verdict.reason == reasons.READY
    assert [e.reason for e in harness.events.events].count(reasons.ADOPTED) == 1


def test_the_claim_is_written_before_the_create_is_sent():
    log: list[str] = []
    client = ScriptedClient([missing(status={"endpointName": "ep"},
                                     create_status={"lastAppliedConfig": {"generation": 1}})],
                            log=log)
    harness = Harness(client)
    harness.kube.log = log
    harness.run(body())
    assert log == ["status", "create"], "one status write, and it comes first"
    status = harness.kube.status
    assert status["owned"]["name"] == "ep" and status["owned"]["how"] == "Created"
    assert status["lastAppliedConfig"] == {"generation": 1}


def test_a_create_whose_answer_was_lost_finds_its_object_its_own():
    """The create committed, the answer never came; the next pass finds an unmarked object
    (a synced table or function has no marker) and the record says it is ours."""
    from databricks.sdk.errors import TemporarilyUnavailable
    lost = TemporarilyUnavailable("response lost", error_code="TEMPORARILY_UNAVAILABLE")
    harness = Harness(ScriptedClient([missing()], write_error=lost))
    harness.run(body())
    harness.client.write_error = None
    harness.client.observations.append(existing(marker=Marker.NONE, ready=True))
    outcome = harness.run(body(status=harness.kube.status))
    assert outcome.verdict.reason == reasons.READY
    assert harness.client.writes == ["create"], "no second create"


def test_a_refused_create_withdraws_the_claim():
    from databricks.sdk.errors import BadRequest
    refused = BadRequest("no such model", error_code="INVALID_PARAMETER_VALUE")
    harness = Harness(ScriptedClient([missing()], write_error=refused))
    harness.run(body())
    assert "owned" not in harness.kube.status, "nothing was created, nothing is owned"


# (reason for the case, located marker, owner, status, expected writes, event reason)
DELETIONS = [
    ("ours by marker and record: deleted", Marker.OURS, "ns/ep", RECORDED, ["delete"],
     reasons.DELETED),
    ("ours by record: deleted", Marker.NONE, None, RECORDED, ["delete"], reasons.DELETED),
    ("a record of another name: left alone", Marker.NONE, None, OTHER_RECORD, [],
     reasons.NOT_OWNED),
    ("another resource's: left alone", Marker.FOREIGN, "team/churn", RECORDED, [],
     reasons.NOT_OWNED),
]


@pytest.mark.parametrize("case, marker, owner, status, writes, event",
                         table(DELETIONS, reason_at=5))
def test_deletion_checks_ownership_again(case, marker, owner, status, writes, event):
    harness = Harness(ScriptedClient([existing(marker=marker, owner=owner)]))
    assert harness.finalize(body(status=status, annotations=ADOPT)) is None
    assert harness.client.writes == writes
    assert harness.events.reasons() == [event]
    if event == reasons.NOT_OWNED:
        assert harness.events.events[0].warning
        assert "left untouched" in harness.events.events[0].message


def test_a_resource_that_never_created_anything_goes_without_a_call():
    """E.g. one that stalled on bad credentials: its deletion must not need them."""
    from lakeserve.databricks.workspace import CredentialsError
    broken = FakeWorkspaces(CredentialsError("CredentialsInvalid", "no host"))
    harness = Harness(ScriptedClient([]), workspaces=broken)
    assert harness.finalize(body(annotations=ADOPT)) is None
    assert harness.client.writes == []
    (event,) = harness.events.events
    assert event.reason == reasons.NOT_OWNED and "nothing to delete" in event.message


def test_an_object_ours_by_its_marker_gets_a_record():
    harness = Harness(ScriptedClient([existing(marker=Marker.OURS, ready=True)]))
    harness.run(body())
    assert harness.kube.status["owned"]["name"] == "ep"


def test_deleting_what_is_already_gone_is_done():
    """Recorded, but removed from Databricks meanwhile."""
    harness = Harness(ScriptedClient([missing()]))
    assert harness.finalize(body(status=RECORDED)) is None
    assert harness.client.writes == []
    assert "no longer exists" in harness.events.events[0].message
