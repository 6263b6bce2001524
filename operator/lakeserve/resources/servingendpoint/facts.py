"""Observed endpoint facts for the ServingEndpoint status (camelCase, None removes a field)."""

from __future__ import annotations

from typing import Any

from databricks.sdk.service.serving import (
    EndpointStateConfigUpdate,
    ServedEntityOutput,
    ServingEndpointDetailed,
)

from lakeserve.resources.servingendpoint.compare import ServedConfig, observed_routes
from lakeserve.resources.servingendpoint.desired import DesiredEndpoint

EMPTY_FACTS: dict[str, Any] = {
    "endpointId": None, "url": None, "state": None, "configVersion": None,
    "servedEntities": None, "routes": None, "pendingServedEntities": None,
    "inferenceTable": None,
}


def endpoint_facts(endpoint: ServingEndpointDetailed, desired: DesiredEndpoint,
                   host: str) -> dict[str, Any]:
    state = endpoint.state
    serving = endpoint.config or None
    pending = endpoint.pending_config
    shown = serving or pending
    aliases = {e.name: e.entity_alias for e in desired.entities}
    return {
        **EMPTY_FACTS,
        "endpointName": endpoint.name,
        "endpointId": endpoint.id,
        "url": query_url(endpoint, host),
        "state": {
            "ready": state.ready.value if state and state.ready else None,
            "configUpdate": state.config_update.value if state and state.config_update else None,
        },
        "configVersion": serving.config_version if serving else None,
        "servedEntities": _entities(shown, aliases) if shown else None,
        "routes": _routes(shown) if shown else None,
        "pendingServedEntities": _entities(pending, aliases) if pending and serving else None,
        "inferenceTable": inference_table(endpoint),
    }


def query_url(endpoint: ServingEndpointDetailed, host: str) -> str:
    """Where the endpoint answers queries: a route-optimized endpoint at its own endpoint_url
    (Databricks docs, "Query route-optimized serving endpoints"), others at the workspace."""
    plane = endpoint.data_plane_info.query_info if endpoint.data_plane_info else None
    return endpoint.endpoint_url or (plane.endpoint_url if plane else None) or \
        f"{host}/serving-endpoints/{endpoint.name}/invocations"


def failing_entities(config: ServedConfig | None) -> str:
    """'name: message' for each entity whose deployment failed, or a generic note."""
    failed = []
    for entity in (config.served_entities if config else None) or []:
        deployment = entity.state.deployment.value if entity.state and \
            entity.state.deployment else ""
        if deployment in ("DEPLOYMENT_FAILED", "DEPLOYMENT_ABORTED"):
            message = entity.state.deployment_state_message or deployment
            version = f" v{entity.entity_version}" if entity.entity_version else ""
            failed.append(f"{entity.name} ({entity.entity_name}{version}): {message}")
    return "; ".join(failed) or "Databricks reports the update failed without an entity message"


def is_in_progress(endpoint: ServingEndpointDetailed) -> bool:
    return _config_update(endpoint) is EndpointStateConfigUpdate.IN_PROGRESS


def has_failed(endpoint: ServingEndpointDetailed) -> bool:
    return _config_update(endpoint) in (EndpointStateConfigUpdate.UPDATE_FAILED,
                                        EndpointStateConfigUpdate.UPDATE_CANCELED)


def inference_table(endpoint: ServingEndpointDetailed) -> str | None:
    capture = endpoint.config.auto_capture_config if endpoint.config else None
    if capture and capture.state and capture.state.payload_table and \
            capture.state.payload_table.name:
        return f"{capture.catalog_name}.{capture.schema_name}.{capture.state.payload_table.name}"
    gateway = endpoint.ai_gateway.inference_table_config if endpoint.ai_gateway else None
    if gateway and gateway.enabled is not False and gateway.catalog_name:
        prefix = gateway.table_name_prefix or endpoint.name
        return f"{gateway.catalog_name}.{gateway.schema_name}.{prefix}_payload"
    return None


def _config_update(endpoint: ServingEndpointDetailed) -> EndpointStateConfigUpdate | None:
    return endpoint.state.config_update if endpoint.state else None


def _entities(config: ServedConfig, aliases: dict[str, str | None]) -> list[dict[str, Any]]:
    return [_entity(e, aliases.get(e.name)) for e in config.served_entities or []]


def _entity(entity: ServedEntityOutput, alias: str | None) -> dict[str, Any]:
    state = entity.state
    return {
        "name": entity.name,
        "entityName": entity.entity_name,
        "entityVersion": str(entity.entity_version) if entity.entity_version else None,
        "entityAlias": alias,
        "deploymentState": state.deployment.value if state and state.deployment else None,
        "message": state.deployment_state_message if state else None,
    }


def _routes(config: ServedConfig) -> list[dict[str, Any]]:
    return [{"servedEntityName": name, "trafficPercentage": pct}
            for name, pct in observed_routes(config)]
