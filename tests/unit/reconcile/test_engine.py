"""The engine's decisions, driven through fake ports and a scripted external client."""

from __future__ import annotations

import pytest
from databricks.sdk.errors import (
    BadRequest,
    NotFound,
    PermissionDenied,
    ResourceAlreadyExists,
    TooManyRequests,
    Unauthenticated,
)

from lakeserve.databricks.errors import SpecError
from lakeserve.databricks.limiter import RateLimited, WriteLimiter
from lakeserve.databricks.workspace import CredentialsError
from lakeserve.reconcile import reasons
from lakeserve.reconcile.engine import Registration
from tests.reasons import table
from tests.unit.reconcile.fakes import (
    SETTINGS,
    FakeWorkspaces,
    Harness,
    ScriptedClient,
    body,
    existing,
    missing,
    run,
)


def condition(harness, type_):
    return harness.condition(type_)


# (reason for the case, observation, expected writes, phase, reason, requeue kind)
DECISIONS = [
    ("missing object is created", missing(), ["create"],
     "Reconciling", reasons.CREATING, "converge"),
    ("busy object is left alone", existing(busy=("Updating", "deploying")), [],
     "Reconciling", reasons.UPDATING, "converge"),
    ("busy object with a newer spec waits for the running update",
     existing(busy=("Updating", "deploying"), diff=["routes"]), [],
     "Reconciling", reasons.UPDATING, "converge"),
    ("a difference is updated", existing(diff=["routes"]), ["update"],
     "Reconciling", reasons.UPDATING, "converge"),
    ("a matching, serving object is Ready", existing(ready=True), [],
     "Ready", reasons.READY, "drift"),
    ("a failed object with no new spec stalls",
     existing(failed=(reasons.UPDATE_FAILED, "entity x: boom")), [],
     "Stalled", reasons.UPDATE_FAILED, "drift"),
    ("a failed object with a new spec is updated",
     existing(failed=(reasons.UPDATE_FAILED, "boom"), diff=["version"]),
     ["update"], "Reconciling", reasons.UPDATING, "converge"),
    ("not ready without a diff keeps waiting",
     existing(progress=("WaitingForDatabricks", "NOT_READY")), [],
     "Reconciling", "WaitingForDatabricks", "converge"),
    ("a create-only change without Recreate stalls",
     existing(diff=["routeOptimized"], updatable=False), [],
     "Stalled", reasons.IMMUTABLE_FIELD_CHANGED, "drift"),
]


@pytest.mark.parametrize("case, observation, writes, phase, reason, requeue",
                         table(DECISIONS, reason_at=4))
def test_decision(case, observation, writes, phase, reason, requeue):
    client = ScriptedClient([observation])
    outcome, harness = run(client, body())
    assert client.writes == writes
    assert outcome.verdict.phase.value == phase
    assert outcome.verdict.reason == reason
    if requeue == "drift":
        assert outcome.requeue_after >= SETTINGS.drift_interval * 0.9
    else:
        assert outcome.requeue_after <= SETTINGS.converge_interval * 1.1
    assert condition(harness, phase)["status"] == "True"
    assert harness.kube.status["observedGeneration"] == 1


@pytest.mark.produces(reasons.RECREATING)
def test_create_only_change_with_recreate_deletes_first():
    spec = {"updatePolicy": "Recreate", "config": {"servedEntities": [
        {"entityName": "main.default.model", "entityVersion": "1"}]}}
    client = ScriptedClient([existing(diff=["routeOptimized"], updatable=False)])
    outcome, harness = run(client, body(spec=spec))
    assert client.writes == ["delete"]
    assert outcome.verdict.reason == reasons.RECREATING
    assert reasons.RECREATING in harness.events.reasons()


@pytest.mark.produces(reasons.DRIFT_CORRECTED)
def test_difference_at_the_same_generation_is_drift():
    status = {"observedGeneration": 1, "conditions": [
        {"type": "Ready", "status": "True", "reason": "Ready"}]}
    client = ScriptedClient([existing(diff=["tags"])])
    _, harness = run(client, body(status=status))
    assert reasons.DRIFT_CORRECTED in harness.events.reasons()


@pytest.mark.produces(reasons.RECREATED_MISSING)
def test_object_deleted_behind_our_back_is_recreated_with_a_warning():
    status = {"observedGeneration": 1, "conditions": [
        {"type": "Ready", "status": "True", "reason": "Ready"}]}
    client = ScriptedClient([missing()])
    _, harness = run(client, body(status=status))
    assert client.writes == ["create"]
    assert reasons.RECREATED_MISSING in harness.events.reasons()


# (reason for the case, error raised by a write, phase, reason)
WRITE_FAILURES = [
    ("the workspace refuses the spec", BadRequest("routes must sum to 100",
                                                  error_code="INVALID_PARAMETER_VALUE"),
     "Stalled", reasons.REJECTED),
    ("a referenced model version is missing", NotFound("Model version 9 does not exist",
                                                       error_code="RESOURCE_DOES_NOT_EXIST"),
     "Stalled", reasons.NOT_FOUND),
    ("the identity may not create endpoints", PermissionDenied(
        "User lacks CAN_MANAGE. Config: host=https://x, workspace_id=1",
        error_code="PERMISSION_DENIED"), "Stalled", reasons.PERMISSION_DENIED),
    ("a create that already committed", ResourceAlreadyExists("exists",
                                                               error_code="RESOURCE_ALREADY_EXISTS"),
     "Reconciling", reasons.TRANSIENT_ERROR),
    ("throttled by the workspace", TooManyRequests("slow down",
                                                   error_code="REQUEST_LIMIT_EXCEEDED"),
     "Reconciling", reasons.THROTTLED),
    ("the client-side limiter is full", RateLimited(42), "Reconciling", reasons.RATE_LIMITED),
]


@pytest.mark.parametrize("case, error, phase, reason", table(WRITE_FAILURES, reason_at=3))
def test_write_failure(case, error, phase, reason):
    client = ScriptedClient([missing()], write_error=error)
    outcome, harness = run(client, body())
    assert (outcome.verdict.phase.value, outcome.verdict.reason) == (phase, reason)
    assert condition(harness, phase)["status"] == "True"
    if phase == "Stalled":
        # no hot retry loop: the next attempt waits out the refusal's backoff
        assert outcome.requeue_after >= SETTINGS.refused_backoff
        assert harness.events.events[-1].warning
        message = condition(harness, "Stalled")["message"]
        assert str(error).split(":")[0][:10] in message
        assert "Config:" not in message and "workspace_id" not in message


@pytest.mark.produces(reasons.RATE_LIMITED)
def test_rate_limited_requeues_after_the_free_slot():
    client = ScriptedClient([missing()], write_error=RateLimited(42))
    outcome, _ = run(client, body())
    assert 42 <= outcome.requeue_after <= 45


@pytest.mark.produces(reasons.THROTTLED)
def test_throttling_pauses_all_writes_to_the_workspace():
    workspaces = FakeWorkspaces()
    workspaces.limiter = WriteLimiter(limit=50)
    error = TooManyRequests("slow down", error_code="REQUEST_LIMIT_EXCEEDED", retry_after_secs=30)
    client = ScriptedClient([missing()], write_error=error)
    outcome, _ = run(client, body(), workspaces=workspaces)
    assert outcome.requeue_after >= 30
    assert workspaces.limiter.try_acquire() >= 29


def test_spec_error_from_observe_stalls_with_its_reason():
    client = ScriptedClient([SpecError("AliasNotFound", "alias champion of m does not exist")])
    outcome, harness = run(client, body())
    assert outcome.verdict.reason == "AliasNotFound"
    assert "champion" in condition(harness, "Stalled")["message"]


@pytest.mark.produces(reasons.CREDENTIALS_NOT_FOUND)
def test_missing_credentials_stall_without_crashing():
    error = CredentialsError("CredentialsNotFound", "Secret ops/databricks does not exist")
    outcome, harness = run(ScriptedClient([]), body(), workspaces=FakeWorkspaces(error))
    assert outcome.verdict.reason == reasons.CREDENTIALS_NOT_FOUND
    assert condition(harness, "Stalled")["status"] == "True"


# (reason for the case, error from the first read, reason, words the message must hold)
REFUSED_CREDENTIALS = [
    ("401: the token itself is refused",
     Unauthenticated("Invalid access token. Config: host=https://x, token=***, "
                     "account_id=acc-1, workspace_id=42, discovery_url=https://x/oidc. Env: "
                     "DATABRICKS_HOST", error_code="UNAUTHENTICATED"),
     reasons.CREDENTIALS_INVALID, ["Invalid access token", "Secret ops/databricks", "fix"]),
    ("403: a valid identity without the permission",
     PermissionDenied("User u has no access to endpoint e. Config: host=https://x, "
                      "workspace_id=42", error_code="PERMISSION_DENIED"),
     reasons.PERMISSION_DENIED, ["no access to endpoint e", "Secret ops/databricks", "grant"]),
]


@pytest.mark.parametrize("case, error, reason, words", table(REFUSED_CREDENTIALS, reason_at=2))
def test_refused_credentials_say_what_to_fix_without_the_sdk_config(case, error, reason, words):
    outcome, harness = run(ScriptedClient([error]), body())
    assert outcome.verdict.reason == reason
    stalled = condition(harness, "Stalled")
    assert all(word in stalled["message"] for word in words), stalled["message"]
    for dumped in ("Config:", "Env:", "account_id", "workspace_id", "discovery_url", "acc-1"):
        assert dumped not in stalled["message"]
        assert all(dumped not in e.message for e in harness.events.events)


@pytest.mark.produces(reasons.INVALID_SPEC)
def test_invalid_spec_stalls_and_names_the_field():
    outcome, harness = run(ScriptedClient([]), body(spec={"config": {"servedEntities": "x"}}))
    assert outcome.verdict.reason == reasons.INVALID_SPEC
    assert "servedEntities" in condition(harness, "Stalled")["message"]


@pytest.mark.produces(reasons.WAITING_FOR_DEPENDENCIES)
def test_waits_for_dependencies_and_names_them():
    from lakeserve.api import MANAGED_KINDS as KINDS  # the dependency kinds must be registered with the engine
    refs = lambda spec: [type("R", (), {"kind": "FeatureFunction", "name": "fn"})(),  # noqa: E731
                         type("R", (), {"kind": "OnlineTable", "name": "gone"})()]
    client = ScriptedClient([])
    others = {info.kind: Registration(info=info, client_factory=lambda ws: client)
              for info in KINDS if info.kind != "ServingEndpoint"}
    harness = Harness(client, dependencies=refs, others=others)
    harness.kube.objects[("FeatureFunction", "fn")] = {
        "metadata": {"generation": 2},
        "status": {"observedGeneration": 1, "conditions": [
            {"type": "Ready", "status": "True", "reason": "Ready"}]}}
    outcome = harness.run(body())
    assert outcome.verdict.reason == reasons.WAITING_FOR_DEPENDENCIES
    assert "FeatureFunction/fn" in outcome.verdict.message
    assert "OnlineTable/gone (not found" in outcome.verdict.message


def test_converged_object_costs_no_status_write():
    harness = Harness(ScriptedClient([existing(ready=True, status={"url": "u"})] * 2))
    the_body = body()
    harness.run(the_body)
    assert len(harness.kube.patches) == 1
    harness.run(the_body)  # stale body, fresh memory
    assert len(harness.kube.patches) == 1


def test_the_same_failure_warns_once():
    error = BadRequest("bad route", error_code="INVALID_PARAMETER_VALUE")
    harness = Harness(ScriptedClient([missing()] * 3, write_error=error))
    for _ in range(3):
        harness.run(body(annotations={"lakeserve.dev/reconcile-requested-at": str(_)}))
    assert [e.reason for e in harness.events.warnings()] == [reasons.REJECTED]


@pytest.mark.produces(reasons.ORPHANED)
def test_orphan_policy_skips_deletion():
    harness = Harness(ScriptedClient([]))
    assert harness.finalize(body(spec=spec_with(deletionPolicy="Orphan"))) is None
    assert harness.client.writes == []
    assert harness.events.reasons() == [reasons.ORPHANED]


@pytest.mark.produces(reasons.DELETED)
def test_delete_policy_deletes_what_is_ours():
    harness = Harness(ScriptedClient([existing()]))
    assert harness.finalize(body(status={"owned": {"name": "ep", "how": "Created"}})) is None
    assert harness.client.writes == ["delete"]
    assert harness.events.reasons() == [reasons.DELETED]


def test_sdk_timeout_keeps_its_cause_across_the_thread_pool():
    """The SDK raises TimeoutError from the 429 it kept retrying: still Throttled here."""
    def exhausted():
        try:
            raise TooManyRequests("slow down", error_code="REQUEST_LIMIT_EXCEEDED")
        except TooManyRequests as inner:
            raise TimeoutError("Timed out after 0:00:05") from inner

    class TimingOut(ScriptedClient):
        def create(self, obj, observation):
            exhausted()

    outcome, _ = run(TimingOut([missing()]), body())
    assert outcome.verdict.reason == reasons.THROTTLED


def spec_with(**fields):
    return {"config": {"servedEntities": [
        {"entityName": "main.default.model", "entityVersion": "1"}]}, **fields}


def test_a_long_wait_for_the_limiter_is_looked_at_again_by_the_drift_interval():
    # A Workspace's writeLimit may be raised meanwhile: the write need not wait an hour.
    client = ScriptedClient([missing()], write_error=RateLimited(3600))
    outcome, _ = run(client, body())
    assert outcome.requeue_after == SETTINGS.drift_interval
