"""Comparing the desired endpoint with what Databricks reports, without perpetual diffs.

Databricks fills and echoes fields the spec never set (workload type CPU, the mirrored legacy
``served_models``, both route name fields, tag order, gateway defaults). Each comparison below
looks only at what the spec controls, with Databricks' defaults applied to both sides.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from databricks.sdk.service.serving import (
    EndpointCoreConfigOutput,
    EndpointPendingConfig,
    ServedEntityOutput,
    ServingEndpointDetailed,
)

from lakeserve.resources import ucnames
from lakeserve.resources.servingendpoint import gateway
from lakeserve.resources.servingendpoint.desired import (
    DEFAULT_WORKLOAD_TYPE,
    DesiredEndpoint,
    DesiredEntity,
)

ServedConfig = EndpointCoreConfigOutput | EndpointPendingConfig


def config_diff(desired: DesiredEndpoint, served: ServedConfig | None) -> list[str]:
    """What differs between the desired served entities/routes/auto-capture and a config."""
    if served is None:
        return ["config"]
    diffs = _entity_diffs(desired.entities, served.served_entities or [])
    if desired.routes != observed_routes(served):
        diffs.append("trafficConfig.routes " + _routes_text(observed_routes(served)) + " -> "
                     + _routes_text(desired.routes))
    if desired.auto_capture is not None and \
            not _auto_capture_matches(desired.auto_capture, served):
        diffs.append("config.autoCaptureConfig")
    return diffs


def tag_changes(desired: DesiredEndpoint,
                endpoint: ServingEndpointDetailed) -> tuple[dict[str, str], list[str]]:
    """Tags to add or change, and tag keys to delete (the spec owns every tag)."""
    current = {t.key: t.value or "" for t in endpoint.tags or []}
    add = {k: v for k, v in desired.tags.items() if current.get(k) != v}
    delete = sorted(k for k in current if k not in desired.tags)
    return add, delete


def gateway_differs(desired: DesiredEndpoint, endpoint: ServingEndpointDetailed) -> bool:
    if desired.ai_gateway is None:
        return False  # not managed by this spec
    observed = endpoint.ai_gateway.as_dict() if endpoint.ai_gateway else {}
    return gateway.comparable(desired.ai_gateway, desired.name) != \
        gateway.comparable(observed, desired.name)


def notifications_differ(desired: DesiredEndpoint, endpoint: ServingEndpointDetailed) -> bool:
    if desired.email_notifications is None:
        return False
    observed = endpoint.email_notifications.as_dict() if endpoint.email_notifications else {}
    return _sorted_lists(desired.email_notifications) != _sorted_lists(observed)


def telemetry_differs(desired: DesiredEndpoint, endpoint: ServingEndpointDetailed,
                      status: Mapping[str, Any]) -> bool:
    """Databricks turns table_names into a telemetry profile and returns only the profile's id,
    so what was applied is known by the hash and profile id kept in status."""
    if desired.telemetry is None:
        return False  # not managed by this spec
    observed = endpoint.telemetry_config.telemetry_profile_id \
        if endpoint.telemetry_config else None
    wanted = desired.telemetry.get("telemetry_profile_id") or status.get("telemetryProfileId")
    return not observed or observed != wanted or \
        status.get("telemetryConfigHash") != desired.telemetry_hash()


def create_only_diffs(desired: DesiredEndpoint, endpoint: ServingEndpointDetailed) -> list[str]:
    observed = {"route_optimized": bool(endpoint.route_optimized),
                "description": endpoint.description or "",
                "budget_policy_id": endpoint.budget_policy_id or ""}
    names = {"route_optimized": "routeOptimized", "description": "description",
             "budget_policy_id": "budgetPolicyId"}
    return [names[key] for key, value in desired.create_only.items()
            if (bool(value) if key == "route_optimized" else value) != observed[key]]


def auto_capture_needs_recreate(desired: DesiredEndpoint, served: ServedConfig | None) -> bool:
    """Moving an enabled legacy inference table, or enabling one that was disabled: Databricks
    does neither in place (a disabled one cannot be enabled again)."""
    want = desired.auto_capture
    capture = served.auto_capture_config if served else None
    if want is None or capture is None or not want.get("enabled", True):
        return False
    return capture.enabled is False or not _auto_capture_matches(want, served)


def observed_routes(served: ServedConfig) -> tuple[tuple[str, int], ...]:
    routes = served.traffic_config.routes if served.traffic_config else []
    if not routes:
        entities = served.served_entities or []
        return tuple(sorted((e.name, 100 if i == 0 else 0) for i, e in enumerate(entities)))
    return tuple(sorted((r.served_entity_name or r.served_model_name, r.traffic_percentage or 0)
                        for r in routes))


def _entity_diffs(desired: tuple[DesiredEntity, ...],
                  observed: list[ServedEntityOutput]) -> list[str]:
    by_name = {e.name: e for e in observed}
    diffs = []
    for entity in desired:
        current = by_name.get(entity.name)
        if current is None:
            diffs.append(f"servedEntities[{entity.name}] added")
            continue
        diffs.extend(f"servedEntities[{entity.name}].{field}" for field in
                     _entity_field_diffs(entity, current))
    wanted = {e.name for e in desired}
    diffs.extend(f"servedEntities[{name}] removed" for name in by_name if name not in wanted)
    return diffs


def _entity_field_diffs(entity: DesiredEntity, current: ServedEntityOutput) -> list[str]:
    changed = []
    observed_name = ucnames.fold(current.entity_name)
    current_version = "" if current.entity_version is None else str(current.entity_version)
    if (entity.entity_name, entity.entity_version) != (observed_name, current_version):
        changed.append(f"entityVersion {current.entity_version} -> {entity.entity_version}"
                       if entity.entity_name == observed_name else "entityName")
    workload_type = current.workload_type.value if current.workload_type else DEFAULT_WORKLOAD_TYPE
    if entity.workload_type != workload_type:
        changed.append("workloadType")
    if entity.scale_to_zero_enabled != bool(current.scale_to_zero_enabled):
        changed.append("scaleToZeroEnabled")
    if dict(entity.environment_vars) != (current.environment_vars or {}):
        changed.append("environmentVars")
    if entity.instance_profile_arn != (current.instance_profile_arn or None):
        changed.append("instanceProfileArn")
    if entity.sizing is not None and entity.sizing != _observed_sizing(entity.sizing, current):
        changed.append("workloadSize" if entity.sizing[0] == "size" else "provisionedConcurrency")
    return changed


def _observed_sizing(wanted: tuple, current: ServedEntityOutput) -> tuple:
    if wanted[0] == "size":
        return ("size", current.workload_size)
    return ("concurrency", current.min_provisioned_concurrency,
            current.max_provisioned_concurrency)


def _auto_capture_matches(config: dict[str, Any], served: ServedConfig) -> bool:
    capture = served.auto_capture_config
    if capture is None:
        return not config.get("enabled", True)
    observed_enabled = True if capture.enabled is None else capture.enabled
    if config.get("enabled", True) != observed_enabled:
        return False
    if not observed_enabled:
        return True  # location of a disabled table does not matter
    # Databricks fills the prefix from the endpoint name when the spec leaves it out.
    prefix_matches = config.get("table_name_prefix") in (
        None, ucnames.fold_part(capture.table_name_prefix))
    observed = (ucnames.fold_part(capture.catalog_name), ucnames.fold_part(capture.schema_name))
    return (config.get("catalog_name"), config.get("schema_name")) == observed and prefix_matches


def _routes_text(routes: tuple[tuple[str, int], ...]) -> str:
    return ",".join(f"{name}={pct}" for name, pct in routes) if routes else "none"


def _sorted_lists(value: dict[str, Any]) -> dict[str, Any]:
    return {k: sorted(v) for k, v in value.items() if v}
