"""Every manifest in examples/ applies cleanly, becomes Ready and then costs no write (docs that
are tested)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from databricks.sdk.errors import NotFound, ResourceAlreadyExists
from databricks.sdk.service.catalog import PrimaryKeyConstraint, TableConstraint
from databricks.sdk.service.database import DatabaseInstance

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240),
              pytest.mark.emulator_only("seeds the examples' tables; counts writes in the call "
                                         "log")]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def prerequisites(workspace, models):
    """What the examples expect to exist in the workspace: models, a feature table (a Delta
    table with a primary key), a database."""
    emulator = workspace.require_emulator()
    for alias in ("champion", "challenger", "online"):
        models.register("main.churn.ml_model", [alias])
    emulator.control("POST", "/_emulator/catalog/tables", {
        "name": "main.churn.features", "mode": "overwrite",
        "rows": [{"customerID": "0001-A", "tenure": 2.0, "TotalCharges": 150.0}]})
    try:
        workspace.client.table_constraints.create("main.churn.features", TableConstraint(
            primary_key_constraint=PrimaryKeyConstraint(name="features_pk",
                                                        child_columns=["customerID"])))
    except ResourceAlreadyExists:
        pass
    try:
        workspace.client.database.get_database_instance("churn-lakebase")
    except NotFound:
        workspace.client.database.create_database_instance(
            DatabaseInstance(name="churn-lakebase", capacity="CU_1"))


def test_all_examples_become_ready_and_cost_no_writes(cluster, workspace, prerequisites, poll):
    files = sorted(EXAMPLES.glob("*.yaml"))
    assert len(files) >= 4
    objects = []
    for path in files:
        manifest = yaml.safe_load(path.read_text())
        cluster.kubectl("apply", "-n", cluster.namespace, "-f", str(path))
        objects.append((manifest["kind"].lower(), manifest["metadata"]["name"]))
    for kind, name in objects:
        cluster.wait(kind, name, timeout=120)
    assert_zero_writes_over_three_drift_passes(cluster, workspace, objects, poll)
    for kind, name in reversed(objects):
        cluster.delete(kind, name)


# The Databricks object each example manifest manages, by the path a drift pass reads.
READ_PATHS = {
    ("featurefunction", "monthly-charges-avrg"):
        "/api/2.1/unity-catalog/functions/main.churn.monthly_charges_avrg",
    ("onlinetable", "features-online"): "/api/2.0/database/synced_tables/main.churn.features_online",
    ("servingendpoint", "churn-ab"): "/api/2.0/serving-endpoints/churn-ab",
    ("servingendpoint", "churn-online"): "/api/2.0/serving-endpoints/churn-online",
    ("featurespec", "churn-features"):
        "/api/2.0/feature-engineering/feature-specs/main.churn.churn_features",
    ("servingendpoint", "churn-features"): "/api/2.0/serving-endpoints/churn-features",
}


def assert_zero_writes_over_three_drift_passes(cluster, workspace, objects, poll):
    assert set(objects) == set(READ_PATHS), "READ_PATHS names every example"
    versions = {o: cluster.get(*o)["metadata"]["resourceVersion"] for o in objects}
    since = workspace.last_seq()
    poll(lambda: all(workspace.count(f"GET {path}", since) >= 3 for path in READ_PATHS.values()),
         timeout=60, message="three drift passes of every example")
    names = [path.rsplit("/", 1)[1] for path in READ_PATHS.values()]
    writes = [f"{c['method']} {c['path']}" for c in workspace.calls(since)["calls"]
              if c["method"] != "GET" and (any(n in c["path"] for n in names)
                                           or c["path"] == "/api/2.0/sql/statements")]
    assert writes == []
    assert {o: cluster.get(*o)["metadata"]["resourceVersion"] for o in objects} == versions, \
        "no status writes at steady state either"
