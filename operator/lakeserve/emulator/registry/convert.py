"""MLflow registry entities -> Unity Catalog dataclasses (and the legacy MLflow-UC proto JSON)."""

from __future__ import annotations

import uuid

from databricks.sdk.service.catalog import (
    ModelVersionInfo,
    ModelVersionInfoStatus,
    RegisteredModelAlias,
    RegisteredModelInfo,
)
from mlflow.entities.model_registry import ModelVersion, RegisteredModel
from mlflow.protos import databricks_uc_registry_messages_pb2 as uc_proto

from lakeserve.emulator.context import METASTORE_ID
from lakeserve.emulator.registry import versions
from lakeserve.emulator.registry.names import ModelName

_STATUS = {status.value: status for status in ModelVersionInfoStatus}
_UNKNOWN_STATUS = ModelVersionInfoStatus.MODEL_VERSION_STATUS_UNKNOWN


def model_info(model: RegisteredModel, name: ModelName, owner: str,
               include_aliases: bool) -> RegisteredModelInfo:
    aliases = None
    if include_aliases:
        aliases = [model_alias(name, alias, int(version))
                   for alias, version in sorted((model.aliases or {}).items())]
    return RegisteredModelInfo(
        name=name.model, catalog_name=name.catalog, schema_name=name.schema, full_name=name.full,
        owner=owner, comment=model.description or None, aliases=aliases,
        created_at=model.creation_timestamp, created_by=owner,
        updated_at=model.last_updated_timestamp, updated_by=owner,
        metastore_id=METASTORE_ID, storage_location=None)


def model_alias(name: ModelName, alias: str, version: int) -> RegisteredModelAlias:
    return RegisteredModelAlias(alias_name=alias, version_num=version, catalog_name=name.catalog,
                                schema_name=name.schema, model_name=name.model)


def version_info(version: ModelVersion, name: ModelName, owner: str,
                 include_aliases: bool) -> ModelVersionInfo:
    number = int(version.version)
    aliases = None
    if include_aliases:
        aliases = [model_alias(name, alias, number) for alias in sorted(version.aliases or [])]
    creator = version.user_id or owner
    return ModelVersionInfo(
        version=number, model_name=name.model, catalog_name=name.catalog, schema_name=name.schema,
        status=_STATUS.get(versions.status(version), _UNKNOWN_STATUS),
        source=versions.source(version) or None,
        storage_location=versions.storage_location(version) or None,
        run_id=version.run_id or None, comment=version.description or None, aliases=aliases,
        id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"model-version:{name.full}/{number}")),
        created_at=version.creation_timestamp, created_by=creator,
        updated_at=version.last_updated_timestamp, updated_by=creator, metastore_id=METASTORE_ID)


def legacy_version(version: ModelVersion, owner: str) -> uc_proto.ModelVersion:
    """A version as the MLflow UC registry protocol has it (string versions)."""
    number = str(version.version)
    return uc_proto.ModelVersion(
        name=version.name, version=number,
        creation_timestamp=version.creation_timestamp or 0,
        last_updated_timestamp=version.last_updated_timestamp or 0,
        user_id=version.user_id or owner, description=version.description or "",
        source=versions.source(version), run_id=version.run_id or "",
        status=uc_proto.ModelVersionStatus.Value(_legacy_status(versions.status(version))),
        status_message=versions.status_message(version),
        storage_location=versions.storage_location(version),
        aliases=[uc_proto.RegisteredModelAlias(alias=alias, version=number)
                 for alias in sorted(version.aliases or [])],
        tags=[uc_proto.ModelVersionTag(key=k, value=v)
              for k, v in versions.user_tags(version).items()])


def legacy_model(model: RegisteredModel, owner: str) -> uc_proto.RegisteredModel:
    return uc_proto.RegisteredModel(
        name=model.name, creation_timestamp=model.creation_timestamp or 0,
        last_updated_timestamp=model.last_updated_timestamp or 0, user_id=owner,
        description=model.description or "",
        aliases=[uc_proto.RegisteredModelAlias(alias=alias, version=str(number))
                 for alias, number in sorted((model.aliases or {}).items())],
        tags=[uc_proto.RegisteredModelTag(key=k, value=v) for k, v in (model.tags or {}).items()])


def _legacy_status(status: str | None) -> str:
    names = uc_proto.ModelVersionStatus.keys()
    return status if status in names else "UNSPECIFIED"
