"""In a shared workspace the operator writes only to what it created or was told to adopt.

The issue's scenario: a person made endpoint churn-prod by hand; someone applies a
ServingEndpoint of that name with other routes. It must stall as AlreadyExists without a single
write, and deleting the ServingEndpoint must leave the person's endpoint alone. The same holds
for synced tables and functions; adoption is an annotation; ObserveOnly and pause never write.
"""

from __future__ import annotations

import contextlib
import uuid

import pytest
from databricks.sdk.errors import NotFound
from databricks.sdk.service.database import DatabaseInstance, SyncedDatabaseTable
from databricks.sdk.service.serving import (
    EndpointCoreConfigInput,
    Route,
    ServedEntityInput,
    TrafficConfig,
)

from lakeserve.api.featurefunction import FeatureFunctionSpec
from lakeserve.api.onlinetable import OnlineTableSpec
from lakeserve.reconcile import reasons
from lakeserve.resources.featurefunction.client import create_request
from lakeserve.resources.onlinetable.client import synced_table

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

ADOPT = {"lakeserve.dev/adopt": "true"}
INSTANCE = "e2e-lakebase"
DRIFT_INTERVAL = 4  # OPERATOR_SETTINGS in conftest


@pytest.fixture
def model(models, workspace):
    name = workspace.names.model(f"owned_{uuid.uuid4().hex[:6]}")
    models.register(name)
    models.register(name)
    return name


def endpoint(name, model, spec_name, annotations=None, **spec):
    """Versions 1 and 2 at 50/50: not what the hand-made endpoint serves."""
    return {"apiVersion": "lakeserve.dev/v1alpha1", "kind": "ServingEndpoint",
            "metadata": {"name": name, "annotations": annotations or {}},
            "spec": {"name": spec_name, "config": {
                "servedEntities": [{"name": f"v{v}", "entityName": model,
                                    "entityVersion": str(v), "workloadSize": "Small"}
                                   for v in (1, 2)],
                "trafficConfig": {"routes": [{"servedEntityName": "v1", "trafficPercentage": 50},
                                             {"servedEntityName": "v2",
                                              "trafficPercentage": 50}]}}, **spec}}


@pytest.fixture
def made_by_hand(workspace):
    """``make(name, model)``: an endpoint a person created in the UI (version 1 only, no tags);
    the test deletes it afterwards, as no sweep would touch an endpoint without the owner tag."""
    made: list[str] = []

    def make(name, model):
        made.append(name)
        return _made_by_hand(workspace, name, model)
    yield make
    for name in made:
        with contextlib.suppress(NotFound):
            workspace.client.serving_endpoints.delete(name)


def _made_by_hand(workspace, name, model):
    workspace.client.serving_endpoints.create(name=name, config=EndpointCoreConfigInput(
        name=name, served_entities=[ServedEntityInput(
            name="prod", entity_name=model, entity_version="1", workload_size="Small")],
        traffic_config=TrafficConfig(routes=[Route(served_entity_name="prod",
                                                   traffic_percentage=100)])))
    return workspace.client.serving_endpoints.get(name)


def writes_to(workspace, name, since):
    """Every non-GET call about the endpoint since ``since`` (none to tell without the call log:
    a real workspace's audit log is not read here; ``unchanged`` checks the result instead)."""
    if workspace.emulator is None:
        return []
    return [f"{c['method']} {c['path']}" for c in workspace.calls(since)["calls"]
            if c["method"] != "GET" and (f"/serving-endpoints/{name}" in c["path"] or (
                c["path"] == "/api/2.0/serving-endpoints"
                and (c.get("body") or {}).get("name") == name))]


def stalled(body):
    return next(c for c in body["status"]["conditions"] if c["type"] == "Stalled")


def unchanged(workspace, name, before):
    after = workspace.client.serving_endpoints.get(name)
    assert after.id == before.id
    config = after.config or after.pending_config  # it may still be deploying
    assert [e.name for e in config.served_entities] == ["prod"]
    assert not after.tags


@pytest.mark.produces(reasons.ALREADY_EXISTS, reasons.NOT_OWNED)
def test_a_hand_made_endpoint_stalls_untouched_and_survives_the_deletion(cluster, workspace,
                                                                        model, made_by_hand,
                                                                        poll):
    name = workspace.names.endpoint(f"{cluster.namespace}-churn-prod")
    before = made_by_hand(name, model)
    since = workspace.last_seq() if workspace.emulator else 0
    cluster.apply(endpoint("churn", model, name))
    body = cluster.wait("servingendpoint", "churn", condition="Stalled")
    condition = stalled(body)
    assert condition["reason"] == "AlreadyExists"
    assert name in condition["message"] and "lakeserve.dev/adopt" in condition["message"]
    warnings = [e for e in cluster.events("churn") if e["type"] == "Warning"]
    assert [e["reason"] for e in warnings] == ["AlreadyExists"]
    cluster.delete("servingendpoint", "churn")  # deletionPolicy: Delete (the default)
    poll(lambda: "NotOwned" in cluster.event_reasons("churn"), message="the NotOwned event")
    assert writes_to(workspace, name, since) == [], "not one write to the person's endpoint"
    unchanged(workspace, name, before)


@pytest.mark.produces(reasons.ADOPTED, reasons.DELETED)
def test_adoption_is_asked_for_warned_about_and_then_the_endpoint_is_ours(cluster, workspace,
                                                                        model, made_by_hand,
                                                                        poll):
    name = workspace.names.endpoint(f"{cluster.namespace}-adopted")
    made_by_hand(name, model)
    cluster.apply(endpoint("adopter", model, name, annotations=ADOPT))
    body = cluster.wait("servingendpoint", "adopter", timeout=60)
    assert body["status"]["owned"]["how"] == "Adopted"
    adopted = [e for e in cluster.events("adopter") if e["reason"] == "Adopted"]
    assert len(adopted) == 1 and adopted[0]["type"] == "Warning"
    assert f"took over {name}" in adopted[0]["message"]
    served = workspace.client.serving_endpoints.get(name)
    assert sorted(e.name for e in served.config.served_entities) == ["v1", "v2"]
    assert {t.key: t.value for t in served.tags}["lakeserve-owner"] == \
        f"{cluster.namespace}/adopter"
    cluster.delete("servingendpoint", "adopter")
    with pytest.raises(NotFound):
        workspace.client.serving_endpoints.get(name)
    poll(lambda: "Deleted" in cluster.event_reasons("adopter"), message="the Deleted event")


@pytest.mark.produces(reasons.OWNED_BY_ANOTHER_OBJECT)
def test_another_objects_endpoint_is_never_taken_over(cluster, workspace, model, poll):
    name = workspace.names.endpoint(f"{cluster.namespace}-shared")
    cluster.apply(endpoint("first", model, name))
    cluster.wait("servingendpoint", "first", timeout=60)
    since = workspace.last_seq() if workspace.emulator else 0
    cluster.apply(endpoint("second", model, name, annotations=ADOPT))
    body = cluster.wait("servingendpoint", "second", condition="Stalled")
    assert stalled(body)["reason"] == "OwnedByAnotherObject"
    assert f"{cluster.namespace}/first" in stalled(body)["message"]
    cluster.delete("servingendpoint", "second")
    poll(lambda: "NotOwned" in cluster.event_reasons("second"), message="the NotOwned event")
    assert writes_to(workspace, name, since) == []
    assert cluster.wait("servingendpoint", "first")


# ---- synced tables and functions: no marker in Databricks, the record in status decides ----

@pytest.fixture(scope="module")
def instance(workspace):
    try:
        workspace.client.database.get_database_instance(INSTANCE)
    except NotFound:
        workspace.client.database.create_database_instance(
            DatabaseInstance(name=INSTANCE, capacity="CU_1"))
    return INSTANCE


def online_table(workspace, request):
    instance = request.getfixturevalue("instance")
    emulator = workspace.require_emulator()
    source = f"main.e2e.owned_src_{uuid.uuid4().hex[:8]}"
    emulator.control("POST", "/_emulator/catalog/tables", {"name": source, "mode": "overwrite",
                                                          "rows": [{"customerID": "c1",
                                                                    "tenure": 1.0}]})
    spec = {"name": f"{source}_online", "sourceTableFullName": source,
            "primaryKeyColumns": ["customerID"], "syncMode": "Snapshot",
            "databaseInstanceName": instance, "logicalDatabaseName": "databricks_postgres"}

    def by_hand():
        workspace.client.database.create_synced_database_table(
            synced_table(OnlineTableSpec.model_validate(spec)))

    def exists():
        try:
            return isinstance(workspace.client.database.get_synced_database_table(spec["name"]),
                              SyncedDatabaseTable)
        except NotFound:
            return False
    return "OnlineTable", "onlinetable", spec, by_hand, exists, \
        f"/database/synced_tables/{spec['name']}"


def feature_function(workspace, request):
    names = workspace.names
    spec = {"catalog": names.catalog, "schema": names.schema,
            "name": names.object(f"owned_{uuid.uuid4().hex[:8]}"),
            "parameters": [{"name": "x", "type": "DOUBLE"}], "returns": "DOUBLE",
            "body": "return x * 2\n"}
    full_name = f"{names.catalog}.{names.schema}.{spec['name']}"

    def by_hand():
        hand = FeatureFunctionSpec.model_validate({**spec, "body": "return x\n"})
        workspace.client.functions.create(function_info=create_request(hand))

    def exists():
        try:
            return workspace.client.functions.get(full_name).name == spec["name"]
        except NotFound:
            return False
    return "FeatureFunction", "featurefunction", spec, by_hand, exists, full_name


@pytest.mark.produces(reasons.ALREADY_EXISTS, reasons.NOT_OWNED, reasons.ADOPTED)
@pytest.mark.parametrize("kind_of", [
    pytest.param(online_table, id="synced-table", marks=pytest.mark.emulator_only(
        "seeds the source Delta table through /_emulator/")),
    pytest.param(feature_function, id="function")])
def test_a_table_or_function_made_by_hand_is_adopted_only_when_asked(cluster, workspace, request,
                                                                   kind_of, poll):
    kind, plural, spec, by_hand, exists, path = kind_of(workspace, request)
    by_hand()
    manifest = {"apiVersion": "lakeserve.dev/v1alpha1", "kind": kind,
                "metadata": {"name": "theirs"}, "spec": spec}
    since = workspace.last_seq() if workspace.emulator else 0
    cluster.apply(manifest)
    body = cluster.wait(plural, "theirs", condition="Stalled")
    assert stalled(body)["reason"] == "AlreadyExists"
    cluster.delete(plural, "theirs")
    poll(lambda: "NotOwned" in cluster.event_reasons("theirs"), message="the NotOwned event")
    assert exists(), "deleting the resource left the object alone"
    if workspace.emulator:
        calls = workspace.calls(since)["calls"]
        assert not [c for c in calls if c["method"] != "GET" and path in c["path"]]
    manifest["metadata"] = {"name": "adopter", "annotations": ADOPT}
    cluster.apply(manifest)
    body = cluster.wait(plural, "adopter", timeout=60)
    assert body["status"]["owned"]["how"] == "Adopted"
    assert "Adopted" in cluster.event_reasons("adopter")
    cluster.delete(plural, "adopter")
    poll(lambda: not exists(), timeout=30, message="the adopted object to be deleted with it")


# ---- managementPolicy: ObserveOnly ------------------------------------------------------------

@pytest.mark.produces(reasons.OBSERVED, reasons.NOT_FOUND, reasons.ORPHANED)
def test_observe_only_mirrors_and_never_writes_nor_deletes(cluster, workspace, model,
                                                          made_by_hand, poll):
    name = workspace.names.endpoint(f"{cluster.namespace}-observed")
    before = made_by_hand(name, model)
    since = workspace.last_seq() if workspace.emulator else 0
    cluster.apply(endpoint("watcher", model, name, managementPolicy="ObserveOnly"))
    body = cluster.wait("servingendpoint", "watcher", timeout=60)
    ready = next(c for c in body["status"]["conditions"] if c["type"] == "Ready")
    assert ready["reason"] == "Observed" and "differs from the spec" in ready["message"]
    assert body["status"]["url"].endswith(f"/serving-endpoints/{name}/invocations")
    assert [e["name"] for e in body["status"]["servedEntities"]] == ["prod"]
    missing = workspace.names.endpoint(f"{cluster.namespace}-not-there")
    cluster.apply(endpoint("nothing", model, missing, managementPolicy="ObserveOnly"))
    body = cluster.wait("servingendpoint", "nothing", condition="Stalled")
    assert stalled(body)["reason"] == "NotFound" and "ObserveOnly" in stalled(body)["message"]
    cluster.delete("servingendpoint", "watcher")
    poll(lambda: "Orphaned" in cluster.event_reasons("watcher"), message="the Orphaned event")
    assert writes_to(workspace, name, since) == [] and writes_to(workspace, missing, since) == []
    unchanged(workspace, name, before)


# ---- lakeserve.dev/paused -------------------------------------------------------------------

def endpoint_calls(workspace, name, since):
    return [c for c in workspace.calls(since)["calls"]
            if f"/serving-endpoints/{name}" in c["path"]]


@pytest.mark.emulator_only("the call log shows not one call while paused")
@pytest.mark.produces(reasons.PAUSED, reasons.DELETING)
def test_pause_stops_every_call_and_resuming_applies_the_spec(cluster, workspace, model, poll,
                                                            kubectl):
    name, clock = f"{cluster.namespace}-paused", f"{cluster.namespace}-clock"
    cluster.apply(endpoint("paused", model, name))
    cluster.apply(endpoint("clock", model, clock))
    cluster.wait("servingendpoint", "paused", timeout=60)
    cluster.wait("servingendpoint", "clock", timeout=60)
    cluster.kubectl("annotate", "servingendpoint", "paused", "-n", cluster.namespace,
                    "lakeserve.dev/paused=true")
    body = poll(lambda: (lambda b: b if next(c for c in b["status"]["conditions"]
                                             if c["type"] == "Ready")["reason"] == "Paused"
                         else None)(cluster.get("servingendpoint", "paused")),
                timeout=30, message="the Paused condition")
    assert all(c["status"] == "False" for c in body["status"]["conditions"])
    since = workspace.last_seq()
    changed = endpoint("paused", model, name)
    changed["spec"]["config"]["trafficConfig"]["routes"][0]["trafficPercentage"] = 90
    changed["spec"]["config"]["trafficConfig"]["routes"][1]["trafficPercentage"] = 10
    cluster.apply(changed)
    # the other endpoint's drift reads are the clock: two of them, and not one call for this one
    poll(lambda: sum(1 for c in endpoint_calls(workspace, clock, since) if c["method"] == "GET")
         >= 2, timeout=DRIFT_INTERVAL * 6, message="two drift passes of the other endpoint")
    assert endpoint_calls(workspace, name, since) == []
    cluster.kubectl("annotate", "servingendpoint", "paused", "-n", cluster.namespace,
                    "lakeserve.dev/paused-")
    poll(lambda: sorted(r.traffic_percentage for r in workspace.client.serving_endpoints.get(
        name).config.traffic_config.routes) == [10, 90], timeout=60,
         message="the spec changed while paused to be applied on resuming")
    cluster.wait("servingendpoint", "paused")
    # deleting while paused waits for the pause to end
    cluster.kubectl("annotate", "servingendpoint", "paused", "-n", cluster.namespace,
                    "lakeserve.dev/paused=true")
    poll(lambda: next(c for c in cluster.get("servingendpoint", "paused")["status"]["conditions"]
                      if c["type"] == "Ready")["reason"] == "Paused", timeout=30,
         message="paused again")
    cluster.delete("servingendpoint", "paused", wait=False)
    poll(lambda: (lambda b: b and next(c for c in b["status"]["conditions"]
                                       if c["type"] == "Reconciling")["reason"] == "Deleting")(
        cluster.get("servingendpoint", "paused")), timeout=30, message="the Deleting condition")
    assert workspace.client.serving_endpoints.get(name).name == name
    cluster.kubectl("annotate", "servingendpoint", "paused", "-n", cluster.namespace,
                    "lakeserve.dev/paused-")
    poll(lambda: cluster.get("servingendpoint", "paused") is None, timeout=60,
         message="the deletion to proceed once the pause ends")
    with pytest.raises(NotFound):
        workspace.client.serving_endpoints.get(name)
