"""The notebook's MLflow code, run unchanged against the workspace (only DATABRICKS_HOST and
DATABRICKS_TOKEN set), registers the version the operator's endpoint then serves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

from ..conftest import REPO, answers

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

SCRIPT = REPO / "examples" / "notebook_mlflow.py"


def run_notebook_code(workspace, model: str, cwd) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABRICKS_", "MLFLOW_"))}
    env.update(DATABRICKS_HOST=workspace.host, DATABRICKS_TOKEN=workspace.token)
    result = subprocess.run([sys.executable, str(SCRIPT), model], env=env, cwd=cwd,
                            capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def champion_endpoint(name: str, model: str) -> dict:
    return {"apiVersion": "lakeserve.dev/v1alpha1", "kind": "ServingEndpoint",
            "metadata": {"name": name},
            "spec": {"config": {"servedEntities": [
                {"name": "champion", "entityName": model, "entityAlias": "champion",
                 "workloadSize": "Small", "scaleToZeroEnabled": True}]}}}


@pytest.mark.parametrize("artifacts", answers("mlflow_uc_artifacts"))
def test_the_endpoint_serves_the_version_the_notebook_code_registered(cluster, workspace,
                                                                      workspace_settings,
                                                                      tmp_path, artifacts):
    workspace_settings(mlflow_uc_artifacts=artifacts)
    model = workspace.names.model(f"notebook_{uuid.uuid4().hex[:6]}")
    since = workspace.last_seq() if workspace.emulator else 0
    printed = run_notebook_code(workspace, model, tmp_path)
    assert printed["version"] == "1"

    name = workspace.names.endpoint(f"notebook-{uuid.uuid4().hex[:6]}")
    cluster.apply(champion_endpoint(name, model))
    body = cluster.wait("servingendpoint", name, timeout=120)
    (served,) = body["status"]["servedEntities"]
    assert (served["entityAlias"], served["entityVersion"]) == ("champion", printed["version"])

    answer = workspace.client.serving_endpoints.query(name=name,
                                                      dataframe_records=printed["records"])
    assert [str(p) for p in answer.predictions] == printed["predictions"]
    if workspace.emulator:  # the code went through Databricks' APIs, not a back door
        assert workspace.count("POST /api/2.0/mlflow/unity-catalog/model-versions/finalize",
                               since) == 1
        assert workspace.count("POST /api/2.0/mlflow/runs/create", since) == 1
    cluster.delete("servingendpoint", name)
