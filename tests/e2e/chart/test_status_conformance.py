"""What Argo CD (the chart's Lua health checks) and kstatus (sigs.k8s.io/cli-utils'
status.Compute, through tools/kstatus) make of real objects in each state.

The session's operator and the emulator drive ServingEndpoints into each state on the real API
server; the objects are fetched with kubectl and judged as they are:

  state         how                                          Argo CD       kstatus
  Ready         a servable model version                     Healthy       Current
  Reconciling   the emulator creates slowly                  Progressing   InProgress
  Stalled       a model version that does not exist          Degraded      Failed
  deleting      a finalizer of the test holds the deletion   Progressing   Terminating
  behind        spec changed after the status was written    Progressing   InProgress
  unseen        in a namespace no operator watches           Progressing   InProgress
  paused        lakeserve.dev/paused: "true"                 Suspended     InProgress
  not ours      an endpoint of that name made by hand        Degraded      Failed
"""

from __future__ import annotations

import json
import uuid

import pytest
from databricks.sdk.service.serving import EndpointCoreConfigInput, ServedEntityInput

from tests.e2e.chart.conftest import run_health_check
from tests import reasons as produced
from tests.e2e.conftest import EMULATOR_SETTINGS, E2E_PREFIX, Cluster

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(150),
              pytest.mark.emulator_only("holds endpoints in each state by slowing the workspace")]

HOLD = "test.lakeserve.dev/hold"


def endpoint(name: str, model: str, version: str = "1") -> dict:
    return {"apiVersion": "lakeserve.dev/v1alpha1", "kind": "ServingEndpoint",
            "metadata": {"name": name},
            "spec": {"config": {"servedEntities": [
                {"entityName": model, "entityVersion": version, "workloadSize": "Small",
                 "scaleToZeroEnabled": True}]}}}


def condition(body: dict, type_: str) -> dict:
    return next(c for c in body["status"]["conditions"] if c["type"] == type_)


def make_namespace(kubectl, prefix: str, made: list[str]) -> Cluster:
    namespace = f"{prefix}{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", namespace)
    made.append(namespace)
    return Cluster(kubectl, namespace)


@pytest.fixture(scope="module")
def objects(kubectl, operator, workspace, models, poll) -> dict[str, dict]:
    """One real ServingEndpoint per state, as fetched from the API server."""
    emulator = workspace.require_emulator()
    model = f"main.e2e.conformance_{uuid.uuid4().hex[:6]}"
    models.register(model)
    made: list[str] = []
    watched = make_namespace(kubectl, E2E_PREFIX, made)
    unwatched = make_namespace(kubectl, "lsnone-", made)
    found: dict[str, dict] = {}
    try:
        watched.apply(endpoint("ready", model))
        watched.apply(endpoint("stalled", model, version="99"))
        found["ready"] = watched.wait("servingendpoint", "ready")
        found["stalled"] = watched.wait("servingendpoint", "stalled", condition="Stalled")

        paused = endpoint("paused", model)
        paused["metadata"]["annotations"] = {"lakeserve.dev/paused": "true"}
        watched.apply(paused)
        found["paused"] = poll(lambda: (lambda b: b if b.get("status", {}).get("conditions")
                                        else None)(watched.get("servingendpoint", "paused")),
                               message="the paused object's first status")
        theirs = f"{watched.namespace}-theirs"
        workspace.client.serving_endpoints.create(name=theirs, config=EndpointCoreConfigInput(
            name=theirs, served_entities=[ServedEntityInput(
                entity_name=model, entity_version="1", workload_size="Small")]))
        not_ours = endpoint("not-ours", model)
        not_ours["spec"]["name"] = theirs
        watched.apply(not_ours)
        found["not ours"] = watched.wait("servingendpoint", "not-ours", condition="Stalled")

        emulator.control("PUT", "/_emulator/settings", {"serving_create_seconds": 600})
        try:
            watched.apply(endpoint("reconciling", model))
            found["reconciling"] = watched.wait("servingendpoint", "reconciling",
                                                condition="Reconciling")
        finally:
            emulator.control("PUT", "/_emulator/settings", EMULATOR_SETTINGS)

        watched.apply(endpoint("deleting", model))
        watched.wait("servingendpoint", "deleting")
        kubectl("patch", "servingendpoint", "deleting", "-n", watched.namespace, "--type=json",
                "-p", json.dumps([{"op": "add", "path": "/metadata/finalizers/-", "value": HOLD}]))
        watched.delete("servingendpoint", "deleting", wait=False)
        found["deleting"] = poll(lambda: (lambda b: b if b["metadata"].get(
            "deletionTimestamp") else None)(watched.get("servingendpoint", "deleting")),
            message="the deletion to start")

        # Nobody watches this namespace, so the test writes the status an operator would have
        # written for generation 1, then changes the spec: generation 2, status still of 1.
        unwatched.apply(endpoint("unseen", model))
        found["unseen"] = unwatched.get("servingendpoint", "unseen")
        unwatched.apply(endpoint("behind", model))
        ready_status = {k: found["ready"]["status"][k] for k in ("observedGeneration",
                                                                 "conditions")}
        kubectl("patch", "servingendpoint", "behind", "-n", unwatched.namespace,
                "--subresource=status", "--type=merge", "-p", json.dumps({"status": ready_status}))
        unwatched.apply(endpoint("behind", model, version="2"))
        found["behind"] = unwatched.get("servingendpoint", "behind")
        yield found
    finally:
        body = watched.get("servingendpoint", "deleting")
        if body and HOLD in body["metadata"].get("finalizers", []):
            index = body["metadata"]["finalizers"].index(HOLD)
            kubectl("patch", "servingendpoint", "deleting", "-n", watched.namespace,
                    "--type=json", "-p", json.dumps([
                        {"op": "test", "path": f"/metadata/finalizers/{index}", "value": HOLD},
                        {"op": "remove", "path": f"/metadata/finalizers/{index}"}]), check=False)
        for namespace in made:
            kubectl("delete", "namespace", namespace, "--wait=false", check=False)


@pytest.mark.produces("Paused", "AlreadyExists")
def test_the_objects_are_in_the_states_the_table_says(objects):
    assert condition(objects["ready"], "Ready")["status"] == "True"
    assert condition(objects["reconciling"], "Reconciling")["status"] == "True"
    assert condition(objects["stalled"], "Stalled")["status"] == "True"
    assert objects["deleting"]["metadata"]["deletionTimestamp"]
    assert objects["unseen"]["status"] == {"observedGeneration": 0}, "only the CRD default"
    behind = objects["behind"]
    assert behind["metadata"]["generation"] == 2 and behind["status"]["observedGeneration"] == 1
    assert all(c["status"] == "False" for c in objects["paused"]["status"]["conditions"])
    assert condition(objects["paused"], "Ready")["reason"] == "Paused"
    assert condition(objects["not ours"], "Stalled")["reason"] == "AlreadyExists"
    produced.saw_status(objects["paused"]["status"])
    produced.saw_status(objects["not ours"]["status"])


ARGO = [
    ("ready", "Healthy", "Databricks matches the spec"),
    ("reconciling", "Progressing", "Creating"),
    ("stalled", "Degraded", "does not exist"),
    ("deleting", "Progressing", "being deleted"),
    ("behind", "Progressing", "waiting for the operator to observe generation 2"),
    ("unseen", "Progressing", "waiting for the operator to report status"),
    ("paused", "Suspended", 'Paused: lakeserve.dev/paused is "true"'),
    ("not ours", "Degraded", "AlreadyExists: "),
]


@pytest.mark.parametrize("state, health, message", ARGO, ids=[a[0] for a in ARGO])
def test_argocd_health(objects, state, health, message):
    result = run_health_check(objects[state])
    assert result["status"] == health, result
    assert message in result["message"], result


def test_argocd_degraded_message_is_the_stalled_condition(objects):
    stalled = condition(objects["stalled"], "Stalled")
    assert run_health_check(objects["stalled"])["message"] == (
        f"{stalled['reason']}: {stalled['message']}")


def test_argocd_healthy_message_names_the_url(objects):
    message = run_health_check(objects["ready"])["message"]
    assert objects["ready"]["status"]["url"] in message


KSTATUS = [
    ("ready", "Current"),
    ("reconciling", "InProgress"),
    ("stalled", "Failed"),
    ("deleting", "Terminating"),
    ("behind", "InProgress"),
    # the CRD defaults status to {observedGeneration: 0}: without it kstatus calls an object no
    # operator has seen yet Current
    ("unseen", "InProgress"),
    # Ready=False: the operator vouches for nothing while paused
    ("paused", "InProgress"),
    ("not ours", "Failed"),
]


@pytest.mark.parametrize("state, expected", KSTATUS)
def test_kstatus(objects, kstatus, state, expected):
    (verdict,) = kstatus(objects[state])
    assert verdict["status"] == expected, verdict


def test_kstatus_messages_carry_the_operators_words(objects, kstatus):
    reconciling, stalled = kstatus(objects["reconciling"], objects["stalled"])
    assert reconciling["message"] == condition(objects["reconciling"], "Reconciling")["message"]
    assert stalled["message"] == condition(objects["stalled"], "Stalled")["message"]
