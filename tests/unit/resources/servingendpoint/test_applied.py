"""A difference the desired state made (an alias moved) is not drift; one made in the workspace
is. The real client over a fake SDK, driven by the engine."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from databricks.sdk.service.serving import ServingEndpointDetailed

from lakeserve.databricks.limiter import WriteLimiter
from lakeserve.databricks.workspace import Workspace
from lakeserve.reconcile import reasons
from lakeserve.resources.servingendpoint import ServingEndpointClient
from lakeserve.resources.servingendpoint.desired import OWNER_TAG
from tests.unit.reconcile.fakes import FakeWorkspaces, Harness

MODEL = "main.ml.churn"
SPEC = {"config": {"servedEntities": [
    {"name": "champion", "entityName": MODEL, "entityAlias": "champion",
     "workloadSize": "Small"}]}}
READY_STATUS = {"observedGeneration": 1, "conditions": [
    {"type": "Ready", "status": "True", "reason": "Ready"}],
    "lastAppliedConfig": {"generation": 1, "servedEntities": [
        {"name": "champion", "entityName": MODEL, "entityVersion": "1"}],
        "routes": [{"servedEntityName": "champion", "trafficPercentage": 100}]}}


class AliasSdk:
    """A workspace serving ``served`` whose alias resolves to ``alias``."""

    def __init__(self, served: str, alias: str):
        self.served, self.alias, self.writes = served, alias, []
        self.model_versions = SimpleNamespace(
            get_by_alias=lambda model, alias: SimpleNamespace(version=int(self.alias)))
        self.serving_endpoints = SimpleNamespace(get=self._get, update_config=self._update)

    def _get(self, name):
        return ServingEndpointDetailed.from_dict({
            "name": name, "id": "id1", "state": {"ready": "READY",
                                                 "config_update": "NOT_UPDATING"},
            "config": {"config_version": 1, "served_entities": [
                {"name": "champion", "entity_name": MODEL, "entity_version": self.served,
                 "workload_size": "Small", "workload_type": "CPU",
                 "state": {"deployment": "DEPLOYMENT_READY"}}],
                "traffic_config": {"routes": [{"served_entity_name": "champion",
                                               "traffic_percentage": 100}]}},
            "tags": [{"key": OWNER_TAG, "value": "ns/ep"}]})

    def _update(self, name, **config):
        self.writes.append("update_config")


def harness(sdk) -> Harness:
    client = ServingEndpointClient(Workspace(client=sdk, host="h", limiter=WriteLimiter()))
    return Harness(client, FakeWorkspaces())


def body():
    return {"apiVersion": "lakeserve.dev/v1alpha1", "kind": "ServingEndpoint",
            "metadata": {"name": "ep", "namespace": "ns", "uid": "uid-ep", "generation": 1},
            "spec": SPEC, "status": READY_STATUS}


@pytest.mark.produces(reasons.ALIAS_MOVED, reasons.UPDATED)
def test_an_alias_move_is_announced_and_applied_without_a_drift_warning():
    sdk = AliasSdk(served="1", alias="3")
    run = harness(sdk)
    run.run(body())
    assert sdk.writes == ["update_config"]
    assert run.events.reasons() == [reasons.ALIAS_MOVED, reasons.UPDATED]
    assert run.events.warnings() == [], "nothing changed outside the operator"


@pytest.mark.produces(reasons.DRIFT_CORRECTED)
def test_a_version_changed_in_the_workspace_is_drift():
    sdk = AliasSdk(served="5", alias="1")
    run = harness(sdk)
    run.run(body())
    assert sdk.writes == ["update_config"]
    (warning,) = run.events.warnings()
    assert warning.reason == reasons.DRIFT_CORRECTED
    assert "servedEntities[champion].entityVersion 5 -> 1" in warning.message


@pytest.mark.produces(reasons.DRIFT_CORRECTED)
def test_a_workspace_edit_and_an_alias_move_at_once_are_still_drift():
    """The workspace no longer shows what was sent: someone changed it, whatever the alias did."""
    sdk = AliasSdk(served="5", alias="3")
    run = harness(sdk)
    run.run(body())
    assert [w.reason for w in run.events.warnings()] == [reasons.DRIFT_CORRECTED]


def test_without_a_record_of_what_was_sent_a_difference_counts_as_drift():
    sdk = AliasSdk(served="1", alias="3")
    run = harness(sdk)
    the_body = body()
    the_body["status"] = {k: v for k, v in READY_STATUS.items() if k != "lastAppliedConfig"}
    run.run(the_body)
    assert [w.reason for w in run.events.warnings()] == [reasons.DRIFT_CORRECTED]
