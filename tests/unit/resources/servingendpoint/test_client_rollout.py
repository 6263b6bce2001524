"""The rollout through the real client and engine: what is sent, read and reported per pass."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest
from databricks.sdk.service.serving import ExportMetricsResponse, ServingEndpointDetailed

from lakeserve.api.rollout import PROMOTE_REQUESTED_ANNOTATION, ROLLOUT_ABORT_ANNOTATION
from lakeserve.databricks.limiter import WriteLimiter
from lakeserve.databricks.workspace import Workspace
from lakeserve.reconcile import reasons
from lakeserve.resources.servingendpoint import ServingEndpointClient
from lakeserve.resources.servingendpoint.desired import OWNER_TAG
from lakeserve.resources.servingendpoint.rollout import (
    ROLLED_BACK,
    ROLLING_OUT,
    ROLLOUT_ABORTED,
    ROLLOUT_STARTED,
)
from tests.unit.reconcile.fakes import FakeWorkspaces, Harness

MODEL = "main.ml.churn"
SPEC = {"config": {"servedEntities": [
    {"name": "champion", "entityName": MODEL, "entityAlias": "champion", "workloadSize": "Small"}]},
    "rollout": {"steps": [{"trafficPercentage": 10, "pause": "0s"}],
                "analysis": {"interval": "1s", "minRequests": 5,
                             "metrics": [{"name": "errorRate", "max": 0.05}]}}}


class RollingSdk:
    """Serves what update_config sends at once; the alias resolves to ``alias``; the metrics
    export reports ``canary`` requests with ``errors`` of them failed."""

    def __init__(self, alias: int = 3):
        self.alias, self.canary, self.errors = alias, 50, 0
        self.calls: list[str] = []
        self.entities = [{"name": "champion", "entity_name": MODEL, "entity_version": "1",
                          "workload_size": "Small", "workload_type": "CPU"}]
        self.routes = [{"served_entity_name": "champion", "traffic_percentage": 100}]
        self.model_versions = SimpleNamespace(
            get_by_alias=lambda model, alias: SimpleNamespace(version=self.alias))
        self.serving_endpoints = SimpleNamespace(get=self._get, update_config=self._update,
                                                 export_metrics=self._export)

    def _get(self, name):
        self.calls.append("get")
        entities = [{**e, "state": {"deployment": "DEPLOYMENT_READY"}} for e in self.entities]
        return ServingEndpointDetailed.from_dict({
            "name": name, "state": {"ready": "READY", "config_update": "NOT_UPDATING"},
            "config": {"config_version": 1, "served_entities": entities,
                       "traffic_config": {"routes": self.routes}},
            "tags": [{"key": OWNER_TAG, "value": "ns/ep"}]})

    def _update(self, name, served_entities, traffic_config, auto_capture_config=None):
        self.calls.append("update_config")
        self.entities = [e.as_dict() for e in served_entities]
        self.routes = traffic_config.as_dict()["routes"]

    def _export(self, name):
        self.calls.append("export_metrics")
        text = (f'request_count_total{{served_model_name="champion-canary"}} {self.canary}\n'
                f'request_5xx_count_total{{served_model_name="champion-canary"}} {self.errors}\n')
        return ExportMetricsResponse(contents=io.BytesIO(text.encode()))

    def served(self):
        shares = {r["served_entity_name"]: r["traffic_percentage"] for r in self.routes}
        return {e["name"]: (e["entity_version"], shares.get(e["name"])) for e in self.entities}


class PerPass:
    """A new client for every pass, as the engine makes them (aliases resolve afresh)."""

    def __init__(self, sdk: RollingSdk):
        self.sdk, self.client = sdk, None

    def observe(self, obj):
        workspace = Workspace(client=self.sdk, host="h", limiter=WriteLimiter())
        self.client = ServingEndpointClient(workspace)
        return self.client.observe(obj)

    def update(self, obj, observation):
        return self.client.update(obj, observation)


class Endpoint:
    """The engine, the real client and the object's body, pass after pass."""

    def __init__(self, sdk: RollingSdk, annotations: dict | None = None):
        self.sdk = sdk
        self.harness = Harness(PerPass(sdk), FakeWorkspaces())
        self.annotations = annotations or {}
        self.harness.kube.status = {"observedGeneration": 1, "lastAppliedConfig": {
            "generation": 1, "servedEntities": [
                {"name": "champion", "entityName": MODEL, "entityVersion": "1"}],
            "routes": [{"servedEntityName": "champion", "trafficPercentage": 100}]}}

    def run(self):
        body = {"apiVersion": "lakeserve.dev/v1alpha1", "kind": "ServingEndpoint",
                "metadata": {"name": "ep", "namespace": "ns", "uid": "uid-ep", "generation": 1,
                             "annotations": self.annotations},
                "spec": SPEC, "status": self.harness.kube.status}
        return self.harness.run(body, restart=True)

    @property
    def status(self):
        return self.harness.kube.status


@pytest.mark.produces(ROLLOUT_STARTED, reasons.ALIAS_MOVED, ROLLING_OUT)
def test_an_alias_move_starts_a_canary_with_one_update():
    sdk = RollingSdk()
    endpoint = Endpoint(sdk)
    outcome = endpoint.run()
    assert sdk.calls == ["get", "update_config"]
    assert sdk.served() == {"champion": ("1", 90), "champion-canary": ("3", 10)}
    assert endpoint.harness.events.reasons() == [reasons.ALIAS_MOVED, ROLLOUT_STARTED]
    assert endpoint.harness.events.warnings() == []
    rollout = endpoint.status["rollout"]
    assert (rollout["phase"], rollout["step"], rollout["trafficPercentage"]) == \
        ("Progressing", 1, 10)
    assert rollout["weights"] == [
        {"servedEntityName": "champion", "trafficPercentage": 90},
        {"servedEntityName": "champion-canary", "trafficPercentage": 10}]

    outcome = endpoint.run()  # live: waits one interval before reading any metrics
    assert outcome.verdict.reason == ROLLING_OUT
    assert "export_metrics" not in sdk.calls
    assert outcome.requeue_after <= 1.0
    assert endpoint.harness.condition("Ready")["status"] == "False"


def test_checks_read_the_export_only_when_due_and_promote():
    sdk = RollingSdk()
    endpoint = Endpoint(sdk)
    endpoint.run(), endpoint.run()
    endpoint.status["rollout"]["stepStartedAt"] = "2000-01-01T00:00:00.000Z"  # long ago
    sdk.calls.clear()
    endpoint.run()
    assert sdk.calls == ["get", "export_metrics", "update_config"]
    assert sdk.served() == {"champion": ("3", 100)}
    assert endpoint.status["rollout"]["phase"] == "Promoting"
    outcome = endpoint.run()
    assert outcome.verdict.reason == reasons.READY and "rollout" not in endpoint.status


@pytest.mark.produces(ROLLED_BACK)
def test_a_rollback_is_a_stalled_rolled_back_condition_with_a_warning():
    sdk = RollingSdk()
    sdk.errors = 25
    endpoint = Endpoint(sdk)
    endpoint.run(), endpoint.run()
    endpoint.status["rollout"]["stepStartedAt"] = "2000-01-01T00:00:00.000Z"
    endpoint.run()
    assert sdk.served() == {"champion": ("1", 100)}
    outcome = endpoint.run()
    assert outcome.verdict.reason == ROLLED_BACK
    stalled = endpoint.harness.condition("Stalled")
    assert stalled["status"] == "True" and "errorRate of champion-canary (v3) was 0.5" in \
        stalled["message"]
    warnings = [w.reason for w in endpoint.harness.events.warnings()]
    assert warnings == ["AnalysisFailed", ROLLED_BACK]


@pytest.mark.produces(ROLLOUT_ABORTED)
def test_the_abort_annotation_holds_the_old_version():
    sdk = RollingSdk()
    endpoint = Endpoint(sdk, {ROLLOUT_ABORT_ANNOTATION: "true"})
    outcome = endpoint.run()
    assert outcome.verdict.reason == ROLLOUT_ABORTED
    assert sdk.calls == ["get"] and sdk.served() == {"champion": ("1", 100)}


@pytest.mark.produces(reasons.INVALID_SPEC)
def test_an_abort_annotation_that_is_not_a_boolean_is_named():
    sdk = RollingSdk()
    outcome = Endpoint(sdk, {ROLLOUT_ABORT_ANNOTATION: "yes"}).run()
    assert outcome.verdict.reason == reasons.INVALID_SPEC
    assert ROLLOUT_ABORT_ANNOTATION in outcome.verdict.message
    assert sdk.calls == [], "nothing read or written until it is fixed"


def test_a_promote_request_is_acted_on_once():
    sdk = RollingSdk()
    endpoint = Endpoint(sdk, {PROMOTE_REQUESTED_ANNOTATION: "2026-01-01T00:00:00Z"})
    endpoint.run()
    assert sdk.served() == {"champion": ("3", 100)}
    assert endpoint.status["promoteRequestHandled"] == "2026-01-01T00:00:00Z"
    endpoint.run()
    sdk.alias = 4  # a later move gets its canary: the old request is spent
    endpoint.run()
    assert sdk.served() == {"champion": ("3", 90), "champion-canary": ("4", 10)}


def test_a_promote_request_waits_for_the_update_in_flight():
    sdk = RollingSdk()
    endpoint = Endpoint(sdk)
    endpoint.run()
    endpoint.annotations = {PROMOTE_REQUESTED_ANNOTATION: "now"}
    in_flight = sdk._get

    def deploying(name):
        shown = in_flight(name)
        shown.state.config_update = shown.state.config_update.__class__("IN_PROGRESS")
        return shown
    sdk.serving_endpoints.get = deploying
    endpoint.run()
    assert "promoteRequestHandled" not in endpoint.status, "not acted on yet"
    sdk.serving_endpoints.get = in_flight
    endpoint.run()
    assert sdk.served() == {"champion": ("3", 100)}
    assert endpoint.status["promoteRequestHandled"] == "now"


def test_observe_only_never_rolls_anything():
    sdk = RollingSdk()
    endpoint = Endpoint(sdk)
    spec = {**SPEC, "managementPolicy": "ObserveOnly"}
    body = {"apiVersion": "lakeserve.dev/v1alpha1", "kind": "ServingEndpoint",
            "metadata": {"name": "ep", "namespace": "ns", "uid": "uid-ep", "generation": 1},
            "spec": spec, "status": endpoint.status}
    endpoint.harness.run(body)
    assert sdk.calls == ["get"] and "rollout" not in endpoint.status
