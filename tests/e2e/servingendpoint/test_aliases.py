"""Endpoints declared by Unity Catalog alias: resolved, shown, and rolled when the alias moves."""

from __future__ import annotations

import uuid

import pytest

from lakeserve.reconcile import reasons
from lakeserve.resources.servingendpoint.client import ALIAS_NOT_FOUND

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


def ab_endpoint(name, model):
    return {
        "apiVersion": "lakeserve.dev/v1alpha1", "kind": "ServingEndpoint",
        "metadata": {"name": name},
        "spec": {"config": {
            "servedEntities": [
                {"name": "champion", "entityName": model, "entityAlias": "champion",
                 "workloadSize": "Small", "scaleToZeroEnabled": True},
                {"name": "challenger", "entityName": model, "entityAlias": "challenger",
                 "workloadSize": "Small", "scaleToZeroEnabled": True}],
            "trafficConfig": {"routes": [
                {"servedEntityName": "champion", "trafficPercentage": 50},
                {"servedEntityName": "challenger", "trafficPercentage": 50}]}}},
    }


def served_versions(workspace, name):
    config = workspace.client.serving_endpoints.get(name).config
    return {e.name: e.entity_version for e in config.served_entities}


def status_versions(body):
    return {e["name"]: (e.get("entityAlias"), e.get("entityVersion"))
            for e in body["status"]["servedEntities"]}


@pytest.fixture
def model(models, workspace):
    name = workspace.names.model(f"alias_{uuid.uuid4().hex[:6]}")
    models.register(name, ["champion"])
    models.register(name, ["challenger"])
    return name


@pytest.mark.produces(reasons.ALIAS_MOVED)
def test_alias_move_rolls_the_endpoint_without_a_manifest_change(cluster, workspace, models,
                                                                   model, poll):
    name = workspace.names.endpoint("ab")
    cluster.apply(ab_endpoint(name, model))
    body = cluster.wait("servingendpoint", name)
    assert status_versions(body) == {"champion": ("champion", "1"),
                                     "challenger": ("challenger", "2")}
    generation = body["metadata"]["generation"]
    new = models.register(model)
    models.set_alias(model, "champion", new)
    poll(lambda: served_versions(workspace, name) == {"champion": str(new), "challenger": "2"},
         timeout=60, message="the endpoint to serve the alias's new version")
    body = poll(lambda: (lambda b: b if status_versions(b)["champion"] == ("champion", str(new))
                         and any(c["type"] == "Ready" and c["status"] == "True"
                                 for c in b["status"]["conditions"]) else None)(
        cluster.get("servingendpoint", name)), timeout=60, message="status to show the move")
    assert body["metadata"]["generation"] == generation, "no manifest change was needed"
    moved = [e["message"] for e in cluster.events(name) if e["reason"] == "AliasMoved"]
    assert moved and f"from version 1 to {new}" in moved[0]


@pytest.mark.produces(ALIAS_NOT_FOUND)
def test_unknown_alias_stalls_until_it_is_set(cluster, models, model, workspace):
    name = workspace.names.endpoint("missing")
    manifest = ab_endpoint(name, model)
    manifest["spec"]["config"]["servedEntities"][1]["entityAlias"] = "shadow"
    manifest["spec"]["config"]["trafficConfig"]["routes"][1]["servedEntityName"] = "challenger"
    cluster.apply(manifest)
    body = cluster.wait("servingendpoint", name, condition="Stalled")
    stalled = next(c for c in body["status"]["conditions"] if c["type"] == "Stalled")
    assert stalled["reason"] == "AliasNotFound"
    assert "'shadow'" in stalled["message"] and model in stalled["message"]
    models.set_alias(model, "shadow", 2)  # fixed in the registry, not in the manifest
    cluster.wait("servingendpoint", name)
