"""Registering a version the way MLflow's ``databricks-uc`` client does it.

``create`` makes the version PENDING_REGISTRATION with a managed location under
``/Models/<catalog>/<schema>/<model>/<version>`` in the Files area; the client uploads the model's
files there (Files API or presigned URLs); ``finalize`` checks that they are an MLflow model with a
signature holding inputs and outputs (Unity Catalog requires one) and makes the version READY.
Only a pending version's files can be written: a READY version is what endpoints serve.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml
from mlflow.entities.model_registry import ModelVersion

from lakeserve.emulator.errors import ApiError, invalid, not_found
from lakeserve.emulator.files.store import FileStore
from lakeserve.emulator.registry import versions
from lakeserve.emulator.registry.names import ModelName, parse_full_name, parse_version
from lakeserve.emulator.registry.store import ModelRegistry, mlflow_errors, model_label

MODELS_ROOT = "/Models"
SIGNATURE_REQUIRED = (
    "All models in the Unity Catalog must be logged with a model signature containing both "
    "input and output type specifications. See "
    "https://mlflow.org/docs/latest/model/signatures.html#how-to-log-models-with-signatures "
    "for details on how to log a model with a signature")


@dataclass
class NewVersion:
    name: str
    source: str
    run_id: str = ""
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)


class Registration:
    def __init__(self, registry: ModelRegistry, files: FileStore):
        self._registry = registry
        self._files = files

    def create(self, new: NewVersion) -> ModelVersion:
        name = parse_full_name(new.name, "name")
        for key in new.tags:
            versions.check_tag_key(key)
        self._registry.model(name)
        tags = {**new.tags, versions.SOURCE_TAG: new.source, versions.STATUS_TAG: versions.PENDING}
        with mlflow_errors(model_label(name)), self._registry.create_lock:
            number = self._next_version(name)
            created = self._registry.client.create_model_version(
                name.full, source=self._location(name, number).as_uri(), run_id=new.run_id or None,
                description=new.description or None,
                tags=tags)
        if int(created.version) != number:  # only another writer of the same SQLite file could
            raise ApiError(500, "INTERNAL_ERROR", f"Version {created.version} of '{name.full}' "
                                                  f"was created where {number} was expected")
        return created

    def finalize(self, full_name: str, version: str) -> ModelVersion:
        name, number = parse_full_name(full_name, "name"), parse_version(version)
        current = self._registry.version(name, number)
        state = versions.status(current)
        if state == versions.READY:
            return current  # finalizing twice changes nothing
        if state != versions.PENDING:
            raise invalid(f"Model version {number} of '{name.full}' is {state} and cannot be "
                          "finalized")
        problem = self._model_problem(name, number)
        if problem:
            self._set_status(name, number, versions.FAILED, problem)
            raise invalid(problem)
        self._registry.client.delete_model_version_tag(name.full, str(number),
                                                       versions.STATUS_TAG)
        return self._registry.version(name, number)

    def check_writable(self, path: PurePosixPath) -> None:
        """The Files area's guard for ``/Models``: only a pending version's directory."""
        if len(path.parts) < 6:
            raise ApiError(403, "PERMISSION_DENIED", f"Cannot write '{path}': model files go "
                           "under /Models/<catalog>/<schema>/<model>/<version>/")
        name = ModelName(*path.parts[2:5])
        number = parse_version(path.parts[5])
        try:
            state = versions.status(self._registry.version(name, number))
        except ApiError:
            raise not_found(f"Model version {number} of '{name.full}' does not exist.") from None
        if state != versions.PENDING:
            raise ApiError(403, "PERMISSION_DENIED",
                           f"Cannot write '{path}': model version {number} of '{name.full}' is "
                           f"{state}; its files can no longer change")

    def delete_files(self, name: ModelName, number: int | None = None) -> None:
        """The files of one version, or of every version of the model."""
        location = self._location(name, number) if number else self._location(name).parent
        shutil.rmtree(location, ignore_errors=True)

    def wipe(self) -> None:
        shutil.rmtree(self._files.disk_path(PurePosixPath(MODELS_ROOT)), ignore_errors=True)

    def _location(self, name: ModelName, number: int = 0) -> Path:
        return self._files.disk_path(
            PurePosixPath(MODELS_ROOT, name.catalog, name.schema, name.model, str(number)))

    def _next_version(self, name: ModelName) -> int:
        latest = self._registry.client.search_model_versions(
            f"name='{name.full}'", max_results=1, order_by=["version_number DESC"])
        return int(latest[0].version) + 1 if latest else 1

    def _model_problem(self, name: ModelName, number: int) -> str | None:
        """Why the uploaded files are not a registrable model, or None."""
        try:
            meta = yaml.safe_load((self._location(name, number) / "MLmodel").read_text()) or {}
        except (OSError, yaml.YAMLError):
            return (f"Model version {number} of '{name.full}' has no readable MLmodel file; "
                    "upload the model's files before finalizing it")
        signature = meta.get("signature") if isinstance(meta, dict) else None
        if not signature:
            return ("Model passed for registration did not contain any signature metadata. "
                    + SIGNATURE_REQUIRED)
        if not signature.get("outputs"):
            return ("Model passed for registration contained a signature that includes only "
                    "inputs. " + SIGNATURE_REQUIRED)
        return None

    def _set_status(self, name: ModelName, number: int, status: str, message: str) -> None:
        client = self._registry.client
        client.set_model_version_tag(name.full, str(number), versions.STATUS_TAG, status)
        client.set_model_version_tag(name.full, str(number), versions.STATUS_MESSAGE_TAG,
                                     message[:5000])
