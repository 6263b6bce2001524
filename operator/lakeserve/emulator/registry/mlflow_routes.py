"""The MLflow Unity Catalog registry protocol (``/api/2.0/mlflow/unity-catalog/...``), what
``mlflow.set_registry_uri("databricks-uc")`` talks to. Same registry as the
``/api/2.1/unity-catalog/models`` paths, so both show the same versions and aliases.

Model files: MLflow first asks ``registered-models:is-databricks-sdk-models-artifact-repository-
enabled``; "true" (setting ``mlflow_uc_artifacts`` = ``files_api``, the default) sends them through
the Files API, "false" (``presigned_urls``) makes it ask for temporary credentials, which answer
``DEFAULT_STORAGE``, so it uses presigned URLs. Both land in the same Files area.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from google.protobuf.message import Message
from mlflow.protos import databricks_uc_registry_messages_pb2 as uc

from lakeserve.emulator.clock import Clock, millis
from lakeserve.emulator.errors import invalid
from lakeserve.emulator.registry import versions
from lakeserve.emulator.registry.convert import legacy_model, legacy_version
from lakeserve.emulator.registry.names import parse_full_name, parse_version
from lakeserve.emulator.protojson import Route, add_routes, required
from lakeserve.emulator.registry.registration import NewVersion, Registration
from lakeserve.emulator.registry.search import name_filter, offset_page
from lakeserve.emulator.registry.store import ModelRegistry, mlflow_errors, model_label

PREFIX = "/api/2.0/mlflow/unity-catalog"
CREDENTIAL_SECONDS = 3600


class MlflowUcApi:
    def __init__(self, registry: ModelRegistry, registration: Registration, clock: Clock,
                 files_api: Callable[[], bool]):
        self._registry = registry
        self._registration = registration
        self._clock = clock
        self._files_api = files_api

    def routes(self) -> list[Route]:
        models, versions_ = "/registered-models", "/model-versions"
        return [
            ("POST", models + "/create", uc.CreateRegisteredModelRequest, self.create_model),
            ("GET", models + "/get", uc.GetRegisteredModelRequest, self.get_model),
            ("PATCH", models + "/update", uc.UpdateRegisteredModelRequest, self.update_model),
            ("DELETE", models + "/delete", uc.DeleteRegisteredModelRequest, self.delete_model),
            ("GET", models + "/search", uc.SearchRegisteredModelsRequest, self.search_models),
            ("POST", models + "/alias", uc.SetRegisteredModelAliasRequest, self.set_alias),
            ("GET", models + "/alias", uc.GetModelVersionByAliasRequest, self.get_by_alias),
            ("DELETE", models + "/alias", uc.DeleteRegisteredModelAliasRequest,
             self.delete_alias),
            ("POST", models + "/set-tag", uc.SetRegisteredModelTagRequest, self.set_model_tag),
            ("DELETE", models + "/delete-tag", uc.DeleteRegisteredModelTagRequest,
             self.delete_model_tag),
            ("GET", models + ":is-databricks-sdk-models-artifact-repository-enabled",
             uc.IsDatabricksSdkModelsArtifactRepositoryEnabledRequest, self.files_api_enabled),
            ("POST", versions_ + "/create", uc.CreateModelVersionRequest, self.create_version),
            ("POST", versions_ + "/finalize", uc.FinalizeModelVersionRequest,
             self.finalize_version),
            ("GET", versions_ + "/get", uc.GetModelVersionRequest, self.get_version),
            ("PATCH", versions_ + "/update", uc.UpdateModelVersionRequest, self.update_version),
            ("DELETE", versions_ + "/delete", uc.DeleteModelVersionRequest, self.delete_version),
            ("GET", versions_ + "/search", uc.SearchModelVersionsRequest, self.search_versions),
            ("GET", versions_ + "/get-download-uri", uc.GetModelVersionDownloadUriRequest,
             self.download_uri),
            ("POST", versions_ + "/generate-temporary-credentials",
             uc.GenerateTemporaryModelVersionCredentialsRequest, self.temporary_credentials),
            ("POST", versions_ + "/set-tag", uc.SetModelVersionTagRequest, self.set_version_tag),
            ("DELETE", versions_ + "/delete-tag", uc.DeleteModelVersionTagRequest,
             self.delete_version_tag),
            ("POST", versions_ + "/emit-lineage", uc.EmitModelVersionLineageRequest,
             lambda _: uc.EmitModelVersionLineageResponse()),
        ]

    # registered models

    def create_model(self, request: uc.CreateRegisteredModelRequest) -> Message:
        name = parse_full_name(request.name, "name")
        tags = {tag.key: tag.value for tag in request.tags}
        with mlflow_errors(model_label(name)):
            created = self._registry.client.create_registered_model(
                name.full, tags=tags or None, description=request.description or None)
        return uc.CreateRegisteredModelResponse(registered_model=self._model_message(created))

    def get_model(self, request: uc.GetRegisteredModelRequest) -> Message:
        model = self._registry.model(parse_full_name(request.name, "name"))
        return uc.GetRegisteredModelResponse(registered_model=self._model_message(model))

    def update_model(self, request: uc.UpdateRegisteredModelRequest) -> Message:
        name = parse_full_name(request.name, "name")
        self._registry.model(name)
        if request.new_name:
            raise invalid("Renaming a registered model is not supported by the local workspace")
        with mlflow_errors(model_label(name)):
            updated = self._registry.client.update_registered_model(name.full,
                                                                    request.description)
        return uc.UpdateRegisteredModelResponse(registered_model=self._model_message(updated))

    def delete_model(self, request: uc.DeleteRegisteredModelRequest) -> Message:
        name = parse_full_name(request.name, "name")
        self._registry.delete_model(name.full)
        self._registration.delete_files(name)
        return uc.DeleteRegisteredModelResponse()

    def search_models(self, request: uc.SearchRegisteredModelsRequest) -> Message:
        named = sorted((m for m in self._registry.all_models() if "." in m.name),
                       key=lambda m: m.name)
        page, token = offset_page(named, request.max_results, request.page_token)
        return uc.SearchRegisteredModelsResponse(
            registered_models=[self._model_message(m) for m in page], next_page_token=token)

    def set_model_tag(self, request: uc.SetRegisteredModelTagRequest) -> Message:
        name = parse_full_name(request.name, "name")
        self._registry.model(name)
        self._registry.client.set_registered_model_tag(name.full, request.key, request.value)
        return uc.SetRegisteredModelTagResponse()

    def delete_model_tag(self, request: uc.DeleteRegisteredModelTagRequest) -> Message:
        name = parse_full_name(request.name, "name")
        self._registry.model(name)
        with mlflow_errors(f"Tag '{request.key}' of '{name.full}'"):
            self._registry.client.delete_registered_model_tag(name.full, request.key)
        return uc.DeleteRegisteredModelTagResponse()

    def files_api_enabled(self, _: Message) -> Message:
        return uc.IsDatabricksSdkModelsArtifactRepositoryEnabledResponse(
            is_databricks_sdk_models_artifact_repository_enabled=self._files_api())

    # aliases

    def set_alias(self, request: uc.SetRegisteredModelAliasRequest) -> Message:
        required(request, "name", "alias", "version")
        self._registry.set_alias(request.name, request.alias, parse_version(request.version))
        return uc.SetRegisteredModelAliasResponse()

    def get_by_alias(self, request: uc.GetModelVersionByAliasRequest) -> Message:
        required(request, "name", "alias")
        version = self._registry.by_alias(parse_full_name(request.name, "name"), request.alias)
        return uc.GetModelVersionByAliasResponse(model_version=self._version_message(version))

    def delete_alias(self, request: uc.DeleteRegisteredModelAliasRequest) -> Message:
        required(request, "name", "alias")
        self._registry.delete_alias(request.name, request.alias)
        return uc.DeleteRegisteredModelAliasResponse()

    # versions

    def create_version(self, request: uc.CreateModelVersionRequest) -> Message:
        required(request, "name", "source")
        created = self._registration.create(NewVersion(
            request.name, request.source, request.run_id, request.description,
            {tag.key: tag.value for tag in request.tags}))
        return uc.CreateModelVersionResponse(model_version=self._version_message(created))

    def finalize_version(self, request: uc.FinalizeModelVersionRequest) -> Message:
        required(request, "name", "version")
        finalized = self._registration.finalize(request.name, request.version)
        return uc.FinalizeModelVersionResponse(model_version=self._version_message(finalized))

    def get_version(self, request: uc.GetModelVersionRequest) -> Message:
        return uc.GetModelVersionResponse(model_version=self._version_message(
            self._lookup(request.name, request.version)))

    def update_version(self, request: uc.UpdateModelVersionRequest) -> Message:
        version = self._lookup(request.name, request.version)
        updated = self._registry.client.update_model_version(version.name, version.version,
                                                             request.description)
        return uc.UpdateModelVersionResponse(model_version=self._version_message(updated))

    def delete_version(self, request: uc.DeleteModelVersionRequest) -> Message:
        version = self._lookup(request.name, request.version)
        self._registry.client.delete_model_version(version.name, version.version)
        self._registration.delete_files(parse_full_name(version.name), int(version.version))
        return uc.DeleteModelVersionResponse()

    def search_versions(self, request: uc.SearchModelVersionsRequest) -> Message:
        name = name_filter(request.filter)
        found = self._registry.client.search_model_versions(f"name='{name.full}'",
                                                            max_results=200_000)
        ordered = sorted(found, key=lambda v: int(v.version), reverse=True)
        page, token = offset_page(ordered, request.max_results, request.page_token)
        return uc.SearchModelVersionsResponse(
            model_versions=[self._version_message(v) for v in page], next_page_token=token)

    def download_uri(self, request: uc.GetModelVersionDownloadUriRequest) -> Message:
        version = self._lookup(request.name, request.version)
        return uc.GetModelVersionDownloadUriResponse(
            artifact_uri=versions.storage_location(version))

    def temporary_credentials(self, request: Any) -> Message:
        self._lookup(request.name, request.version)
        expiry = millis(self._clock.now() + CREDENTIAL_SECONDS)
        return uc.GenerateTemporaryModelVersionCredentialsResponse(
            credentials=uc.TemporaryCredentials(storage_mode=uc.StorageMode.DEFAULT_STORAGE,
                                                expiration_time=expiry))

    def set_version_tag(self, request: uc.SetModelVersionTagRequest) -> Message:
        versions.check_tag_key(request.key)
        version = self._lookup(request.name, request.version)
        self._registry.client.set_model_version_tag(version.name, version.version, request.key,
                                                    request.value)
        return uc.SetModelVersionTagResponse()

    def delete_version_tag(self, request: uc.DeleteModelVersionTagRequest) -> Message:
        versions.check_tag_key(request.key)
        version = self._lookup(request.name, request.version)
        with mlflow_errors(f"Tag '{request.key}' of version {version.version}"):
            self._registry.client.delete_model_version_tag(version.name, version.version,
                                                           request.key)
        return uc.DeleteModelVersionTagResponse()

    # helpers

    def _lookup(self, full_name: str, version: str):
        return self._registry.version(parse_full_name(full_name, "name"), parse_version(version))

    def _version_message(self, version) -> uc.ModelVersion:
        return legacy_version(version, self._registry.owner())

    def _model_message(self, model) -> uc.RegisteredModel:
        return legacy_model(model, self._registry.owner())


def build_router(api: MlflowUcApi) -> APIRouter:
    router = APIRouter()
    add_routes(router, PREFIX, api.routes())
    return router
