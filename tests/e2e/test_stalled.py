"""Bad input only the workspace can reveal stalls with the field named, and nothing is created.

Each file in <kind>/stalled/ is applied against a workspace holding a feature table with a
primary key (main.e2e_bad.features), a Delta table without one (main.e2e_bad.raw) and a Python
function (main.e2e_bad.monthly_charges_avrg); it says the Stalled reason and message it gets.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from databricks.sdk.errors import NotFound, ResourceAlreadyExists
from databricks.sdk.service.catalog import PrimaryKeyConstraint, TableConstraint

from lakeserve.api.featurefunction import FeatureFunctionSpec
from lakeserve.resources.featurefunction.client import create_request
from tests.reasons import saw

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90),
              pytest.mark.emulator_only("seeds the bad tables through /_emulator/; reads the "
                                         "call log")]

CASES = sorted(Path(__file__).parent.glob("*/stalled/*.yaml"))
ROWS = [{"customerID": "c1", "region": "eu", "tenure": 2.0, "TotalCharges": 100.0}]
CREATES = ("POST /api/2.0/feature-engineering/feature-specs", "POST /api/2.0/serving-endpoints")


def expected(path: Path, key: str) -> str:
    for line in path.read_text().splitlines():
        if line.startswith(f"# {key}: "):
            return line.removeprefix(f"# {key}: ")
    raise AssertionError(f"{path.name} says nothing about '{key}'")


@pytest.fixture(scope="module")
def bad_workspace(workspace):
    emulator = workspace.require_emulator()
    for name in ("main.e2e_bad.features", "main.e2e_bad.raw"):
        emulator.control("POST", "/_emulator/catalog/tables",
                         {"name": name, "mode": "overwrite", "rows": ROWS})
    try:
        workspace.client.table_constraints.create("main.e2e_bad.features", TableConstraint(
            primary_key_constraint=PrimaryKeyConstraint(name="pk", child_columns=["customerID"])))
    except ResourceAlreadyExists:
        pass
    function = FeatureFunctionSpec.model_validate({
        "catalog": "main", "schema": "e2e_bad", "name": "monthly_charges_avrg",
        "parameters": [{"name": "TotalCharges", "type": "DOUBLE"},
                       {"name": "tenure", "type": "DOUBLE"}],
        "returns": "DOUBLE", "body": "return TotalCharges / tenure"})
    try:
        workspace.client.functions.get(function.full_name)
    except NotFound:
        workspace.client.functions.create(function_info=create_request(function))
    return workspace


def test_there_is_a_case_per_bad_input_of_feature_serving():
    assert len(CASES) >= 7


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.parent.name}/{p.stem}" for p in CASES])
def test_stalls_naming_the_field_without_creating_anything(path, cluster, bad_workspace):
    manifest = yaml.safe_load(path.read_text())
    since = bad_workspace.last_seq()
    cluster.apply(manifest)
    body = cluster.wait(manifest["kind"].lower(), manifest["metadata"]["name"],
                        condition="Stalled", timeout=60)
    stalled = next(c for c in body["status"]["conditions"] if c["type"] == "Stalled")
    assert stalled["reason"] == expected(path, "expect-reason")
    assert expected(path, "expect") in stalled["message"]
    saw(stalled["reason"])
    assert [bad_workspace.count(create, since) for create in CREATES] == [0, 0]
