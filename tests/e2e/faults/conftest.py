"""The fault matrix's own operator (short HTTP timeouts, one it may kill) and its bookkeeping.

Each scenario counts on the emulator's call log what one object cost: creates that committed
(more than one would be a duplicate), writes, calls, and, after the object is deleted, what
is left in Databricks (an orphan).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from lakeserve.operator_process import OperatorProcess
from tests.e2e.conftest import OPERATOR_SETTINGS, Cluster, Figures

PREFIX = "flt-"
# Requests slower than this time out in the operator (the SDK's budget is smaller still).
HTTP_TIMEOUT = 3
SETTINGS = {**OPERATOR_SETTINGS, "http_timeout": str(HTTP_TIMEOUT), "retry_timeout": "2"}


class RestartableOperator:
    """The operator under fault: start, SIGKILL, start again on the same log."""

    def __init__(self, kubeconfig: str, host: str, token: str, log, extra_env=None):
        self.process = OperatorProcess(kubeconfig, host, token, log, settings=SETTINGS,
                                       extra_env=extra_env, namespaces=[f"{PREFIX}*"])

    def kill_and_restart(self) -> None:
        self.process.kill()
        self.process.start()


@pytest.fixture(scope="module")
def fault_operator(kubeconfig, workspace, crds, tmp_path_factory) -> Iterator[RestartableOperator]:
    workspace.require_emulator()
    log = tmp_path_factory.mktemp("fault-operator") / "operator.log"
    operator = RestartableOperator(kubeconfig, workspace.host, workspace.token, log)
    operator.process.start()
    try:
        yield operator
    finally:
        operator.process.stop()
        print(f"\nfault operator log: {log}")


@pytest.fixture
def faulty(namespaces, fault_operator) -> Cluster:
    """A namespace watched by the fault operator."""
    return namespaces(PREFIX)


class Faults:
    """Inject emulator faults; every fault is cleared after the test."""

    def __init__(self, workspace):
        self.workspace = workspace
        self.emulator = workspace.require_emulator()

    def add(self, method: str, path: str, **fault) -> dict:
        return self.emulator.control("POST", "/_emulator/faults",
                                     {"method": method, "path": path, **fault})

    def pending(self) -> list[dict]:
        return self.emulator.control("GET", "/_emulator/faults")["faults"]

    def taken(self, fault: dict) -> bool:
        """Whether a one-shot fault has hit its request (it leaves the list)."""
        return all(f["id"] != fault["id"] for f in self.pending())

    def clear(self) -> None:
        self.emulator.control("DELETE", "/_emulator/faults")


@pytest.fixture
def faults(workspace) -> Iterator[Faults]:
    injected = Faults(workspace)
    try:
        yield injected
    finally:
        injected.clear()


@pytest.fixture
def model(models) -> str:
    name = f"main.e2e.fault_{uuid.uuid4().hex[:6]}"
    models.register(name)
    models.register(name)
    return name


class EndpointScenario:
    """One ServingEndpoint under a fault, and what it cost on the call log."""

    CREATE = "/api/2.0/serving-endpoints"

    def __init__(self, cluster: Cluster, workspace, model: str, poll: Callable):
        self.cluster, self.workspace, self.model, self.poll = cluster, workspace, model, poll
        self.name = f"{cluster.namespace}-ep"
        self.since = workspace.last_seq()
        self.started = time.monotonic()

    def manifest(self, version: int = 1) -> dict:
        return {"apiVersion": "lakeserve.dev/v1alpha1", "kind": "ServingEndpoint",
                "metadata": {"name": "ep"},
                "spec": {"name": self.name, "config": {"servedEntities": [
                    {"name": "main", "entityName": self.model, "entityVersion": str(version),
                     "workloadSize": "Small"}]}}}

    def apply(self, version: int = 1) -> None:
        self.cluster.apply(self.manifest(version))

    def ready(self, timeout: int = 90) -> dict:
        return self.cluster.wait("servingendpoint", "ep", timeout=timeout)

    def calls(self) -> list[dict]:
        return [c for c in self.workspace.calls(self.since)["calls"]
                if f"/serving-endpoints/{self.name}" in c["path"] or (
                    c["path"] == self.CREATE and (c.get("body") or {}).get("name") == self.name)]

    def creates(self) -> list[dict]:
        return [c for c in self.calls() if c["method"] == "POST" and c["path"] == self.CREATE]

    def committed_creates(self) -> int:
        return len(committed(self.creates()))

    def committed_writes(self, method: str) -> list[dict]:
        return committed(c for c in self.writes() if c["method"] == method)

    def writes(self) -> list[dict]:
        return [c for c in self.calls() if c["method"] != "GET"]

    def served_version(self) -> str:
        config = self.workspace.client.serving_endpoints.get(self.name).config
        return config.served_entities[0].entity_version

    def finish(self, figures: Figures, fault: str, end_state: str = "Ready") -> None:
        """Delete the object, check nothing is left behind, and record the figures."""
        recovery = time.monotonic() - self.started
        committed = self.committed_creates()
        self.cluster.delete("servingendpoint", "ep", timeout=60)  # with its finalizer
        left = [e.name for e in self.workspace.client.serving_endpoints.list()
                if e.name == self.name]
        assert committed == 1, f"{committed} creates committed: a duplicate"
        assert left == [], "the endpoint outlived its object: an orphan"
        figures.record(fault, **{"end state": end_state, "creates committed": committed,
                                 "duplicates": committed - 1, "orphans": len(left),
                                 "writes": len(self.writes()), "calls": len(self.calls()),
                                 "recovery s": recovery})


def committed(calls) -> list[dict]:
    """Calls the workspace carried out: answered 200, or answered late or never (a fault held
    or replaced the answer after the work was done)."""
    return [c for c in calls if c["status"] == 200 or c.get("fault") in ("after_commit", "delay")]


@pytest.fixture
def scenario(faulty, workspace, model, poll) -> EndpointScenario:
    return EndpointScenario(faulty, workspace, model, poll)
