"""ServingEndpointClient's writes: what is sent, in which order, and when nothing is."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from databricks.sdk.service.serving import ServingEndpointDetailed

from lakeserve.api.servingendpoint import ServingEndpointSpec
from lakeserve.databricks.limiter import WriteLimiter
from lakeserve.databricks.workspace import Workspace
from lakeserve.resources.base import Managed
from lakeserve.resources.servingendpoint import ServingEndpointClient
from lakeserve.resources.servingendpoint.desired import OWNER_TAG

MODEL = "main.ml.churn"


def spec(version="2", **extra) -> ServingEndpointSpec:
    return ServingEndpointSpec.model_validate({
        "config": {"servedEntities": [{"name": "m", "entityName": MODEL,
                                       "entityVersion": version, "workloadSize": "Small"}]},
        **extra})


def echo(version="1", config_update="NOT_UPDATING", **extra) -> dict:
    """A served endpoint as GET returns it."""
    return {
        "name": "ep", "id": "id1",
        "state": {"ready": "READY", "config_update": config_update},
        "config": {"config_version": 1, "served_entities": [
            {"name": "m", "entity_name": MODEL, "entity_version": version,
             "workload_size": "Small", "workload_type": "CPU", "scale_to_zero_enabled": False,
             "state": {"deployment": "DEPLOYMENT_READY"}}],
            "traffic_config": {"routes": [{"served_entity_name": "m", "served_model_name": "m",
                                           "traffic_percentage": 100}]}},
        "tags": [{"key": OWNER_TAG, "value": "ns/ep"}],
        **extra}


class FakeSdk:
    def __init__(self, endpoint: dict):
        self.endpoint = endpoint
        self.writes: list[str] = []
        self.serving_endpoints = SimpleNamespace(
            get=lambda name: ServingEndpointDetailed.from_dict(self.endpoint),
            update_config=self._record("update_config"), patch=self._record("patch"),
            update_notifications=self._record("update_notifications"),
            patch_telemetry_config=self._record("patch_telemetry_config"))
        self.api_client = SimpleNamespace(do=lambda method, path, body=None:
                                          self.writes.append(f"{method} {path}"))

    def _record(self, what):
        def call(*args, **kwargs):
            self.writes.append(what)
            return ServingEndpointDetailed.from_dict(self.endpoint)
        return call


def managed(spec_: ServingEndpointSpec, status=None) -> Managed:
    return Managed("ServingEndpoint", "ns", "ep", "uid", 2, spec_, {}, status or {})


def client(sdk: FakeSdk) -> ServingEndpointClient:
    return ServingEndpointClient(Workspace(client=sdk, host="h", limiter=WriteLimiter()))


def test_writes_beside_the_config_go_first_and_the_config_last():
    sdk = FakeSdk(echo())
    obj = managed(spec(tags=[{"key": "team", "value": "ml"}],
                       aiGateway={"usageTrackingConfig": {"enabled": True}},
                       emailNotifications={"onUpdateFailure": ["a@b.c"]}))
    c = client(sdk)
    observation = c.observe(obj)
    c.update(obj, observation)
    assert sdk.writes[-1] == "update_config"
    assert set(sdk.writes[:-1]) == {"patch", "PUT /api/2.0/serving-endpoints/ep/ai-gateway",
                                    "update_notifications"}


def test_while_the_config_updates_nothing_is_written():
    sdk = FakeSdk(echo(config_update="IN_PROGRESS", pending_config={
        "config_version": 2, "served_entities": [{"name": "m", "entity_name": MODEL,
                                                  "entity_version": "2"}]}))
    observation = client(sdk).observe(managed(spec(tags=[{"key": "team", "value": "ml"}])))
    assert observation.busy is not None, "the engine writes nothing while busy"
    assert "tags" in observation.diff


def failed_state(**extra) -> dict:
    return {**echo(version="1", config_update="UPDATE_FAILED"), **extra}


PENDING_V2 = {"config_version": 2, "served_entities": [
    {"name": "m", "entity_name": MODEL, "entity_version": "2", "workload_size": "Small",
     "state": {"deployment": "DEPLOYMENT_FAILED",
               "deployment_state_message": "No module named 'xgboost'"}}],
    "traffic_config": {"routes": [{"served_entity_name": "m", "traffic_percentage": 100}]}}


def sent(version: str) -> dict:
    """status.lastAppliedConfig after the operator sent ``version``."""
    c = client(FakeSdk(echo()))
    c.observe(managed(spec(version)))
    return {"lastAppliedConfig": {"generation": 2,
                                  "configHash": c._plan.desired.config_hash()}}


# (reason, what GET answers, status before the pass, spec version, stalled?)
FAILURES = [
    ("pending_config kept", failed_state(pending_config=PENDING_V2), sent("2"), "2", True),
    ("pending_config cleared", failed_state(), sent("2"), "2", True),
    ("state back to NOT_UPDATING, failure remembered", echo(version="1"),
     {**sent("2"), "failedConfigHash": sent("2")["lastAppliedConfig"]["configHash"]}, "2", True),
    ("failed creation, pending cleared", {**failed_state(), "config": None,
                                          "state": {"ready": "NOT_READY",
                                                    "config_update": "UPDATE_FAILED"}},
     sent("2"), "2", True),
    ("the spec moved on", failed_state(), sent("2"), "3", False),
]


@pytest.mark.parametrize("case, answer, status, version, stalled", FAILURES,
                         ids=[f[0] for f in FAILURES])
def test_a_failed_config_is_not_sent_again(case, answer, status, version, stalled):
    sdk = FakeSdk(answer)
    c = client(sdk)
    observation = c.observe(managed(spec(version), status=status))
    assert (observation.failed is not None) is stalled
    assert bool(observation.diff) is not stalled
    if stalled:
        assert observation.failed[0] == "UpdateFailed"
        assert observation.status["failedConfigHash"] == \
            status["lastAppliedConfig"]["configHash"]


def test_status_url_of_a_route_optimized_endpoint_is_its_endpoint_url():
    url = "https://1234.serving.example/serving-endpoints/ep/invocations"
    optimized = client(FakeSdk(echo(route_optimized=True, endpoint_url=url))).observe(
        managed(spec("1", routeOptimized=True)))
    assert optimized.status["url"] == url
    plain = client(FakeSdk(echo())).observe(managed(spec("1")))
    assert plain.status["url"] == "h/serving-endpoints/ep/invocations"


TELEMETRY = {"tableNames": {"logsTable": "Main.Obs.Logs"},
             "inferenceTableConfig": {"samplingFraction": 0.25}}


def telemetry_hash(telemetry: dict) -> str:
    c = client(FakeSdk(echo()))
    c.observe(managed(spec("1", telemetryConfig=telemetry)))
    return c._plan.desired.telemetry_hash()


# (reason, spec's telemetryConfig, profile GET returns, status before the pass, differs?)
TELEMETRY_CASES = [
    ("applied before: tables are not echoed, the profile is", TELEMETRY, "p1",
     {"telemetryProfileId": "p1", "telemetryConfigHash": telemetry_hash(TELEMETRY)}, False),
    ("never applied", TELEMETRY, None, {}, True),
    ("profile replaced outside the operator", TELEMETRY, "other",
     {"telemetryProfileId": "p1", "telemetryConfigHash": telemetry_hash(TELEMETRY)}, True),
    ("sampling changed in the spec", {**TELEMETRY, "inferenceTableConfig": {
        "samplingFraction": 1.0}}, "p1",
     {"telemetryProfileId": "p1", "telemetryConfigHash": telemetry_hash(TELEMETRY)}, True),
    ("an existing profile, in place", {"telemetryProfileId": "p9"}, "p9",
     {"telemetryConfigHash": telemetry_hash({"telemetryProfileId": "p9"})}, False),
]


@pytest.mark.parametrize("case, telemetry, profile, status, differs", TELEMETRY_CASES,
                         ids=[t[0] for t in TELEMETRY_CASES])
def test_telemetry_is_compared_by_what_was_applied(case, telemetry, profile, status, differs):
    answer = echo(telemetry_config={"telemetry_profile_id": profile} if profile else None)
    observation = client(FakeSdk(answer)).observe(managed(spec("1", telemetryConfig=telemetry),
                                                          status=status))
    assert ("telemetryConfig" in observation.diff) is differs


def test_applying_telemetry_records_the_profile_databricks_made():
    sdk = FakeSdk(echo(telemetry_config={"telemetry_profile_id": "made-1"}))
    c = client(sdk)
    obj = managed(spec("1", telemetryConfig=TELEMETRY))
    result = c.update(obj, c.observe(obj))
    assert sdk.writes == ["patch_telemetry_config"]
    assert result.status == {"telemetryProfileId": "made-1",
                             "telemetryConfigHash": telemetry_hash(TELEMETRY)}
