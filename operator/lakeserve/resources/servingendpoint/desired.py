"""The endpoint the spec asks for, with aliases resolved to versions, in Databricks' terms."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from databricks.sdk.service.serving import (
    AutoCaptureConfigInput,
    EmailNotifications,
    EndpointTag,
    Route,
    ServedEntityInput,
    ServingModelWorkloadType,
    TrafficConfig,
)

from lakeserve.api.servingendpoint import ServedEntity, ServingEndpointSpec
from lakeserve.resources import ucnames
from lakeserve.resources.servingendpoint import gateway

OWNER_TAG = "lakeserve-owner"
DEFAULT_WORKLOAD_TYPE = "CPU"

_TABLE_NAME_PARTS = ("catalog_name", "schema_name", "table_name_prefix")
# Resolves (model full name, alias) to a version number; raises SpecError when it can't.
AliasResolver = Callable[[str, str], str]


@dataclass(frozen=True)
class DesiredEntity:
    """A served entity as compared with Databricks: defaults filled the way Databricks fills them."""

    name: str
    entity_name: str
    entity_version: str  # "" for a feature spec
    entity_alias: str | None
    workload_type: str
    scale_to_zero_enabled: bool
    environment_vars: tuple[tuple[str, str], ...]
    instance_profile_arn: str | None
    # ("size", "Small") or ("concurrency", min, max); None when the spec leaves sizing to Databricks.
    sizing: tuple | None
    source: ServedEntity = field(compare=False, hash=False, repr=False)

    @property
    def serves_feature_spec(self) -> bool:
        return self.source.serves_feature_spec

    def as_input(self) -> ServedEntityInput:
        spec = self.source
        return ServedEntityInput(
            name=self.name,
            entity_name=self.entity_name,
            entity_version=self.entity_version or None,  # none for a feature spec
            workload_size=spec.workload_size,
            workload_type=_workload_type(spec.workload_type),
            scale_to_zero_enabled=spec.scale_to_zero_enabled,
            min_provisioned_concurrency=spec.min_provisioned_concurrency,
            max_provisioned_concurrency=spec.max_provisioned_concurrency,
            environment_vars=dict(self.environment_vars) or None,
            instance_profile_arn=spec.instance_profile_arn,
        )


@dataclass(frozen=True)
class DesiredEndpoint:
    name: str
    entities: tuple[DesiredEntity, ...]
    routes: tuple[tuple[str, int], ...]  # sorted (served entity name, percentage)
    auto_capture: dict[str, Any] | None
    tags: dict[str, str]
    ai_gateway: dict[str, Any] | None
    email_notifications: dict[str, Any] | None
    create_only: dict[str, Any]  # route_optimized / description / budget_policy_id, when set
    telemetry: dict[str, Any] | None = None  # PATCH .../telemetry-config body, when managed

    def traffic_config(self) -> TrafficConfig:
        return TrafficConfig(routes=[Route(served_entity_name=name, traffic_percentage=pct)
                                     for name, pct in self.routes])

    def auto_capture_input(self) -> AutoCaptureConfigInput | None:
        if self.auto_capture is None:
            return None
        return AutoCaptureConfigInput.from_dict(self.auto_capture)

    def tag_list(self) -> list[EndpointTag]:
        return [EndpointTag(key=k, value=v or None) for k, v in sorted(self.tags.items())]

    def config_hash(self) -> str:
        """Identifies the config update_config would send (entities, routes, auto-capture)."""
        config = {"entities": [e.as_input().as_dict() for e in self.entities],
                  "routes": self.routes, "auto_capture": self.auto_capture}
        return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]

    def telemetry_hash(self) -> str | None:
        if self.telemetry is None:
            return None
        text = json.dumps(self.telemetry, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def notifications(self) -> EmailNotifications | None:
        if self.email_notifications is None:
            return None
        return EmailNotifications.from_dict(self.email_notifications)


def desired_endpoint(spec: ServingEndpointSpec, metadata_name: str, owner: str,
                     resolve_alias: AliasResolver) -> DesiredEndpoint:
    entities = tuple(_desired_entity(e, resolve_alias) for e in spec.config.served_entities)
    tags = {tag.key: tag.value or "" for tag in spec.tags or []}
    tags[OWNER_TAG] = owner
    return DesiredEndpoint(
        name=spec.endpoint_name(metadata_name),
        entities=entities,
        routes=_routes(spec, entities),
        auto_capture=_folded_table(_snake(spec.config.auto_capture_config)),
        tags=tags,
        ai_gateway=_folded_gateway(gateway_body(_snake(spec.ai_gateway))),
        email_notifications=_snake(spec.email_notifications),
        telemetry=_telemetry(_snake(spec.telemetry_config)),
        create_only={k: v for k, v in (("route_optimized", spec.route_optimized),
                                       ("description", spec.description),
                                       ("budget_policy_id", spec.budget_policy_id))
                     if v is not None},
    )


def _desired_entity(entity: ServedEntity, resolve_alias: AliasResolver) -> DesiredEntity:
    entity_name = ucnames.fold(entity.entity_name)
    if entity.entity_alias is not None:
        version = resolve_alias(entity_name, entity.entity_alias)
    else:  # a literal version, or none for a feature spec
        version = entity.entity_version or ""
    return DesiredEntity(
        name=entity.effective_name(),
        entity_name=entity_name,
        entity_version=str(version),
        entity_alias=entity.entity_alias,
        workload_type=_workload_type(entity.workload_type).value,
        scale_to_zero_enabled=bool(entity.scale_to_zero_enabled),
        environment_vars=tuple(sorted((entity.environment_vars or {}).items())),
        instance_profile_arn=entity.instance_profile_arn or None,
        sizing=_sizing(entity),
        source=entity,
    )


def _sizing(entity: ServedEntity) -> tuple | None:
    if entity.workload_size:
        return ("size", entity.workload_size)
    if entity.min_provisioned_concurrency is not None or \
            entity.max_provisioned_concurrency is not None:
        return ("concurrency", entity.min_provisioned_concurrency,
                entity.max_provisioned_concurrency)
    return None


def _routes(spec: ServingEndpointSpec,
            entities: tuple[DesiredEntity, ...]) -> tuple[tuple[str, int], ...]:
    if spec.config.traffic_config is None:
        # Databricks gives a single entity 100%; say so explicitly (update_config replaces all).
        return tuple(sorted((e.name, 100 if i == 0 else 0) for i, e in enumerate(entities)))
    return tuple(sorted((r.served_entity_name, r.traffic_percentage)
                        for r in spec.config.traffic_config.routes))


def _workload_type(value: Any) -> ServingModelWorkloadType:
    return ServingModelWorkloadType(value or DEFAULT_WORKLOAD_TYPE)


def _folded_table(table: dict[str, Any] | None) -> dict[str, Any] | None:
    """An inference table's catalog, schema and prefix in lower case, as UC stores them."""
    if table is None:
        return None
    return {k: ucnames.fold_part(v) if k in _TABLE_NAME_PARTS else v for k, v in table.items()}


def _folded_gateway(config: dict[str, Any] | None) -> dict[str, Any] | None:
    if config and "inference_table_config" in config:
        config["inference_table_config"] = _folded_table(config["inference_table_config"])
    return config


def _telemetry(config: dict[str, Any] | None) -> dict[str, Any] | None:
    """Telemetry with its Unity Catalog table names folded (UC stores them in lower case)."""
    if config is None:
        return None
    tables = config.get("table_names")
    if tables:
        config["table_names"] = {k: ucnames.fold(v) for k, v in tables.items()}
    if config.get("enabled_telemetry_features"):
        config["enabled_telemetry_features"] = sorted(config["enabled_telemetry_features"])
    return config


def _snake(model: Any) -> dict[str, Any] | None:
    """A spec sub-model as a Databricks REST body (snake_case, unset fields left out)."""
    if model is None:
        return None
    return model.model_dump(exclude_none=True, mode="json")


def gateway_body(config: dict[str, Any] | None) -> dict[str, Any] | None:
    """The AI gateway config to send (whole, with PUT): empty parts dropped, defaults explicit."""
    if config is None:
        return None
    cleaned = gateway.drop_empty(config) or {}
    for limit in cleaned.get("rate_limits", []):
        limit.setdefault("key", "endpoint")
        limit.setdefault("renewal_period", "minute")
    table = cleaned.get("inference_table_config")
    if table is not None:
        table.setdefault("enabled", True)
    return cleaned
