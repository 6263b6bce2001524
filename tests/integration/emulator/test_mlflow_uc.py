"""MLflow's databricks-uc registry client against the local workspace: registration through the
MLflow UC protocol and the Files area, the same versions and aliases over the SDK's UC paths."""

from __future__ import annotations

import httpx
import mlflow
import pytest
from databricks.sdk.service.catalog import ModelVersionInfoStatus
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from ..mlflow_env import against_workspace, churn_frame, log_tree

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

MODEL = "main.churn.ml_model"
UC = "/api/2.0/mlflow/unity-catalog"


@pytest.fixture
def mlflow_uc(emulator):
    with against_workspace(emulator.host, emulator.token) as experiment:
        mlflow.set_experiment(experiment)
        yield


def rest(emulator, method: str, path: str, **kwargs) -> httpx.Response:
    return httpx.request(method, emulator.host + path, timeout=10,
                         headers={"Authorization": f"Bearer {emulator.token}"}, **kwargs)


@pytest.mark.parametrize("mode, upload_path", [
    ("files_api", "/api/2.0/fs/files/Models/main/churn/ml_model/1/MLmodel"),
    ("presigned_urls", "/presigned/files/Models/main/churn/ml_model/1/MLmodel"),
])
def test_log_model_registers_a_ready_version_the_sdk_sees(emulator, workspace, calls, mode,
                                                          upload_path):
    emulator.control("PUT", "/_emulator/settings", {"mlflow_uc_artifacts": mode})
    with against_workspace(emulator.host, emulator.token) as experiment:
        mlflow.set_experiment(experiment)
        _, info = log_tree(MODEL)
        MlflowClient().set_registered_model_alias(MODEL, "champion", info.registered_model_version)

    version = workspace.model_versions.get_by_alias(MODEL, "champion")
    assert (version.version, version.status) == (1, ModelVersionInfoStatus.READY)
    assert version.source == f"models:/{info.model_id}"
    stored = emulator.data_dir / "files/Models/main/churn/ml_model/1"
    assert version.storage_location == stored.as_uri()
    assert (stored / "MLmodel").is_file()
    assert calls.statuses("PUT", upload_path) == [200 if mode == "presigned_urls" else 204]


def test_a_version_loads_by_alias_and_predicts_like_the_trained_model(emulator, mlflow_uc):
    model, info = log_tree(MODEL)
    MlflowClient().set_registered_model_alias(MODEL, "champion", info.registered_model_version)
    loaded = mlflow.pyfunc.load_model(f"models:/{MODEL}@champion")
    X, _ = churn_frame()
    assert list(loaded.predict(X)) == list(model.predict(X))


def test_aliases_set_over_the_sdk_are_what_mlflow_resolves_and_back(emulator, mlflow_uc,
                                                                      workspace):
    log_tree(MODEL)
    log_tree(MODEL)
    workspace.registered_models.set_alias(MODEL, "challenger", 2)
    assert MlflowClient().get_model_version_by_alias(MODEL, "challenger").version == "2"
    MlflowClient().set_registered_model_alias(MODEL, "challenger", "1")
    assert workspace.model_versions.get_by_alias(MODEL, "challenger").version == 1
    found = MlflowClient().search_model_versions(f"name='{MODEL}'")
    assert sorted(v.version for v in found) == ["1", "2"]


def test_a_model_without_signature_is_refused_before_a_version_exists(emulator, mlflow_uc,
                                                                        workspace, calls):
    with pytest.raises(MlflowException, match="did not contain any signature metadata"):
        log_tree(MODEL, signature=False)
    assert calls.statuses("POST", UC + "/model-versions/create") == []
    assert list(workspace.model_versions.list(MODEL)) == []


def test_finalize_refuses_files_without_a_signature(emulator, workspace):
    rest(emulator, "POST", UC + "/registered-models/create", json={"name": MODEL})
    created = rest(emulator, "POST", UC + "/model-versions/create",
                   json={"name": MODEL, "source": "dbfs:/somewhere"}).json()["model_version"]
    assert created["status"] == "PENDING_REGISTRATION"
    workspace.files.upload("/Models/main/churn/ml_model/1/MLmodel",
                           __import__("io").BytesIO(b"flavors: {}\n"), overwrite=True)
    answer = rest(emulator, "POST", UC + "/model-versions/finalize",
                  json={"name": MODEL, "version": "1"})
    assert answer.status_code == 400
    assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "did not contain any signature metadata" in answer.json()["message"]
    info = workspace.model_versions.get(MODEL, 1)
    assert info.status == ModelVersionInfoStatus.FAILED_REGISTRATION


def test_a_pending_version_cannot_be_served_and_a_ready_ones_files_are_read_only(emulator,
                                                                                 workspace):
    rest(emulator, "POST", UC + "/registered-models/create", json={"name": MODEL})
    rest(emulator, "POST", UC + "/model-versions/create", json={"name": MODEL, "source": "x"})
    refused = rest(emulator, "POST", "/api/2.0/serving-endpoints", json={
        "name": "pending", "config": {"served_entities": [
            {"name": "m", "entity_name": MODEL, "entity_version": "1"}]}})
    assert refused.status_code == 404 and "PENDING_REGISTRATION" in refused.json()["message"]

    mlmodel = b"flavors: {}\nsignature:\n  inputs: '[]'\n  outputs: '[]'\n"
    path = "/api/2.0/fs/files/Models/main/churn/ml_model/1/MLmodel"
    assert rest(emulator, "PUT", path, content=mlmodel).status_code == 204
    finalized = rest(emulator, "POST", UC + "/model-versions/finalize",
                     json={"name": MODEL, "version": "1"}).json()["model_version"]
    assert finalized["status"] == "READY"
    rewrite = rest(emulator, "PUT", path, content=b"changed")
    assert (rewrite.status_code, rewrite.json()["error_code"]) == (403, "PERMISSION_DENIED")
    missing = rest(emulator, "PUT", "/api/2.0/fs/files/Models/main/churn/ml_model/7/MLmodel",
                   content=b"x")
    assert missing.status_code == 404


def test_deleting_a_version_deletes_its_files(emulator, mlflow_uc, workspace):
    log_tree(MODEL)
    stored = emulator.data_dir / "files/Models/main/churn/ml_model/1"
    assert stored.is_dir()
    MlflowClient().delete_model_version(MODEL, "1")
    assert not stored.exists()
    assert list(workspace.model_versions.list(MODEL)) == []


def test_names_must_have_three_levels(emulator, mlflow_uc):
    with pytest.raises(MlflowException, match="three-level name"):
        MlflowClient().create_registered_model("churn_model")


@pytest.mark.parametrize("mode", ["files_api", "presigned_urls"])
def test_mlflows_native_uc_store_registers_through_the_uc_paths(emulator, workspace, calls, mode):
    emulator.control("PUT", "/_emulator/settings", {"mlflow_uc_artifacts": mode})
    native = {"MLFLOW_ENABLE_UC_NATIVE_MODEL_REGISTRY": "true"}
    with against_workspace(emulator.host, emulator.token, **native) as experiment:
        mlflow.set_experiment(experiment)
        _, info = log_tree(MODEL)
        MlflowClient().set_registered_model_alias(MODEL, "champion", info.registered_model_version)
        loaded = mlflow.pyfunc.load_model(f"models:/{MODEL}@champion")
    assert calls.statuses("POST", "/api/2.1/unity-catalog/models/versions") == [200]
    assert calls.statuses("PATCH",
                          f"/api/2.1/unity-catalog/models/{MODEL}/versions/1/finalize") == [200]
    assert calls.statuses("POST", UC + "/model-versions/create") == []
    assert workspace.model_versions.get_by_alias(MODEL, "champion").status == \
        ModelVersionInfoStatus.READY
    assert list(loaded.predict(churn_frame()[0])) == ["Yes", "Yes", "No", "No", "Yes", "No"]
