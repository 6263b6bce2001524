"""The UC model registry over REST, backed by the MLflow SQLite registry in the data dir."""

from __future__ import annotations

import httpx
import pytest
from databricks.sdk.errors import InvalidParameterValue, ResourceAlreadyExists, ResourceDoesNotExist
from databricks.sdk.service.catalog import ModelVersionInfoStatus
from mlflow import MlflowClient

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

MODEL = "main.default.model"


def test_aliases_move_and_are_visible_at_once(workspace, model_version):
    first = model_version(MODEL, aliases=["champion"])
    second = model_version(MODEL)
    assert workspace.model_versions.get_by_alias(MODEL, "champion").version == first

    moved = workspace.registered_models.set_alias(MODEL, "champion", second)
    assert (moved.alias_name, moved.version_num) == ("champion", second)
    assert workspace.model_versions.get_by_alias(MODEL, "champion").version == second
    model = workspace.registered_models.get(MODEL, include_aliases=True)
    assert [(a.alias_name, a.version_num) for a in model.aliases] == [("champion", second)]
    assert not workspace.registered_models.get(MODEL).aliases  # only when asked for

    workspace.registered_models.delete_alias(MODEL, "champion")
    with pytest.raises(ResourceDoesNotExist):
        workspace.model_versions.get_by_alias(MODEL, "champion")


def test_versions_registered_with_mlflow_show_up_over_rest(workspace, emulator):
    client = MlflowClient(tracking_uri=emulator.registry_uri, registry_uri=emulator.registry_uri)
    client.create_registered_model("main.ml.churn")
    created = client.create_model_version("main.ml.churn", source="file:///tmp/model",
                                          run_id=None)
    client.set_registered_model_alias("main.ml.churn", "prod", created.version)

    info = workspace.model_versions.get("main.ml.churn", int(created.version))
    assert (info.catalog_name, info.schema_name, info.model_name) == ("main", "ml", "churn")
    assert info.status == ModelVersionInfoStatus.READY
    assert info.source == "file:///tmp/model"
    assert workspace.model_versions.get_by_alias("main.ml.churn", "prod").version == 1
    assert [m.full_name for m in workspace.registered_models.list(catalog_name="main",
                                                                  schema_name="ml")] == \
        ["main.ml.churn"]


def test_registered_version_can_be_served(workspace, model_version):
    version = model_version("main.ml.served")
    created = workspace.api_client.do("POST", "/api/2.0/serving-endpoints", body={
        "name": "served", "config": {"served_entities": [
            {"entity_name": "main.ml.served", "entity_version": str(version)}]}})
    assert created["pending_config"]["served_entities"][0]["name"] == "served-1"


def test_models_and_versions_list_with_pagination(workspace, model_version):
    for name in ("c.s.a", "c.s.b", "c.t.c"):
        model_version(name)
    for _ in range(2):
        model_version("c.s.a")
    assert [m.full_name for m in workspace.registered_models.list(catalog_name="c",
                                                                  max_results=1)] == \
        ["c.s.a", "c.s.b", "c.t.c"]
    assert [m.full_name for m in workspace.registered_models.list(schema_name="t")] == ["c.t.c"]
    assert [v.version for v in workspace.model_versions.list("c.s.a", max_results=2)] == [1, 2, 3]


def test_create_and_delete_registered_models(workspace):
    created = workspace.registered_models.create(catalog_name="main", schema_name="default",
                                                 name="fresh", comment="made over REST")
    assert (created.full_name, created.comment) == ("main.default.fresh", "made over REST")
    with pytest.raises(ResourceAlreadyExists):
        workspace.registered_models.create(catalog_name="main", schema_name="default",
                                           name="fresh")
    workspace.registered_models.delete("main.default.fresh")
    with pytest.raises(ResourceDoesNotExist, match="main.default.fresh"):
        workspace.registered_models.get("main.default.fresh")


def test_missing_and_malformed_names(workspace, model_version):
    model_version(MODEL)
    with pytest.raises(ResourceDoesNotExist, match="Model version 9"):
        workspace.model_versions.get(MODEL, 9)
    with pytest.raises(InvalidParameterValue, match="three-level name"):
        workspace.registered_models.get("not_three_levels")
    with pytest.raises(ResourceDoesNotExist):
        workspace.registered_models.set_alias(MODEL, "champion", 9)


def test_legacy_mlflow_alias_path_answers_with_string_versions(emulator, model_version):
    version = model_version(MODEL, aliases=["champion"])
    answer = httpx.get(f"{emulator.host}/api/2.0/mlflow/unity-catalog/registered-models/alias",
                       params={"name": MODEL, "alias": "champion"},
                       headers={"Authorization": f"Bearer {emulator.token}"})
    assert answer.status_code == 200
    model_version_json = answer.json()["model_version"]
    assert model_version_json["version"] == str(version)
    assert model_version_json["status"] == "READY"
    assert model_version_json["aliases"] == [{"alias": "champion", "version": str(version)}]


def test_mlflow_databricks_uc_client_resolves_an_alias(emulator, model_version, monkeypatch):
    version = model_version(MODEL, aliases=["champion"])
    monkeypatch.setenv("DATABRICKS_HOST", emulator.host)
    monkeypatch.setenv("DATABRICKS_TOKEN", emulator.token)
    client = MlflowClient(tracking_uri=emulator.registry_uri, registry_uri="databricks-uc")
    resolved = client.get_model_version_by_alias(MODEL, "champion")
    assert (resolved.version, resolved.status) == (str(version), "READY")
