"""ha.enabled: two replicas as active/standby through kopf peering, with the chart's RBAC.

Both run with the chart's ServiceAccount token, its LAKESERVE_PEERING and a POD_ID each (as the
downward API gives them). One pauses in favour of the other; the active one does the work; when
it stops (SIGTERM) or is killed (SIGKILL), the standby resumes and finishes the job.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from lakeserve.operator_process import OperatorProcess
from tests.e2e.chart.conftest import (
    container_env,
    deployment_namespaces,
    find,
    manifest_text,
    service_account_kubeconfig,
)
from tests.e2e.conftest import OPERATOR_SETTINGS, Cluster

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

PREFIX = "ha-"
REPLICAS = ("replica-a", "replica-b")
# How long a replica's keep-alive counts (LAKESERVE_PEERING_LIFETIME; 60 s by default).
PEERING_LIFETIME = 10


def paused(process: OperatorProcess) -> bool:
    """Whether kopf's peering holds this operator back. A replica starts paused (the peering is
    mandatory) and logs only the changes: "Resuming operations…" when it finds itself the
    highest priority alive, "Pausing operations in favour of…" when a higher one appears."""
    changes = re.findall(r"(Pausing|Resuming) operations", process.log_path.read_text())
    return not changes or changes[-1] == "Pausing"


def endpoint(name: str, model: str) -> dict:
    return {"apiVersion": "lakeserve.dev/v1alpha1", "kind": "ServingEndpoint",
            "metadata": {"name": name},
            "spec": {"config": {"servedEntities": [
                {"entityName": model, "entityVersion": "1", "workloadSize": "Small"}]}}}


@dataclass
class Pair:
    """Two replicas of one release, peered; which one works and which one waits."""

    cluster: Cluster
    processes: dict[str, OperatorProcess]
    active: str
    standby: str


@pytest.fixture
def pair(helm, kubectl, kubeconfig, workspace, crds, namespaces, release_namespace,
         cluster_scoped_cleanup, tmp_path, poll) -> Iterator[Pair]:
    cluster = namespaces(PREFIX)
    release = f"h{uuid.uuid4().hex[:6]}"
    values = {"ha": {"enabled": True}, "watchNamespaces": [cluster.namespace]}
    rendered = helm.render(values, release=release, namespace=release_namespace,
                           include_crds=True)
    peering_crds = [o for o in rendered if o["kind"] == "CustomResourceDefinition"
                    and o["spec"]["group"] == "kopf.dev"]
    objects = [o for o in rendered if o["kind"] != "CustomResourceDefinition"]
    cluster_scoped_cleanup(peering_crds + objects)
    kubectl("apply", "--server-side", "-f", "-", input=manifest_text(peering_crds))
    kubectl("wait", "--for=condition=Established", "--timeout=60s",
            *[f"crd/{o['metadata']['name']}" for o in peering_crds])
    kubectl("apply", "--server-side", "-f", "-", input=manifest_text(objects))
    peering = find(objects, "KopfPeering")["metadata"]["name"]
    env = container_env(objects)
    assert env["LAKESERVE_PEERING"] == peering

    kubectl("create", "secret", "generic", "databricks", "-n", release_namespace,
            f"--from-literal=DATABRICKS_HOST={workspace.host}",
            f"--from-literal=DATABRICKS_TOKEN={workspace.token}")
    service_account = find(objects, "ServiceAccount")["metadata"]["name"]
    token = kubectl("create", "token", service_account, "-n", release_namespace,
                    "--duration=1h").stdout.strip()
    config = service_account_kubeconfig(kubeconfig, token, tmp_path / "sa.kubeconfig")
    processes = {
        replica: OperatorProcess(
            str(config), "http://127.0.0.1:9", "not-the-token", tmp_path / f"{replica}.log",
            settings={**OPERATOR_SETTINGS, "peering_lifetime": str(PEERING_LIFETIME)},
            extra_env={"LAKESERVE_PEERING": env["LAKESERVE_PEERING"], "POD_ID": replica,
                       "LAKESERVE_CREDENTIALS_SECRET": env["LAKESERVE_CREDENTIALS_SECRET"]},
            namespaces=deployment_namespaces(objects))
        for replica in REPLICAS}
    try:
        for process in processes.values():
            process.start()

        def peers() -> dict:
            body = json.loads(kubectl("get", "kopfpeering", peering, "-n", cluster.namespace,
                                      "-o", "json").stdout)
            return {k: v for k, v in (body.get("status") or {}).items() if v}

        found = poll(lambda: (lambda p: p if set(p) == set(REPLICAS) else None)(peers()),
                     timeout=30, message="both replicas' keep-alives in the KopfPeering")
        priorities = {replica: found[replica]["priority"] for replica in REPLICAS}
        assert len(set(priorities.values())) == 2, f"random priorities never tie: {priorities}"
        active = max(priorities, key=priorities.get)
        (standby,) = set(REPLICAS) - {active}
        poll(lambda: paused(processes[standby]), timeout=30, message="the standby to pause")
        yield Pair(cluster, processes, active, standby)
        assert not re.search(r"\b403\b|[Ff]orbidden", "".join(
            p.log_path.read_text() for p in processes.values()))
    finally:
        for process in processes.values():
            process.stop()
            print(f"\n{process.log_path}")


def test_one_replica_works_the_other_takes_over(pair, workspace, models, poll):
    cluster, processes = pair.cluster, pair.processes
    model = workspace.names.model(f"ha_{uuid.uuid4().hex[:6]}")
    models.register(model)
    name = workspace.names.endpoint(f"{cluster.namespace}-ep")
    cluster.apply(endpoint(name, model))
    cluster.wait("servingendpoint", name, timeout=60)
    assert name in processes[pair.active].log_path.read_text()
    assert name not in processes[pair.standby].log_path.read_text(), "the standby kept still"
    assert paused(processes[pair.standby]) and not paused(processes[pair.active])

    processes[pair.active].stop()  # SIGTERM: it leaves the peering on its way out
    poll(lambda: not paused(processes[pair.standby]), timeout=30,
         message="the standby to resume")
    cluster.delete("servingendpoint", name, timeout=60)
    assert re.search(rf"{re.escape(name)}.*(Deleted|deleted)",
                     processes[pair.standby].log_path.read_text())
    assert name not in {e.name for e in workspace.client.serving_endpoints.list()}


@pytest.mark.emulator_only("the call log shows each endpoint created once, by one replica")
def test_the_standby_takes_over_from_a_killed_leader(pair, workspace, models, figures, poll):
    """SIGKILL: no goodbye in the peering; the standby waits out the leader's keep-alive."""
    cluster, processes = pair.cluster, pair.processes
    model = f"main.e2e.ha_{uuid.uuid4().hex[:6]}"
    models.register(model)
    models.register(model)
    first, second = f"{cluster.namespace}-first", f"{cluster.namespace}-second"
    since = workspace.last_seq()
    cluster.apply(endpoint(first, model))
    cluster.wait("servingendpoint", first, timeout=60)
    processes[pair.active].kill()
    killed = time.monotonic()
    changed = endpoint(first, model)
    changed["spec"]["config"]["servedEntities"][0]["entityVersion"] = "2"
    cluster.apply(changed)
    cluster.apply(endpoint(second, model))
    cluster.wait("servingendpoint", second, timeout=PEERING_LIFETIME * 3 + 30)
    recovery = time.monotonic() - killed
    poll(lambda: workspace.client.serving_endpoints.get(first).config.served_entities[0]
         .entity_version == "2", timeout=60, message="the change made after the kill")
    calls = workspace.calls(since)["calls"]
    creates = [c for c in calls if c["method"] == "POST" and c["path"] ==
               "/api/2.0/serving-endpoints" and c["status"] == 200]
    assert sorted(c["body"]["name"] for c in creates) == sorted([first, second]), \
        "each endpoint created once, by one replica"
    puts = [c for c in calls if c["method"] == "PUT" and c["status"] == 200]
    assert len(puts) == 1
    for name in (first, second):
        cluster.delete("servingendpoint", name, timeout=60)
    left = {e.name for e in workspace.client.serving_endpoints.list()} & {first, second}
    assert left == set()
    figures.record("leader replica kill -9 (peering)", **{
        "end state": "Ready", "creates committed": 1, "duplicates": 0, "orphans": len(left),
        "writes": sum(1 for c in calls if c["method"] != "GET"), "calls": len(calls),
        "recovery s": recovery})
