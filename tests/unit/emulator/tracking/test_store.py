"""Databricks' rules on top of MLflow's SQL tracking store."""

from __future__ import annotations

import pytest

from lakeserve.emulator.errors import ApiError
from lakeserve.emulator.tracking.store import Tracking, model_proto


@pytest.fixture(scope="module")
def tracking(tmp_path_factory) -> Tracking:
    return Tracking(f"sqlite:///{tmp_path_factory.mktemp('tracking') / 'mlflow.db'}")


@pytest.mark.parametrize("name", ["churn", "Users/me/churn", ""])
def test_experiment_names_are_absolute_workspace_paths(tracking, name):
    with pytest.raises(ApiError, match="must be an absolute path") as caught:
        tracking.create_experiment(name, [])
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"


def test_experiments_store_artifacts_under_the_databricks_tracking_root(tracking):
    experiment_id = tracking.create_experiment("/Shared/churn", [])
    experiment = tracking.experiment_by_name("/Shared/churn")
    assert experiment.experiment_id == experiment_id
    assert experiment.artifact_location == f"dbfs:/databricks/mlflow-tracking/{experiment_id}"


def test_the_local_default_experiment_does_not_exist_here(tracking):
    for lookup in (lambda: tracking.experiment("0"), lambda: tracking.check_run_experiment(""),
                   lambda: tracking.experiment_by_name("Default")):
        with pytest.raises(ApiError) as caught:
            lookup()
        assert caught.value.status == 404


def test_logged_models_are_stored_under_logged_models(tracking):
    experiment_id = tracking.create_experiment("/Shared/models", [])
    model = tracking.store.create_logged_model(experiment_id, name="model")
    assert model_proto(model).info.artifact_uri == (
        f"dbfs:/databricks/mlflow-tracking/{experiment_id}/logged_models/{model.model_id}"
        "/artifacts")
