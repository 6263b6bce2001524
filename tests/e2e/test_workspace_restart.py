"""Fault: the local workspace restarts (with --data-dir) under an operator that has Ready objects
of every kind and one endpoint mid-update, first cleanly and then by a crash. The workspace comes
back as it was (the update still in flight), everything converges again with no write at all (no
duplicate create, no repeated update, no delete) and a bounded number of reads, and the objects
are still the operator's to delete afterwards.

The workspace and the operator are this module's own, so the restart disturbs no other test.
"""

from __future__ import annotations

import math
import time
import uuid
from collections import Counter

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.service.catalog import PrimaryKeyConstraint, TableConstraint
from databricks.sdk.service.database import DatabaseInstance
from databricks.sdk.service.serving import EndpointStateConfigUpdate

from lakeserve.emulator.process import EmulatorProcess
from lakeserve.operator_process import OperatorProcess

from .conftest import EMULATOR_SETTINGS, OPERATOR_SETTINGS, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420),
              pytest.mark.emulator_only("restarts and crashes a local workspace")]

PREFIX = "restart-"
INSTANCE = "restart-lakebase"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
UPDATE_SECONDS = 30  # long enough for a restart to happen while the update is in flight, even
# under the full suite's load (15 s once ran out before a crash-restarted workspace answered)
CONVERGE_INTERVAL = float(OPERATOR_SETTINGS["converge_interval"])  # the fastest requeue
DRIFT_INTERVAL = float(OPERATOR_SETTINGS["drift_interval"])  # how often a Ready object is read


@pytest.fixture(scope="module")
def emulator(tmp_path_factory) -> EmulatorProcess:
    with EmulatorProcess(data_dir=tmp_path_factory.mktemp("workspace"),
                         settings=EMULATOR_SETTINGS) as process:
        yield process


@pytest.fixture(scope="module")
def restart_operator(kubeconfig, crds, emulator, tmp_path_factory) -> OperatorProcess:
    log = tmp_path_factory.mktemp("restart-operator") / "operator.log"
    with OperatorProcess(kubeconfig, emulator.host, emulator.token, log,
                         settings=OPERATOR_SETTINGS, namespaces=[f"{PREFIX}*"]) as process:
        yield process


def endpoint(name: str, model: str, version: int) -> dict:
    return {"apiVersion": "lakeserve.dev/v1alpha1", "kind": "ServingEndpoint",
            "metadata": {"name": name},
            "spec": {"name": name, "config": {"servedEntities": [
                {"entityName": model, "entityVersion": str(version),
                 "workloadSize": "Small"}]}}}


def online_table(source: str) -> dict:
    return {"apiVersion": "lakeserve.dev/v1alpha1", "kind": "OnlineTable",
            "metadata": {"name": "features"},
            "spec": {"name": f"{source}_online", "sourceTableFullName": source,
                     "primaryKeyColumns": ["customerID"], "syncMode": "Triggered",
                     "databaseInstanceName": INSTANCE,
                     "logicalDatabaseName": "databricks_postgres"}}


def feature_function(name: str) -> dict:
    return {"apiVersion": "lakeserve.dev/v1alpha1", "kind": "FeatureFunction",
            "metadata": {"name": "avg"},
            "spec": {"catalog": "main", "schema": "default", "name": name,
                     "parameters": [{"name": "TotalCharges", "type": "DOUBLE"},
                                    {"name": "tenure", "type": "DOUBLE"}],
                     "returns": "DOUBLE", "body": "return TotalCharges / tenure\n",
                     "warehouseId": "emulator-warehouse"}}


def feature_spec(name: str, source: str) -> dict:
    return {"apiVersion": "lakeserve.dev/v1alpha1", "kind": "FeatureSpec",
            "metadata": {"name": "features"},
            "spec": {"name": name, "dependsOn": [{"kind": "OnlineTable", "name": "features"}],
                     "features": [
                         {"featureLookup": {"table": source, "lookupKeys": ["customerID"]}},
                         {"featureFunction": {"udfRef": {"name": "avg"}, "output": "ratio",
                                              "inputBindings": [
                                                  {"parameter": "TotalCharges",
                                                   "boundFeature": "tenure"},
                                                  {"parameter": "tenure",
                                                   "boundFeature": "tenure"}]}}]}}


def feature_endpoint(name: str, spec_name: str) -> dict:
    return {"apiVersion": "lakeserve.dev/v1alpha1", "kind": "ServingEndpoint",
            "metadata": {"name": name},
            "spec": {"name": name, "dependsOn": [{"kind": "FeatureSpec", "name": "features"}],
                     "config": {"servedEntities": [{"entityName": spec_name,
                                                    "workloadSize": "Small"}]}}}


class Objects:
    """One object of every kind in one namespace (and a feature serving endpoint), and what
    they are in the workspace."""

    def __init__(self, cluster, emulator: EmulatorProcess, client: WorkspaceClient):
        self.cluster, self.emulator, self.client = cluster, emulator, client
        suffix = uuid.uuid4().hex[:6]
        self.model = f"main.e2e.restart_{suffix}"
        self.source = f"main.e2e.restart_src_{suffix}"
        self.function = f"restart_avg_{suffix}"
        self.spec = f"main.default.restart_spec_{suffix}"
        self.serving = f"{cluster.namespace}-serving"
        self.updating = f"{cluster.namespace}-updating"
        self.features = f"{cluster.namespace}-features"
        self.kinds = {("servingendpoint", self.serving), ("servingendpoint", self.updating),
                      ("onlinetable", "features"), ("featurefunction", "avg"),
                      ("featurespec", "features"), ("servingendpoint", self.features)}

    def create_all(self) -> None:
        for _ in range(3):
            self.emulator.control("POST", "/_emulator/registry/model-versions",
                                  {"name": self.model})
        self.emulator.control("POST", "/_emulator/catalog/tables", {
            "name": self.source, "mode": "overwrite",
            "rows": [{"customerID": f"c{i}", "tenure": float(i + 1)} for i in range(3)]})
        self.client.table_constraints.create(self.source, TableConstraint(
            primary_key_constraint=PrimaryKeyConstraint(name="pk", child_columns=["customerID"])))
        self.client.database.create_database_instance(DatabaseInstance(name=INSTANCE,
                                                                       capacity="CU_1"))
        for manifest in (endpoint(self.serving, self.model, 1),
                         endpoint(self.updating, self.model, 1),
                         online_table(self.source), feature_function(self.function),
                         feature_spec(self.spec, self.source),
                         feature_endpoint(self.features, self.spec)):
            self.cluster.apply(manifest)
        self.wait_all_ready()

    def wait_all_ready(self) -> dict[tuple[str, str], dict]:
        return {(kind, name): self.cluster.wait(kind, name, timeout=120)
                for kind, name in sorted(self.kinds)}

    def start_update(self, version: int) -> None:
        """Leave the second endpoint with a config update in flight in the workspace."""
        self.cluster.apply(endpoint(self.updating, self.model, version))
        wait_for(lambda: self.client.serving_endpoints.get(self.updating).state.config_update
                 == EndpointStateConfigUpdate.IN_PROGRESS, timeout=30,
                 message="the update to be in flight")

    def assert_as_before_the_restart(self, version: int) -> None:
        """Right after the restart, before the operator has done anything."""
        serving = self.client.serving_endpoints.get(self.serving)
        assert (serving.state.ready.value, serving.state.config_update.value) == (
            "READY", "NOT_UPDATING")
        updating = self.client.serving_endpoints.get(self.updating)
        assert updating.state.config_update == EndpointStateConfigUpdate.IN_PROGRESS
        assert updating.pending_config.served_entities[0].entity_version == str(version)
        table = self.client.database.get_synced_database_table(f"{self.source}_online")
        assert table.data_synchronization_status.detailed_state.value == \
            "SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE"
        assert self.client.functions.get(f"main.default.{self.function}").name == self.function
        assert self.client.feature_engineering.get_feature_spec(self.spec).name == self.spec
        answer = self.client.serving_endpoints.query(self.features, dataframe_records=[
            {"customerID": "c1"}])
        assert answer.outputs == [{"customerID": "c1", "tenure": 2.0, "ratio": 1.0}]

    def served_version(self) -> str:
        body = self.cluster.get("servingendpoint", self.updating)
        return body["status"]["servedEntities"][0]["entityVersion"]

    def in_workspace(self) -> dict[str, set[str]]:
        namespace = self.cluster.namespace
        return {
            "endpoints": {e.name for e in self.client.serving_endpoints.list()
                          if e.name.startswith(namespace)},
            "synced_tables": {t.name for t in self.client.database.list_synced_database_tables(
                INSTANCE)},
            "functions": {f.name for f in self.client.functions.list("main", "default")
                          if f.name.startswith(("restart_avg_", "restart_spec_"))},
        }


def restart_and_converge(objects: Objects, emulator: EmulatorProcess, *, crash: bool,
                         version: int) -> tuple[list[dict], float]:
    """Restart the workspace with an update in flight; returns the calls from just before the
    restart until everything is Ready again with the new version served, and how long that
    took."""
    objects.wait_all_ready()
    objects.start_update(version)
    started = time.monotonic()
    emulator.restart(crash=crash)
    objects.assert_as_before_the_restart(version)
    wait_for(lambda: objects.served_version() == str(version), timeout=UPDATE_SECONDS + 60,
             message=f"version {version} to be served after the restart")
    objects.wait_all_ready()
    # the call log's entries are in memory: it holds exactly the calls since the restart
    calls = emulator.control("GET", "/_emulator/calls")["calls"]
    return calls, time.monotonic() - started


def assert_converged_quietly(calls: list[dict], elapsed: float, updating_path: str) -> None:
    writes = [(c["method"], c["path"]) for c in calls if c["method"] in WRITE_METHODS
              and not c["path"].endswith("/invocations")]  # this test's own query
    assert writes == [], "no create, update or delete was sent again"
    reads = Counter(c["path"] for c in calls if c["method"] == "GET")
    assert len(reads) == 6, reads
    # The endpoint mid-update is read at most every converge interval; Ready objects on their
    # drift schedule, plus one retry after the outage and this test's own read.
    converging = reads.pop(updating_path)
    assert converging <= math.ceil(elapsed / CONVERGE_INTERVAL) + 2, (converging, elapsed)
    bound = math.ceil(elapsed / DRIFT_INTERVAL) + 3
    assert max(reads.values()) <= bound, (reads, elapsed)


def test_objects_converge_without_writes_across_a_restart_and_a_crash(
        restart_operator, namespaces, emulator):
    client = WorkspaceClient(host=emulator.host, token=emulator.token, auth_type="pat")
    objects = Objects(namespaces(PREFIX), emulator, client)
    objects.create_all()
    expected = objects.in_workspace()
    emulator.control("PUT", "/_emulator/settings", {"serving_update_seconds": UPDATE_SECONDS})

    for crash, version in ((False, 2), (True, 3)):
        calls, elapsed = restart_and_converge(objects, emulator, crash=crash, version=version)
        assert_converged_quietly(calls, elapsed,
                                 f"/api/2.0/serving-endpoints/{objects.updating}")
        assert objects.in_workspace() == expected, "no object lost and no orphan made"

    for kind, name in sorted(objects.kinds):  # still ours: the operator deletes them
        objects.cluster.delete(kind, name, timeout=90)
    assert objects.in_workspace() == {"endpoints": set(), "synced_tables": set(),
                                      "functions": set()}
