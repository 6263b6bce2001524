"""The dev cluster is a real control plane: API, RBAC, controllers, and a clean start/stop."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lakeserve.devcluster import KUBERNETES_VERSION, DevCluster

# func_only: the session cluster's start (and a first build) is not charged to the first test.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120, func_only=True)]


def eventually(condition: Callable[[], bool], timeout: float = 60, interval: float = 0.25) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass; whether it held."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
    return True


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _not_found(result: subprocess.CompletedProcess[str]) -> bool:
    return result.returncode != 0 and "NotFound" in result.stderr


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _pid_alive_and_not_zombie(pid: int) -> bool:
    """For processes another process started: once exited they wait for init to reap them."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


@pytest.fixture
def namespace(kubectl) -> Iterator[str]:
    name = _unique("e2e-devcluster")
    kubectl("create", "namespace", name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)


def test_lists_namespaces(kubectl):
    names = set(kubectl("get", "namespaces", "-o", "name").stdout.split())
    assert {"namespace/default", "namespace/kube-system"} <= names


def test_server_reports_the_pinned_version(kubectl):
    version = json.loads(kubectl("version", "-o", "json").stdout)
    assert version["serverVersion"]["gitVersion"] == KUBERNETES_VERSION


def test_rbac_refuses_a_service_account_until_a_role_binding_grants_it(kubectl, namespace):
    kubectl("create", "serviceaccount", "reader", "-n", namespace)
    token = kubectl("create", "token", "reader", "-n", namespace, "--duration=10m").stdout.strip()

    def list_secrets_as_reader() -> subprocess.CompletedProcess[str]:
        return kubectl("get", "secrets", "-n", namespace, f"--token={token}", check=False)

    refused = list_secrets_as_reader()
    assert refused.returncode != 0
    # Authenticated as the ServiceAccount, and refused by authorization:
    assert f"system:serviceaccount:{namespace}:reader" in refused.stderr
    assert "forbidden" in refused.stderr.lower()

    kubectl("create", "role", "secret-reader", "--verb=list", "--resource=secrets", "-n", namespace)
    kubectl("create", "rolebinding", "reader-lists-secrets", "--role=secret-reader",
            f"--serviceaccount={namespace}:reader", "-n", namespace)
    assert eventually(lambda: list_secrets_as_reader().returncode == 0, timeout=30), \
        list_secrets_as_reader().stderr


def test_a_deleted_namespace_finishes_deleting(kubectl):
    # Emptying the namespace and removing its finalizer is the controller manager's work.
    name = _unique("e2e-devcluster-deleted")
    kubectl("create", "namespace", name)
    kubectl("create", "configmap", "content", "-n", name, "--from-literal=key=value")
    kubectl("delete", "namespace", name, "--wait=false")
    gone = eventually(lambda: _not_found(kubectl("get", "namespace", name, check=False)),
                      timeout=90)
    assert gone, kubectl("get", "namespace", name, "-o", "yaml", check=False).stdout


def test_owner_references_are_garbage_collected(kubectl, namespace):
    kubectl("create", "configmap", "owner", "-n", namespace)
    owner_uid = kubectl("get", "configmap", "owner", "-n", namespace,
                        "-o", "jsonpath={.metadata.uid}").stdout
    dependent = {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "dependent", "namespace": namespace, "ownerReferences": [
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner_uid}]},
    }
    kubectl("create", "-f", "-", input=json.dumps(dependent))
    kubectl("delete", "configmap", "owner", "-n", namespace, "--cascade=background")

    def dependent_gone() -> bool:
        return _not_found(kubectl("get", "configmap", "dependent", "-n", namespace, check=False))

    assert eventually(dependent_gone, timeout=60)


@pytest.mark.timeout(240, func_only=True)
def test_a_separate_cluster_starts_and_stops_cleanly(tmp_path, kubectl_for):
    cluster = DevCluster(tmp_path / "cluster")
    kubeconfig = cluster.up()
    try:
        pids = [process.pid for process in cluster.processes()]
        assert [process.name for process in cluster.processes()] == [
            "etcd", "kube-apiserver", "kube-controller-manager"]
        assert all(_pid_alive(pid) for pid in pids)
        assert cluster.running()
        assert kubectl_for(str(kubeconfig))("get", "namespace", "default", "-o", "name") \
            .stdout.strip() == "namespace/default"
        assert cluster.up() == kubeconfig, "up on a running cluster is a no-op"
        assert [process.pid for process in cluster.processes()] == pids
    finally:
        cluster.down()
    assert not [pid for pid in pids if _pid_alive(pid)], "processes left after down"
    assert not cluster.running()
    assert not (cluster.directory / "state.json").exists()
    assert "etcd" in (cluster.logs / "etcd.log").read_text(), "logs are kept"


@pytest.mark.timeout(240, func_only=True)
def test_the_command_line_starts_a_detached_cluster_and_stops_it(tmp_path, kubectl_for):
    directory = tmp_path / "cli-cluster"

    def lakeserve(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "lakeserve.cli", "dev-cluster", *args,
                               "--dir", str(directory)], capture_output=True, text=True,
                              timeout=200)

    pids: list[int] = []
    started = lakeserve("up")
    try:
        assert started.returncode == 0, started.stderr
        assert f"export KUBECONFIG={directory / 'kubeconfig'}" in started.stdout
        # The starting process has exited; the cluster runs on without it.
        assert lakeserve("status").returncode == 0
        assert kubectl_for(str(directory / "kubeconfig"))("get", "namespaces").returncode == 0
        pids += [process.pid for process in DevCluster(directory).processes()]
        assert len(pids) == 3
        server = DevCluster(directory).status().server
        restarted = lakeserve("restart")
        assert restarted.returncode == 0, restarted.stderr
        after = DevCluster(directory)
        assert after.status().server == server, "same port: clients keep their kubeconfig"
        apiserver = [p.pid for p in after.processes() if p.name == "kube-apiserver"]
        assert apiserver and apiserver[0] not in pids, "a new kube-apiserver process"
        pids += apiserver
        kubectl = kubectl_for(str(directory / "kubeconfig"))
        assert kubectl("get", "namespaces").returncode == 0
        marker = f"audited-{uuid.uuid4().hex[:8]}"
        kubectl("get", "secret", marker, "-n", "default", check=False)  # a 404 is audited too
        assert eventually(lambda: marker in after.audit_log.read_text(), timeout=10), \
            "the restarted kube-apiserver still audits who reads Secrets"
    finally:
        stopped = lakeserve("down")
    assert stopped.returncode == 0, stopped.stderr
    assert not [pid for pid in pids if _pid_alive_and_not_zombie(pid)]
    status = lakeserve("status")
    assert status.returncode == 1 and "not running" in status.stdout
