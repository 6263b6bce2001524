"""The endpoint the spec asks for, with aliases resolved to versions, in Databricks' terms."""

from __future__ import annotations

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

OWNER_TAG = "lakeserve-owner"
DEFAULT_WORKLOAD_TYPE = "CPU"

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

    def traffic_config(self) -> TrafficConfig:
        return TrafficConfig(routes=[Route(served_entity_name=name, traffic_percentage=pct)
                                     for name, pct in self.routes])

    def auto_capture_input(self) -> AutoCaptureConfigInput | None:
        if self.auto_capture is None:
            return None
        return AutoCaptureConfigInput.from_dict(self.auto_capture)

    def tag_list(self) -> list[EndpointTag]:
        return [EndpointTag(key=k, value=v or None) for k, v in sorted(self.tags.items())]

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
        auto_capture=_snake(spec.config.auto_capture_config),
        tags=tags,
        ai_gateway=normalize_gateway(_snake(spec.ai_gateway)),
        email_notifications=_snake(spec.email_notifications),
        create_only={k: v for k, v in (("route_optimized", spec.route_optimized),
                                       ("description", spec.description),
                                       ("budget_policy_id", spec.budget_policy_id))
                     if v is not None},
    )


def _desired_entity(entity: ServedEntity, resolve_alias: AliasResolver) -> DesiredEntity:
    if entity.entity_alias is not None:
        version = resolve_alias(entity.entity_name, entity.entity_alias)
    else:  # a literal version, or none for a feature spec
        version = entity.entity_version or ""
    return DesiredEntity(
        name=entity.effective_name(),
        entity_name=entity.entity_name,
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


def _snake(model: Any) -> dict[str, Any] | None:
    """A spec sub-model as a Databricks REST body (snake_case, unset fields left out)."""
    if model is None:
        return None
    return model.model_dump(exclude_none=True, mode="json")


def normalize_gateway(gateway: dict[str, Any] | None) -> dict[str, Any] | None:
    """AI gateway config with Databricks' defaults filled and empty parts dropped."""
    if gateway is None:
        return None
    cleaned = _drop_empty(gateway) or {}
    for limit in cleaned.get("rate_limits", []):
        limit.setdefault("key", "endpoint")
        limit.setdefault("renewal_period", "minute")
    table = cleaned.get("inference_table_config")
    if table is not None:
        table.setdefault("enabled", True)
    return cleaned


def _drop_empty(value: Any) -> Any:
    if isinstance(value, dict):
        kept = {k: _drop_empty(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, [], {})}
    if isinstance(value, list):
        return [_drop_empty(v) for v in value]
    return value
