"""The engine's decisions, driven through fake ports and a scripted external client."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest
from databricks.sdk.errors import BadRequest, NotFound, ResourceAlreadyExists, TooManyRequests

from lakeserve.api import servingendpoint
from lakeserve.databricks.errors import SpecError
from lakeserve.databricks.limiter import RateLimited, WriteLimiter
from lakeserve.databricks.workspace import CredentialsError, Workspace
from lakeserve.reconcile import reasons
from lakeserve.reconcile.engine import Engine, Registration
from lakeserve.resources.base import DeleteState, Event, Observation, WriteResult
from lakeserve.settings import Settings

SETTINGS = Settings(drift_interval=300, converge_interval=5, error_backoff=5)


@dataclass
class FakeKube:
    patches: list[dict] = field(default_factory=list)
    objects: dict[tuple[str, str], dict] = field(default_factory=dict)

    async def patch_status(self, info, namespace, name, patch):
        self.patches.append(patch)

    async def get_object(self, info, namespace, name):
        return self.objects.get((info.kind, name))


@dataclass
class FakeEvents:
    events: list[Event] = field(default_factory=list)

    def record(self, body, event):
        self.events.append(event)

    def reasons(self):
        return [e.reason for e in self.events]


class FakeWorkspaces:
    def __init__(self, error: Exception | None = None):
        self.error = error
        self.limiter = WriteLimiter(limit=0)

    def get(self):
        if self.error:
            raise self.error
        return Workspace(client=None, host="https://example", limiter=self.limiter)


class ScriptedClient:
    """observe returns the next scripted Observation (or raises it); writes are recorded."""

    def __init__(self, observations: list[Any], write_error: Exception | None = None):
        self.observations = list(observations)
        self.write_error = write_error
        self.writes: list[str] = []

    def observe(self, obj):
        item = self.observations.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    def _write(self, what):
        self.writes.append(what)
        if self.write_error:
            raise self.write_error
        return WriteResult()

    def create(self, obj, observation):
        return self._write("create")

    def update(self, obj, observation):
        return self._write("update")

    def delete(self, obj):
        self.writes.append("delete")
        return DeleteState.GONE


def body(generation=1, status=None, spec=None, name="ep"):
    return {
        "apiVersion": "lakeserve.dev/v1alpha1", "kind": "ServingEndpoint",
        "metadata": {"name": name, "namespace": "ns", "uid": f"uid-{name}",
                     "generation": generation},
        "spec": spec or {"config": {"servedEntities": [
            {"entityName": "main.default.model", "entityVersion": "1"}]}},
        "status": status or {},
    }


def run(client, the_body, workspaces=None, kube=None, events=None, dependencies=None):
    kube = kube or FakeKube()
    events = events or FakeEvents()
    registration = Registration(info=servingendpoint.INFO, client_factory=lambda ws: client,
                                dependencies=dependencies or (lambda spec: []))
    engine = Engine(SETTINGS, workspaces or FakeWorkspaces(), kube, events,
                    {"ServingEndpoint": registration})
    outcome = asyncio.run(engine.reconcile("ServingEndpoint", the_body))
    return outcome, kube, events


def ready_condition(kube):
    return next(c for c in kube.patches[-1]["conditions"] if c["type"] == "Ready")


def condition(kube, type_):
    return next(c for c in kube.patches[-1]["conditions"] if c["type"] == type_)


# (reason for the case, observation, expected writes, phase, reason, requeue kind)
DECISIONS = [
    ("missing object is created", Observation(exists=False), ["create"],
     "Reconciling", reasons.CREATING, "converge"),
    ("busy object is left alone", Observation(exists=True, busy=("Updating", "deploying")), [],
     "Reconciling", reasons.UPDATING, "converge"),
    ("busy object with a newer spec waits for the running update",
     Observation(exists=True, busy=("Updating", "deploying"), diff=["routes"]), [],
     "Reconciling", reasons.UPDATING, "converge"),
    ("a difference is updated", Observation(exists=True, diff=["routes"]), ["update"],
     "Reconciling", reasons.UPDATING, "converge"),
    ("a matching, serving object is Ready", Observation(exists=True, ready=True), [],
     "Ready", reasons.READY, "drift"),
    ("a failed object with no new spec stalls",
     Observation(exists=True, failed=(reasons.UPDATE_FAILED, "entity x: boom")), [],
     "Stalled", reasons.UPDATE_FAILED, "drift"),
    ("a failed object with a new spec is updated",
     Observation(exists=True, failed=(reasons.UPDATE_FAILED, "boom"), diff=["version"]),
     ["update"], "Reconciling", reasons.UPDATING, "converge"),
    ("not ready without a diff keeps waiting",
     Observation(exists=True, progress=("WaitingForDatabricks", "NOT_READY")), [],
     "Reconciling", "WaitingForDatabricks", "converge"),
    ("a create-only change without Recreate stalls",
     Observation(exists=True, diff=["routeOptimized"], updatable=False), [],
     "Stalled", reasons.IMMUTABLE_FIELD_CHANGED, "drift"),
]


@pytest.mark.parametrize("case, observation, writes, phase, reason, requeue", DECISIONS,
                         ids=[d[0] for d in DECISIONS])
def test_decision(case, observation, writes, phase, reason, requeue):
    client = ScriptedClient([observation])
    outcome, kube, _ = run(client, body())
    assert client.writes == writes
    assert outcome.verdict.phase.value == phase
    assert outcome.verdict.reason == reason
    if requeue == "drift":
        assert outcome.requeue_after >= SETTINGS.drift_interval * 0.9
    else:
        assert outcome.requeue_after <= SETTINGS.converge_interval * 1.1
    assert condition(kube, phase)["status"] == "True"
    assert kube.patches[-1]["observedGeneration"] == 1


def test_create_only_change_with_recreate_deletes_first():
    spec = {"updatePolicy": "Recreate", "config": {"servedEntities": [
        {"entityName": "main.default.model", "entityVersion": "1"}]}}
    client = ScriptedClient([Observation(exists=True, diff=["routeOptimized"], updatable=False)])
    outcome, _, events = run(client, body(spec=spec))
    assert client.writes == ["delete"]
    assert outcome.verdict.reason == reasons.RECREATING
    assert reasons.RECREATING in events.reasons()


def test_difference_at_the_same_generation_is_drift():
    status = {"observedGeneration": 1, "conditions": [
        {"type": "Ready", "status": "True", "reason": "Ready"}]}
    client = ScriptedClient([Observation(exists=True, diff=["tags"])])
    _, _, events = run(client, body(status=status))
    assert reasons.DRIFT_CORRECTED in events.reasons()


def test_object_deleted_behind_our_back_is_recreated_with_a_warning():
    status = {"observedGeneration": 1, "conditions": [
        {"type": "Ready", "status": "True", "reason": "Ready"}]}
    client = ScriptedClient([Observation(exists=False)])
    _, _, events = run(client, body(status=status))
    assert client.writes == ["create"]
    assert reasons.RECREATED_MISSING in events.reasons()


# (reason for the case, error raised by a write, phase, reason)
WRITE_FAILURES = [
    ("the workspace refuses the spec", BadRequest("routes must sum to 100",
                                                  error_code="INVALID_PARAMETER_VALUE"),
     "Stalled", reasons.REJECTED),
    ("a referenced model version is missing", NotFound("Model version 9 does not exist",
                                                       error_code="RESOURCE_DOES_NOT_EXIST"),
     "Stalled", reasons.NOT_FOUND),
    ("a create that already committed", ResourceAlreadyExists("exists",
                                                               error_code="RESOURCE_ALREADY_EXISTS"),
     "Reconciling", reasons.TRANSIENT_ERROR),
    ("throttled by the workspace", TooManyRequests("slow down",
                                                   error_code="REQUEST_LIMIT_EXCEEDED"),
     "Reconciling", reasons.THROTTLED),
    ("the client-side limiter is full", RateLimited(42), "Reconciling", reasons.RATE_LIMITED),
]


@pytest.mark.parametrize("case, error, phase, reason", WRITE_FAILURES,
                         ids=[w[0] for w in WRITE_FAILURES])
def test_write_failure(case, error, phase, reason):
    client = ScriptedClient([Observation(exists=False)], write_error=error)
    outcome, kube, events = run(client, body())
    assert (outcome.verdict.phase.value, outcome.verdict.reason) == (phase, reason)
    assert condition(kube, phase)["status"] == "True"
    if phase == "Stalled":
        # no hot retry loop: the next attempt waits for a spec change or the drift interval
        assert outcome.requeue_after >= SETTINGS.drift_interval * 0.9
        assert events.events[-1].warning
        assert str(error).split(":")[0][:10] in condition(kube, "Stalled")["message"]


def test_rate_limited_requeues_after_the_free_slot():
    client = ScriptedClient([Observation(exists=False)], write_error=RateLimited(42))
    outcome, _, _ = run(client, body())
    assert 42 <= outcome.requeue_after <= 45


def test_throttling_pauses_all_writes_to_the_workspace():
    workspaces = FakeWorkspaces()
    workspaces.limiter = WriteLimiter(limit=50)
    error = TooManyRequests("slow down", error_code="REQUEST_LIMIT_EXCEEDED", retry_after_secs=30)
    client = ScriptedClient([Observation(exists=False)], write_error=error)
    outcome, _, _ = run(client, body(), workspaces=workspaces)
    assert outcome.requeue_after >= 30
    assert workspaces.limiter.try_acquire() >= 29


def test_spec_error_from_observe_stalls_with_its_reason():
    client = ScriptedClient([SpecError("AliasNotFound", "alias champion of m does not exist")])
    outcome, kube, _ = run(client, body())
    assert outcome.verdict.reason == "AliasNotFound"
    assert "champion" in condition(kube, "Stalled")["message"]


def test_missing_credentials_stall_without_crashing():
    error = CredentialsError("CredentialsNotFound", "Secret ops/databricks does not exist")
    outcome, kube, _ = run(ScriptedClient([]), body(), workspaces=FakeWorkspaces(error))
    assert outcome.verdict.reason == reasons.CREDENTIALS_NOT_FOUND
    assert condition(kube, "Stalled")["status"] == "True"


def test_invalid_spec_stalls_and_names_the_field():
    outcome, kube, _ = run(ScriptedClient([]), body(spec={"config": {"servedEntities": "x"}}))
    assert outcome.verdict.reason == reasons.INVALID_SPEC
    assert "servedEntities" in condition(kube, "Stalled")["message"]


def test_waits_for_dependencies_and_names_them():
    kube = FakeKube()
    kube.objects[("FeatureFunction", "fn")] = {
        "metadata": {"generation": 2},
        "status": {"observedGeneration": 1, "conditions": [
            {"type": "Ready", "status": "True", "reason": "Ready"}]}}
    refs = lambda spec: [type("R", (), {"kind": "FeatureFunction", "name": "fn"})(),  # noqa: E731
                         type("R", (), {"kind": "OnlineTable", "name": "gone"})()]
    from lakeserve.api import KINDS  # the dependency kinds must be registered with the engine
    client = ScriptedClient([])
    registration = Registration(info=servingendpoint.INFO, client_factory=lambda ws: client,
                                dependencies=refs)
    others = {info.kind: Registration(info=info, client_factory=lambda ws: client)
              for info in KINDS if info.kind != "ServingEndpoint"}
    if "FeatureFunction" not in others or "OnlineTable" not in others:
        pytest.skip("dependency kinds not registered yet")
    engine = Engine(SETTINGS, FakeWorkspaces(), kube, FakeEvents(),
                    {"ServingEndpoint": registration, **others})
    outcome = asyncio.run(engine.reconcile("ServingEndpoint", body()))
    assert outcome.verdict.reason == reasons.WAITING_FOR_DEPENDENCIES
    assert "FeatureFunction/fn" in outcome.verdict.message
    assert "OnlineTable/gone (not found" in outcome.verdict.message


def test_converged_object_costs_no_status_write():
    kube, events = FakeKube(), FakeEvents()
    client = ScriptedClient([Observation(exists=True, ready=True, status={"url": "u"})] * 2)
    registration = Registration(info=servingendpoint.INFO, client_factory=lambda ws: client)
    engine = Engine(SETTINGS, FakeWorkspaces(), kube, events, {"ServingEndpoint": registration})
    the_body = body()
    asyncio.run(engine.reconcile("ServingEndpoint", the_body))
    assert len(kube.patches) == 1
    asyncio.run(engine.reconcile("ServingEndpoint", the_body))  # stale body, fresh memory
    assert len(kube.patches) == 1


def test_the_same_failure_warns_once():
    error = BadRequest("bad route", error_code="INVALID_PARAMETER_VALUE")
    kube, events = FakeKube(), FakeEvents()
    client = ScriptedClient([Observation(exists=False)] * 3, write_error=error)
    registration = Registration(info=servingendpoint.INFO, client_factory=lambda ws: client)
    engine = Engine(SETTINGS, FakeWorkspaces(), kube, events, {"ServingEndpoint": registration})
    for _ in range(3):
        asyncio.run(engine.reconcile("ServingEndpoint", body()))
    assert [e.reason for e in events.events if e.warning] == [reasons.REJECTED]


def test_orphan_policy_skips_deletion():
    spec = {"deletionPolicy": "Orphan", "config": {"servedEntities": [
        {"entityName": "main.default.model", "entityVersion": "1"}]}}
    client = ScriptedClient([])
    registration = Registration(info=servingendpoint.INFO, client_factory=lambda ws: client)
    events = FakeEvents()
    engine = Engine(SETTINGS, FakeWorkspaces(), FakeKube(), events,
                    {"ServingEndpoint": registration})
    assert asyncio.run(engine.finalize("ServingEndpoint", body(spec=spec))) is None
    assert client.writes == []
    assert events.reasons() == [reasons.ORPHANED]


def test_delete_policy_deletes():
    client = ScriptedClient([])
    registration = Registration(info=servingendpoint.INFO, client_factory=lambda ws: client)
    events = FakeEvents()
    engine = Engine(SETTINGS, FakeWorkspaces(), FakeKube(), events,
                    {"ServingEndpoint": registration})
    assert asyncio.run(engine.finalize("ServingEndpoint", body())) is None
    assert client.writes == ["delete"]
    assert events.reasons() == [reasons.DELETED]


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

    outcome, _, _ = run(TimingOut([Observation(exists=False)]), body())
    assert outcome.verdict.reason == reasons.THROTTLED
