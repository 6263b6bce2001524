"""Every manifest in examples/ applies cleanly and becomes Ready (docs that are tested)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from databricks.sdk.errors import NotFound, ResourceAlreadyExists
from databricks.sdk.service.catalog import PrimaryKeyConstraint, TableConstraint
from databricks.sdk.service.database import DatabaseInstance

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

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


def test_all_examples_become_ready(cluster, prerequisites):
    files = sorted(EXAMPLES.glob("*.yaml"))
    assert len(files) >= 4
    objects = []
    for path in files:
        manifest = yaml.safe_load(path.read_text())
        cluster.kubectl("apply", "-n", cluster.namespace, "-f", str(path))
        objects.append((manifest["kind"].lower(), manifest["metadata"]["name"]))
    for kind, name in objects:
        cluster.wait(kind, name, timeout=120)
    for kind, name in reversed(objects):
        cluster.delete(kind, name)
