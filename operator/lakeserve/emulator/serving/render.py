"""Endpoint records -> the databricks-sdk response dataclasses, echoed as Databricks does:
``served_models`` mirrored beside ``served_entities``, routes naming both, tags sorted by key,
backend defaults filled, ``creator``/timestamps/``permission_level``, ``description`` always
returned (empty when unset) and ``burst_scaling_enabled`` never (as Databricks' own fake
workspace, ``libs/testserver/serving_endpoints.go`` in databricks/cli, mirrors its backend)."""

from __future__ import annotations

import dataclasses

from databricks.sdk.service.serving import (
    AutoCaptureConfigInput,
    DataPlaneInfo,
    ModelDataPlaneInfo,
    AutoCaptureConfigOutput,
    AutoCaptureState,
    EndpointCoreConfigOutput,
    EndpointCoreConfigSummary,
    EndpointPendingConfig,
    EndpointState,
    EndpointTag,
    PayloadTable,
    ServedEntityInput,
    ServedEntityOutput,
    ServedEntitySpec,
    ServedModelOutput,
    ServedModelSpec,
    ServingEndpoint,
    ServingEndpointDetailed,
    ServingEndpointDetailedPermissionLevel,
    TrafficConfig,
)

from lakeserve.emulator.clock import millis
from lakeserve.emulator.serving import echo as echoes
from lakeserve.emulator.serving.echo import Echo
from lakeserve.emulator.serving.lifecycle import entity_state
from lakeserve.emulator.serving.model import ConfigRevision, Endpoint

# Sent but not returned by GET.
_NOT_ECHOED = {"burst_scaling_enabled"}
_ENTITY_INPUT_FIELDS = [f.name for f in dataclasses.fields(ServedEntityInput)
                        if f.name not in _NOT_ECHOED]
_MODEL_OUTPUT_FIELDS = {f.name for f in dataclasses.fields(ServedModelOutput)}


def detailed(endpoint: Endpoint, echo: Echo = Echo()) -> ServingEndpointDetailed:
    active, pending = endpoint.active, endpoint.pending
    return ServingEndpointDetailed(
        name=endpoint.name, id=endpoint.id, creator=endpoint.creator,
        creation_timestamp=millis(endpoint.created_at),
        last_updated_timestamp=millis(endpoint.updated_at),
        description=endpoint.description or "", budget_policy_id=endpoint.budget_policy_id,
        tags=tags(endpoint.tags), state=state(endpoint),
        config=_core_output(endpoint, active, echo) if active else None,
        pending_config=_pending_output(endpoint, pending, echo) if pending else None,
        ai_gateway=echoes.gateway(endpoint.ai_gateway, echo, endpoint.name),
        email_notifications=endpoint.email_notifications, route_optimized=endpoint.route_optimized,
        endpoint_url=endpoint.endpoint_url, data_plane_info=_data_plane(endpoint),
        permission_level=ServingEndpointDetailedPermissionLevel.CAN_MANAGE,
        telemetry_config=endpoint.telemetry_config)


def _data_plane(endpoint: Endpoint) -> ModelDataPlaneInfo | None:
    if not endpoint.endpoint_url:
        return None
    return ModelDataPlaneInfo(query_info=DataPlaneInfo(endpoint_url=endpoint.endpoint_url))


def summary(endpoint: Endpoint) -> ServingEndpoint:
    active = endpoint.active
    return ServingEndpoint(
        name=endpoint.name, id=endpoint.id, creator=endpoint.creator,
        creation_timestamp=millis(endpoint.created_at),
        last_updated_timestamp=millis(endpoint.updated_at),
        description=endpoint.description, budget_policy_id=endpoint.budget_policy_id,
        tags=tags(endpoint.tags), state=state(endpoint), ai_gateway=endpoint.ai_gateway,
        config=_summary_config(active) if active else None,
        telemetry_config=endpoint.telemetry_config)


def tags(values: dict[str, str | None]) -> list[EndpointTag]:
    return [EndpointTag(key=key, value=values[key]) for key in sorted(values)]


def state(endpoint: Endpoint) -> EndpointState:
    return EndpointState(config_update=endpoint.config_update, ready=endpoint.ready)


def _core_output(endpoint: Endpoint, revision: ConfigRevision,
                 echo: Echo) -> EndpointCoreConfigOutput:
    entities, models = _served(endpoint, revision, echo)
    return EndpointCoreConfigOutput(
        config_version=revision.version, served_entities=entities, served_models=models,
        traffic_config=TrafficConfig(routes=list(revision.routes)),
        auto_capture_config=_auto_capture(revision.auto_capture))


def _pending_output(endpoint: Endpoint, revision: ConfigRevision,
                    echo: Echo) -> EndpointPendingConfig:
    entities, models = _served(endpoint, revision, echo)
    return EndpointPendingConfig(
        config_version=revision.version, served_entities=entities, served_models=models,
        traffic_config=TrafficConfig(routes=list(revision.routes)),
        auto_capture_config=_auto_capture(revision.auto_capture),
        start_time=millis(revision.submitted_at))


def _served(endpoint: Endpoint, revision: ConfigRevision,
            echo: Echo) -> tuple[list[ServedEntityOutput], list[ServedModelOutput]]:
    entities, models = [], []
    for entity in revision.entities:
        common = {name: getattr(entity, name) for name in _ENTITY_INPUT_FIELDS}
        extra = {"creator": revision.creator,
                 "creation_timestamp": millis(revision.submitted_at),
                 "state": entity_state(endpoint, revision, entity.name or "")}
        entities.append(ServedEntityOutput(**common, **extra))
        if entity.external_model is None and entity.entity_version:  # not a feature spec
            models.append(_served_model(common, extra))
    return echoes.ordered(entities, echo), echoes.ordered(models, echo)


def _served_model(common: dict, extra: dict) -> ServedModelOutput:
    fields = {k: v for k, v in common.items() if k in _MODEL_OUTPUT_FIELDS}
    return ServedModelOutput(**fields, **extra, model_name=common["entity_name"],
                             model_version=common["entity_version"])


def _summary_config(revision: ConfigRevision) -> EndpointCoreConfigSummary:
    entities = [ServedEntitySpec(name=e.name, entity_name=e.entity_name,
                                 entity_version=e.entity_version, external_model=e.external_model)
                for e in revision.entities]
    models = [ServedModelSpec(name=e.name, model_name=e.entity_name,
                              model_version=e.entity_version)
              for e in revision.entities if e.external_model is None and e.entity_version]
    return EndpointCoreConfigSummary(served_entities=entities, served_models=models)


def _auto_capture(config: AutoCaptureConfigInput | None) -> AutoCaptureConfigOutput | None:
    if config is None:
        return None
    table_state = None
    if config.enabled:
        table_state = AutoCaptureState(payload_table=PayloadTable(
            name=f"{config.table_name_prefix}_payload", status="ACTIVE"))
    return AutoCaptureConfigOutput(catalog_name=config.catalog_name,
                                   schema_name=config.schema_name,
                                   table_name_prefix=config.table_name_prefix,
                                   enabled=config.enabled, state=table_state)
