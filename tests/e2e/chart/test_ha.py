"""ha.enabled: two replicas as active/standby through kopf peering, with the chart's RBAC.

Both run with the chart's ServiceAccount token, its LAKESERVE_PEERING and a POD_ID each (as the
downward API gives them). One pauses in favour of the other; the active one does the work; when
it stops, the standby resumes and finishes the job.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest

from lakeserve.operator_process import OperatorProcess
from tests.e2e.chart.conftest import (
    container_env,
    deployment_namespaces,
    find,
    manifest_text,
    service_account_kubeconfig,
)
from tests.e2e.conftest import OPERATOR_SETTINGS

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(150)]

PREFIX = "ha-"
REPLICAS = ("replica-a", "replica-b")


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


def test_one_replica_works_the_other_takes_over(helm, kubectl, kubeconfig, workspace, crds,
                                                namespaces, release_namespace, models,
                                                cluster_scoped_cleanup, tmp_path, poll):
    workspace.require_emulator()
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
            settings=OPERATOR_SETTINGS,
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

        model = f"main.e2e.ha_{uuid.uuid4().hex[:6]}"
        models.register(model)
        name = f"{cluster.namespace}-ep"
        cluster.apply(endpoint(name, model))
        cluster.wait("servingendpoint", name, timeout=60)
        assert name in processes[active].log_path.read_text()
        assert name not in processes[standby].log_path.read_text(), "the standby kept still"
        assert paused(processes[standby]) and not paused(processes[active])

        processes[active].stop()  # SIGTERM: it leaves the peering on its way out
        poll(lambda: not paused(processes[standby]), timeout=30, message="the standby to resume")
        cluster.delete("servingendpoint", name, timeout=60)
        assert re.search(rf"{re.escape(name)}.*(Deleted|deleted)",
                         processes[standby].log_path.read_text())
        assert name not in {e.name for e in workspace.client.serving_endpoints.list()}
        assert not re.search(r"\b403\b|[Ff]orbidden", "".join(
            p.log_path.read_text() for p in processes.values()))
    finally:
        for process in processes.values():
            process.stop()
            print(f"\n{process.log_path}")
