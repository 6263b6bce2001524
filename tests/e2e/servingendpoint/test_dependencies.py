"""A ServingEndpoint waits for the FeatureFunction and OnlineTable it depends on."""

from __future__ import annotations

import uuid

import pytest

from lakeserve.reconcile import reasons

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(150)]


@pytest.mark.produces(reasons.WAITING_FOR_DEPENDENCIES)
def test_waits_for_dependencies_then_becomes_ready(cluster, workspace, models, poll):
    names = workspace.names
    model = names.model(f"deps_{uuid.uuid4().hex[:6]}")
    models.register(model, ["online"])
    fn_name = names.object(f"avg_{uuid.uuid4().hex[:8]}")
    name = names.endpoint("deps")
    endpoint = {"apiVersion": "lakeserve.dev/v1alpha1", "kind": "ServingEndpoint",
                "metadata": {"name": name},
                "spec": {"dependsOn": [{"kind": "FeatureFunction", "name": "avg"}],
                         "config": {"servedEntities": [
                             {"entityName": model, "entityAlias": "online"}]}}}
    since = workspace.last_seq() if workspace.emulator else 0
    cluster.apply(endpoint)
    body = poll(lambda: (lambda b: b if b and b.get("status", {}).get("conditions") else None)(
        cluster.get("servingendpoint", name)), message="a first status")
    reconciling = next(c for c in body["status"]["conditions"] if c["type"] == "Reconciling")
    assert reconciling["status"] == "True"
    assert reconciling["reason"] == "WaitingForDependencies"
    assert "FeatureFunction/avg (not found" in reconciling["message"]
    if workspace.emulator:
        assert workspace.count("POST /api/2.0/serving-endpoints", since) == 0
    else:
        assert name not in {e.name for e in workspace.client.serving_endpoints.list()}
    cluster.apply({"apiVersion": "lakeserve.dev/v1alpha1", "kind": "FeatureFunction",
                   "metadata": {"name": "avg"},
                   "spec": {"catalog": names.catalog, "schema": names.schema, "name": fn_name,
                            "parameters": [{"name": "x", "type": "DOUBLE"}], "returns": "DOUBLE",
                            "body": "return x\n"}})
    cluster.wait("featurefunction", "avg")
    cluster.wait("servingendpoint", name)
