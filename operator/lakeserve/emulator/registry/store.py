"""UC model-registry operations on top of MLflow's SQLite registry, with UC's errors."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from databricks.sdk.service.catalog import (
    ModelVersionInfo,
    RegisteredModelAlias,
    RegisteredModelInfo,
)
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion, RegisteredModel
from mlflow.exceptions import MlflowException

from lakeserve.emulator.errors import ApiError, already_exists, invalid, not_found
from lakeserve.emulator.registry import convert, versions
from lakeserve.emulator.registry.names import ModelName, parse_full_name, split_full_name

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
_MLFLOW_PAGE = 1000


def registry_uri(data_dir: Path) -> str:
    """The MLflow tracking/registry URI of the emulator's registry in ``data_dir``."""
    return f"sqlite:///{Path(data_dir).resolve() / 'mlflow.db'}"


class ModelRegistry:
    def __init__(self, data_dir: Path, owner: Callable[[], str]):
        data_dir.mkdir(parents=True, exist_ok=True)
        self.uri = registry_uri(data_dir)
        self._client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)
        self._owner = owner
        self.create_lock = threading.Lock()  # version numbers are max + 1: one creator at a time
        self._client.search_registered_models(max_results=1)  # create the schema now, not later

    # registered models

    def get_model(self, full_name: str, include_aliases: bool) -> RegisteredModelInfo:
        name = parse_full_name(full_name)
        return convert.model_info(self.model(name), name, self._owner(), include_aliases)

    def list_models(self, catalog: str | None, schema: str | None, max_results: int | None,
                    page_token: str | None) -> tuple[list[RegisteredModelInfo], str | None]:
        named = [(name, model) for model in self.all_models()
                 if (name := split_full_name(model.name))
                 and (not catalog or name.catalog == catalog)
                 and (not schema or name.schema == schema)]
        page, next_token = _page(named, max_results, page_token, key=lambda pair: pair[0].full)
        owner = self._owner()
        return [convert.model_info(model, name, owner, False) for name, model in page], next_token

    def create_model(self, catalog: str, schema: str, model: str,
                     comment: str | None) -> RegisteredModelInfo:
        name = parse_full_name(f"{catalog}.{schema}.{model}", "name")
        with mlflow_errors(f"Registered model '{name.full}'"):
            created = self._client.create_registered_model(name.full, description=comment)
        return convert.model_info(created, name, self._owner(), False)

    def delete_model(self, full_name: str) -> None:
        name = parse_full_name(full_name)
        self.model(name)
        with mlflow_errors(model_label(name)):
            self._client.delete_registered_model(name.full)

    def delete_all(self) -> None:
        for model in self.all_models():
            self._client.delete_registered_model(model.name)

    # versions

    def get_version(self, full_name: str, version: int,
                    include_aliases: bool) -> ModelVersionInfo:
        name = parse_full_name(full_name)
        return convert.version_info(self.version(name, version), name, self._owner(),
                                    include_aliases)

    def list_versions(self, full_name: str, max_results: int | None,
                      page_token: str | None) -> tuple[list[ModelVersionInfo], str | None]:
        name = parse_full_name(full_name)
        self.model(name)
        versions = self._client.search_model_versions(f"name='{name.full}'",
                                                      max_results=200_000)
        page, next_token = _page(versions, max_results, page_token,
                                 key=lambda v: int(v.version))
        owner = self._owner()
        return [convert.version_info(v, name, owner, False) for v in page], next_token

    def version_status(self, entity_name: str, version: str) -> str | None:
        """The UC status of a version (``READY`` ...), or None when it does not exist."""
        name = split_full_name(entity_name)  # a UC name matches in any case
        try:
            return versions.status(self._client.get_model_version(
                name.full if name else entity_name, str(version)))
        except MlflowException:
            return None

    def register_version(self, full_name: str, source: str | None,
                         aliases: list[str], run_id: str | None = None) -> ModelVersionInfo:
        """Create the registered model if needed and a READY version; point aliases at it."""
        name = parse_full_name(full_name, "name")
        with contextlib.suppress(MlflowException):
            self._client.create_registered_model(name.full)
        with mlflow_errors(model_label(name)), self.create_lock:
            created = self._client.create_model_version(name.full, source=source or "",
                                                        run_id=run_id)
            for alias in aliases:
                self._client.set_registered_model_alias(name.full, alias, created.version)
        return self.get_version(name.full, int(created.version), include_aliases=True)

    # aliases

    def get_version_by_alias(self, full_name: str, alias: str,
                             include_aliases: bool) -> ModelVersionInfo:
        name = parse_full_name(full_name)
        return convert.version_info(self.by_alias(name, alias), name, self._owner(),
                                    include_aliases)

    def set_alias(self, full_name: str, alias: str, version: int) -> RegisteredModelAlias:
        name = parse_full_name(full_name)
        self.version(name, version)
        with mlflow_errors(model_label(name)):
            self._client.set_registered_model_alias(name.full, alias, str(version))
        return convert.model_alias(name, alias, version)

    def delete_alias(self, full_name: str, alias: str) -> None:
        name = parse_full_name(full_name)
        self.by_alias(name, alias)
        with mlflow_errors(model_label(name)):
            self._client.delete_registered_model_alias(name.full, alias)

    # lookups with UC's errors

    @property
    def client(self) -> MlflowClient:
        return self._client

    def owner(self) -> str:
        return self._owner()

    def model(self, name: ModelName) -> RegisteredModel:
        try:
            return self._client.get_registered_model(name.full)
        except MlflowException as exc:
            raise translate(exc, model_label(name)) from None

    def version(self, name: ModelName, version: int) -> ModelVersion:
        try:
            return self._client.get_model_version(name.full, str(version))
        except MlflowException as exc:
            self.model(name)
            raise translate(exc, f"Model version {version} of model '{name.full}'") from None

    def by_alias(self, name: ModelName, alias: str) -> ModelVersion:
        model = self.model(name)
        if alias not in (model.aliases or {}):
            raise not_found(f"Alias '{alias}' does not exist for registered model '{name.full}'.")
        return self.version(name, int(model.aliases[alias]))

    def all_models(self) -> list[RegisteredModel]:
        models: list[RegisteredModel] = []
        token = None
        while True:
            page = self._client.search_registered_models(max_results=_MLFLOW_PAGE,
                                                         page_token=token)
            models += page
            token = page.token
            if not token:
                return models


def model_label(name: ModelName) -> str:
    return f"Routine or Model '{name.full}'"


def translate(exc: MlflowException, subject: str) -> ApiError:
    if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
        return not_found(f"{subject} does not exist.")
    if exc.error_code == "RESOURCE_ALREADY_EXISTS":
        return already_exists(f"{subject} already exists.")
    return invalid(exc.message)


@contextlib.contextmanager
def mlflow_errors(subject: str) -> Iterator[None]:
    try:
        yield
    except MlflowException as exc:
        raise translate(exc, subject) from None


def _page(items: list, max_results: int | None, page_token: str | None,
          key: Callable[[Any], Any]) -> tuple[list, str | None]:
    """One page of ``items`` sorted by ``key``; the token is the next offset."""
    if max_results is not None and not 0 <= max_results <= MAX_PAGE_SIZE:
        raise invalid(f"max_results must be between 0 and {MAX_PAGE_SIZE}")
    size = max_results or DEFAULT_PAGE_SIZE
    try:
        start = int(page_token) if page_token else 0
    except ValueError:
        raise invalid(f"Invalid page_token '{page_token}'") from None
    ordered = sorted(items, key=key)
    end = start + size
    return ordered[start:end], (str(end) if end < len(ordered) else None)
