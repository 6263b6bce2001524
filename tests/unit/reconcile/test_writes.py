"""Kubernetes writes per object: the finalizer before the first Databricks write, and one status
write for a new endpoint that is Ready by its first re-poll."""

from dataclasses import replace

import pytest

from lakeserve.api.common import FINALIZER
from lakeserve.reconcile import reasons
from tests.unit.reconcile.fakes import (
    SETTINGS,
    Harness,
    ScriptedClient,
    body,
    existing,
    missing,
)

pytestmark = pytest.mark.timeout(10)

CREATE_STATUS = {"lastAppliedConfig": {"generation": 1}}
QUICK = replace(SETTINGS, converge_interval=1.0)  # the default first re-poll
RECORDED = {"owned": {"name": "ep", "how": "Created"}}
REPORTED = {"conditions": [{"type": "Ready", "status": "False", "reason": "CredentialsInvalid"}]}


def created(marks_ownership=True, settings=QUICK, **kwargs):
    """A harness whose first pass creates the object (and whose client logs the order)."""
    log: list[str] = []
    client = ScriptedClient([missing(status={"endpointName": "ep"},
                                     create_status=CREATE_STATUS)], log=log)
    harness = Harness(client, marks_ownership=marks_ownership, settings=settings, **kwargs)
    harness.kube.log = log
    return harness, log


def test_the_finalizer_goes_on_before_the_create_with_the_resource_version():
    harness, log = created()
    harness.kube.patch_metadata = _logging(harness.kube.patch_metadata, log)
    the_body = body()
    the_body["metadata"].update(finalizers=["other/keep"], resourceVersion="41")
    harness.run(the_body)
    assert harness.kube.metadata_patches == [
        {"metadata": {"finalizers": ["other/keep", FINALIZER], "resourceVersion": "41"}}]
    assert log == ["finalizer", "create"], "and no status before the create"


def test_a_new_endpoint_ready_at_its_first_re_poll_gets_one_status_write():
    harness, _ = created()
    outcome = harness.run(body(status={"observedGeneration": 0}))  # the CRD's default
    assert outcome.verdict.reason == reasons.CREATING
    assert harness.kube.patches == [], "the first status waits for the re-poll"
    assert outcome.requeue_after <= 1.1, "and the re-poll comes within a second or so"
    assert harness.events.reasons() == [reasons.CREATED], "the event does not wait"
    harness.client.observations.append(existing(ready=True, status={"endpointName": "ep"}))
    outcome = harness.run(body())
    assert outcome.verdict.reason == reasons.READY
    assert len(harness.kube.patches) == 1
    status = harness.kube.status
    assert status["owned"]["name"] == "ep", "the deferred fields are written with it"
    assert status["lastAppliedConfig"] == {"generation": 1}
    assert harness.kube.metadata_patches and len(harness.kube.metadata_patches) == 1


def test_an_endpoint_still_deploying_at_the_re_poll_reports_reconciling_then():
    harness, _ = created()
    harness.run(body())
    harness.client.observations.append(existing(busy=(reasons.CREATING, "deploying")))
    outcome = harness.run(body())
    assert outcome.verdict.reason == reasons.CREATING
    assert harness.condition("Reconciling")["status"] == "True"
    assert harness.kube.status["owned"]["name"] == "ep"


# (reason, harness arguments, status written before the pass ends)
NOT_DEFERRED = [
    ("a kind without an owner marker writes its claim first", {"marks_ownership": False}),
    ("a slow first re-poll would leave the object without status too long",
     {"settings": replace(SETTINGS, converge_interval=10.0)}),
]


@pytest.mark.parametrize("case, arguments", NOT_DEFERRED, ids=[c[0] for c in NOT_DEFERRED])
def test_the_status_is_not_deferred_when(case, arguments):
    harness, _ = created(**arguments)
    harness.run(body())
    assert harness.kube.status["owned"]["name"] == "ep"
    assert harness.condition("Reconciling")["reason"] == reasons.CREATING


def test_an_object_that_already_reported_is_told_at_once():
    """E.g. the Databricks endpoint was deleted outside: recreating is news for its status."""
    harness, _ = created()
    harness.run(body(status={"observedGeneration": 1, "conditions": [
        {"type": "Ready", "status": "True", "reason": "Ready"}]}))
    assert harness.condition("Reconciling")["reason"] == reasons.CREATING


def test_an_object_the_operator_only_watches_gets_the_finalizer_after_its_read():
    """Its deletion then waits for the operator to say it leaves the Databricks object alone."""
    log: list[str] = []
    harness = Harness(ScriptedClient([existing(ready=True)], log=log))
    harness.client.observe = lambda obj: (log.append("observe"), existing(ready=True))[1]
    harness.kube.patch_metadata = _logging(harness.kube.patch_metadata, log)
    harness.run(body(spec={"managementPolicy": "ObserveOnly", "config": {"servedEntities": [
        {"entityName": "main.default.model", "entityVersion": "1"}]}}))
    assert log == ["observe", "finalizer"], "the first read does not wait for the finalizer"


def _logging(patch, log):
    async def logged(*args):
        log.append("finalizer")
        await patch(*args)
    return logged


# (reason, what finalize answers, whether the finalizer comes off)
RELEASES = [
    ("deleted in Databricks: released", [existing()], True),
    ("Databricks unreachable: kept, retried", [TimeoutError("no answer")], False),
]


@pytest.mark.parametrize("case, observations, released", RELEASES, ids=[c[0] for c in RELEASES])
def test_the_finalizer_comes_off_once_the_databricks_side_is_dealt_with(case, observations,
                                                                         released):
    harness = Harness(ScriptedClient(observations))
    the_body = body(status=RECORDED)
    the_body["metadata"].update(finalizers=[FINALIZER, "other/keep"], resourceVersion="9")
    delay = harness.finalize(the_body)
    assert (delay is None) is released
    patches = harness.kube.metadata_patches
    assert patches == ([{"metadata": {"finalizers": ["other/keep"], "resourceVersion": "9"}}]
                       if released else [])


# (reason, status of the deleted object, whether its Databricks object is looked up and deleted)
DELETIONS_WITHOUT_A_RECORD = [
    ("created, its status still deferred: the owner tag decides", {}, True),
    ("never reported at all (e.g. the operator stopped after the create): the tag decides", {},
     True),
    ("reported without a record: it never created anything", REPORTED, False),
]


@pytest.mark.parametrize("case, status, deleted", DELETIONS_WITHOUT_A_RECORD,
                         ids=[c[0] for c in DELETIONS_WITHOUT_A_RECORD])
def test_an_endpoint_without_a_record_yet_is_deleted_by_its_owner_tag(case, status, deleted):
    harness, _ = created()
    if case.startswith("created"):
        harness.run(body())  # the create; its status (and record) deferred
        harness.client.writes.clear()
    else:
        harness.client.observations.clear()
    harness.client.observations.append(existing())
    assert harness.finalize(body(status=status)) is None
    assert harness.client.writes == (["delete"] if deleted else [])
    assert harness.events.reasons()[-1] == (reasons.DELETED if deleted else reasons.NOT_OWNED)
