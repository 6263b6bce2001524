"""MLflow tracking with ``set_tracking_uri("databricks")``: experiments by workspace path, runs,
metrics, params, MLflow 3 logged models, artifacts through the Files API."""

from __future__ import annotations

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from ..mlflow_env import against_workspace, log_tree

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

ARTIFACTS = "files/WorkspaceInternal/Mlflow/Artifacts"


@pytest.fixture
def experiment(emulator):
    with against_workspace(emulator.host, emulator.token) as path:
        yield mlflow.set_experiment(path)


def test_experiment_names_must_be_workspace_paths(emulator):
    with against_workspace(emulator.host, emulator.token):
        with pytest.raises(MlflowException, match="must be an absolute path within the "
                                                  "Databricks workspace") as caught:
            mlflow.set_experiment("churn")
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"


def test_there_is_no_default_experiment(emulator):
    with against_workspace(emulator.host, emulator.token):
        with pytest.raises(MlflowException) as caught:
            MlflowClient().create_run("0")
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_a_run_keeps_params_metrics_tags_and_artifacts(emulator, experiment, workspace):
    with mlflow.start_run(run_name="tree") as run:
        mlflow.log_param("max_depth", 3)
        mlflow.log_metrics({"accuracy": 0.9, "f1": 0.8})
        mlflow.set_tag("team", "churn")
        mlflow.log_dict({"features": ["tenure"]}, "meta/features.json")
    stored = MlflowClient().get_run(run.info.run_id)
    assert stored.data.params == {"max_depth": "3"}
    assert stored.data.metrics == {"accuracy": 0.9, "f1": 0.8}
    assert stored.data.tags["team"] == "churn"
    assert (stored.info.status, stored.info.user_id) == ("FINISHED", "emulator-user@lakeserve.dev")
    assert stored.info.artifact_uri == \
        f"dbfs:/databricks/mlflow-tracking/{experiment.experiment_id}/{run.info.run_id}/artifacts"
    on_disk = emulator.data_dir / ARTIFACTS / experiment.experiment_id / "Runs" / \
        run.info.run_id / "artifacts/meta/features.json"
    assert on_disk.read_text() == '{\n  "features": [\n    "tenure"\n  ]\n}'
    assert [a.path for a in MlflowClient().list_artifacts(run.info.run_id, "meta")] == \
        ["meta/features.json"]
    assert mlflow.artifacts.load_dict(f"runs:/{run.info.run_id}/meta/features.json") == \
        {"features": ["tenure"]}


def test_log_model_makes_a_logged_model_stored_where_databricks_keeps_them(emulator, experiment):
    _, info = log_tree(None)
    logged = mlflow.get_logged_model(info.model_id)
    assert logged.status.to_proto() == 2  # READY
    assert logged.artifact_location == (f"dbfs:/databricks/mlflow-tracking/"
                                        f"{experiment.experiment_id}/logged_models/"
                                        f"{info.model_id}/artifacts")
    on_disk = emulator.data_dir / ARTIFACTS / experiment.experiment_id / "LoggedModels" / \
        info.model_id / "artifacts/MLmodel"
    assert on_disk.is_file()
    assert mlflow.pyfunc.load_model(info.model_uri).metadata.signature is not None


def test_register_a_runs_uri_as_the_notebook_does(emulator, experiment, workspace):
    _, info = log_tree(None)
    version = mlflow.register_model(f"runs:/{info.run_id}/model", "main.churn.from_run")
    assert version.version == "1"
    assert workspace.model_versions.get("main.churn.from_run", 1).run_id == info.run_id
