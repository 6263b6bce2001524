"""The checks Model Serving does on an endpoint's name, tags and config, and the defaults it fills.

Pure functions over databricks-sdk dataclasses; every failure is a 400 ``INVALID_PARAMETER_VALUE``
naming the field (``config.served_entities[1].name``) and the problem.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from databricks.sdk.service.serving import (
    AutoCaptureConfigInput,
    EndpointCoreConfigInput,
    EndpointTag,
    Route,
    ServedEntityInput,
    ServedModelInput,
    ServingModelWorkloadType,
    TrafficConfig,
)

from lakeserve.emulator.errors import invalid, not_found
from lakeserve.emulator.serving.inference import normalize_table_config

NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]+")
MAX_ENDPOINT_NAME_LENGTH = 63
MAX_SERVED_ENTITIES = 10  # SDK ServingEndpointsAPI docstring; Terraform provider docs
MAX_ENVIRONMENT_VARS = 30
WORKLOAD_SIZES = ("Small", "Medium", "Large")
READY = "READY"

# (entity_name, entity_version) -> registry status ("READY", ...) or None when it does not exist.
VersionLookup = Callable[[str, str], "str | None"]
# entity_name -> whether it is a Unity Catalog function of type FEATURE_SPEC.
FeatureSpecLookup = Callable[[str], bool]


@dataclass(frozen=True)
class NormalizedConfig:
    """A config as the service keeps it: defaults filled, routes naming entities both ways."""

    entities: list[ServedEntityInput]
    routes: list[Route]
    auto_capture: AutoCaptureConfigInput | None
    external: bool  # serves external models (an endpoint never switches kind)


def validate_endpoint_name(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise invalid("Missing required field: name")
    if len(name) > MAX_ENDPOINT_NAME_LENGTH:
        raise invalid(f"Endpoint name '{name}' is too long: it must be at most "
                      f"{MAX_ENDPOINT_NAME_LENGTH} characters, got {len(name)}")
    if not NAME_PATTERN.fullmatch(name):
        raise invalid(f"Endpoint name '{name}' is invalid: it may contain only alphanumeric "
                      "characters, dashes and underscores")
    return name


def normalize_tags(tags: list[EndpointTag], field: str) -> dict[str, str | None]:
    result: dict[str, str | None] = {}
    for index, tag in enumerate(tags):
        if not tag.key:
            raise invalid(f"{field}[{index}].key is required")
        if tag.key in result:
            raise invalid(f"{field} contains the key '{tag.key}' more than once")
        result[tag.key] = tag.value
    return result


def normalize_config(config: EndpointCoreConfigInput, endpoint_name: str,
                     prefix: str) -> NormalizedConfig:
    """Validate a create/update config; ``prefix`` is ``"config."`` on create, ``""`` on update."""
    entities, field = _entities(config, prefix)
    if len(entities) > MAX_SERVED_ENTITIES:
        raise invalid(f"{prefix}{field} has {len(entities)} entries; an endpoint can serve at "
                      f"most {MAX_SERVED_ENTITIES} entities")
    entities = [_entity(entity, f"{prefix}{field}[{i}]") for i, entity in enumerate(entities)]
    _check_names_unique(entities, f"{prefix}{field}")
    external = _check_one_kind(entities, f"{prefix}{field}")
    routes = _routes(config.traffic_config, entities, f"{prefix}traffic_config")
    auto_capture = normalize_table_config(config.auto_capture_config, endpoint_name,
                                          f"{prefix}auto_capture_config")
    return NormalizedConfig(entities, routes, auto_capture, external)


def check_versions_servable(entities: list[ServedEntityInput], lookup: VersionLookup,
                            is_feature_spec: FeatureSpecLookup = lambda name: False) -> None:
    """Each registry model version exists and is READY (404 naming the model and version); an
    entity without a version is a feature spec that exists (404 otherwise)."""
    for entity in entities:
        if entity.external_model is not None:
            continue
        if not entity.entity_version:
            _check_feature_spec(entity, is_feature_spec)
            continue
        status = lookup(entity.entity_name or "", entity.entity_version or "")
        if status is None:
            raise not_found(f"Model version {entity.entity_version} of model "
                            f"'{entity.entity_name}' does not exist.")
        if status != READY:
            raise not_found(f"Model version {entity.entity_version} of model "
                            f"'{entity.entity_name}' is not ready to be served (status "
                            f"{status}); only READY model versions can be served.")


def _check_feature_spec(entity: ServedEntityInput, is_feature_spec: FeatureSpecLookup) -> None:
    if not is_feature_spec(entity.entity_name or ""):
        raise not_found(f"Served entity '{entity.name}' names '{entity.entity_name}' without an "
                        "entity_version, but no feature spec (a Unity Catalog function of type "
                        "FEATURE_SPEC) of that name exists. Give the model version to serve, or "
                        "create the feature spec first.")


def _entities(config: EndpointCoreConfigInput, prefix: str) -> tuple[list[ServedEntityInput], str]:
    if config.served_entities and config.served_models:
        raise invalid(f"Only one of {prefix}served_entities and {prefix}served_models may be "
                      "specified; served_models is deprecated, use served_entities")
    if config.served_models:
        return [_from_served_model(m, f"{prefix}served_models[{i}]")
                for i, m in enumerate(config.served_models)], "served_models"
    if not config.served_entities:
        raise invalid(f"{prefix}served_entities must contain at least one served entity")
    return list(config.served_entities), "served_entities"


def _from_served_model(model: ServedModelInput, field: str) -> ServedEntityInput:
    for required in ("model_name", "model_version", "scale_to_zero_enabled"):
        if getattr(model, required) is None:
            raise invalid(f"{field}.{required} is required")
    shared = {f.name: getattr(model, f.name) for f in dataclasses.fields(ServedEntityInput)
              if hasattr(model, f.name)}
    shared["workload_type"] = (ServingModelWorkloadType(model.workload_type.value)
                               if model.workload_type else None)
    return ServedEntityInput(**shared, entity_name=model.model_name,
                             entity_version=model.model_version)


def _entity(entity: ServedEntityInput, field: str) -> ServedEntityInput:
    if entity.external_model is not None:
        return _external_entity(entity, field)
    if not entity.entity_name:
        raise invalid(f"{field}: one of entity_name or external_model is required")
    _check_scaling(entity, field)
    _check_environment(entity, field)
    # Without a version the entity is a feature spec (checked against the catalog later).
    suffix = f"-{entity.entity_version}" if entity.entity_version else ""
    name = entity.name or f"{entity.entity_name.split('.')[-1]}{suffix}"
    _check_entity_name(name, field)
    return dataclasses.replace(
        entity, name=name,
        workload_type=entity.workload_type or ServingModelWorkloadType.CPU,
        scale_to_zero_enabled=bool(entity.scale_to_zero_enabled))


def _external_entity(entity: ServedEntityInput, field: str) -> ServedEntityInput:
    model = entity.external_model
    for clashing in ("entity_name", "entity_version", "workload_size", "workload_type",
                     "scale_to_zero_enabled"):
        if getattr(entity, clashing) is not None:
            raise invalid(f"{field}: {clashing} cannot be specified together with "
                          "external_model")
    for required in ("provider", "name", "task"):
        if not getattr(model, required):
            raise invalid(f"{field}.external_model.{required} is required")
    _check_environment(entity, field)
    name = entity.name or re.sub(r"[.:]", "-", model.name)
    _check_entity_name(name, field)
    return dataclasses.replace(entity, name=name)


def _check_scaling(entity: ServedEntityInput, field: str) -> None:
    concurrency = (entity.min_provisioned_concurrency, entity.max_provisioned_concurrency)
    if entity.workload_size is not None:
        if any(value is not None for value in concurrency):
            raise invalid(f"{field}: workload_size cannot be combined with "
                          "min_provisioned_concurrency or max_provisioned_concurrency")
        if entity.workload_size not in WORKLOAD_SIZES:
            raise invalid(f"{field}.workload_size '{entity.workload_size}' is invalid; "
                          f"expected one of: {', '.join(WORKLOAD_SIZES)}")
    low, high = concurrency
    for label, value in (("min", low), ("max", high)):
        if value is not None and value < 0:
            raise invalid(f"{field}.{label}_provisioned_concurrency must not be negative")
    if low is not None and high is not None and low > high:
        raise invalid(f"{field}: min_provisioned_concurrency ({low}) must not exceed "
                      f"max_provisioned_concurrency ({high})")


def _check_environment(entity: ServedEntityInput, field: str) -> None:
    variables = entity.environment_vars or {}
    if len(variables) > MAX_ENVIRONMENT_VARS:
        raise invalid(f"{field}.environment_vars has {len(variables)} variables; at most "
                      f"{MAX_ENVIRONMENT_VARS} are allowed")
    if any(not key for key in variables):
        raise invalid(f"{field}.environment_vars has an empty variable name")


def _check_entity_name(name: str, field: str) -> None:
    if not NAME_PATTERN.fullmatch(name):
        raise invalid(f"{field}.name '{name}' is invalid: a served entity name may contain "
                      "only alphanumeric characters, dashes and underscores")


def _check_names_unique(entities: list[ServedEntityInput], field: str) -> None:
    seen: set[str] = set()
    for entity in entities:
        if entity.name in seen:
            raise invalid(f"{field} has more than one served entity named '{entity.name}'; "
                          "served entity names must be unique within an endpoint")
        seen.add(entity.name or "")


def _check_one_kind(entities: list[ServedEntityInput], field: str) -> bool:
    kinds = {entity.external_model is not None for entity in entities}
    if len(kinds) > 1:
        raise invalid(f"{field} mixes external models with other served entities; an endpoint "
                      "serves either external models or custom models")
    return kinds == {True}


def _routes(traffic: TrafficConfig | None, entities: list[ServedEntityInput],
            field: str) -> list[Route]:
    names = [entity.name or "" for entity in entities]
    if traffic is None or not traffic.routes:
        if len(names) > 1:
            raise invalid(f"{field} is required when the config has more than one served "
                          "entity: specify the traffic percentage of each")
        return [Route(traffic_percentage=100, served_entity_name=names[0],
                      served_model_name=names[0])]
    routes = [_route(route, names, f"{field}.routes[{i}]")
              for i, route in enumerate(traffic.routes)]
    _check_routes_distinct(routes, f"{field}.routes")
    total = sum(route.traffic_percentage for route in routes)
    if total != 100:
        raise invalid(f"The traffic percentages in {field}.routes must add up to 100, "
                      f"but they add up to {total}")
    return routes


def _route(route: Route, names: list[str], field: str) -> Route:
    target = route.served_entity_name or route.served_model_name
    if not target:
        raise invalid(f"{field}.served_entity_name is required")
    if route.served_entity_name and route.served_model_name \
            and route.served_entity_name != route.served_model_name:
        raise invalid(f"{field}: served_entity_name '{route.served_entity_name}' and "
                      f"served_model_name '{route.served_model_name}' differ")
    if target not in names:
        raise invalid(f"{field} routes traffic to '{target}', which is not a served entity of "
                      f"this config (served entities: {', '.join(names)})")
    percentage = route.traffic_percentage
    if percentage is None or not 0 <= percentage <= 100:
        raise invalid(f"{field}.traffic_percentage must be between 0 and 100, got {percentage}")
    return Route(traffic_percentage=percentage, served_entity_name=target,
                 served_model_name=target)


def _check_routes_distinct(routes: list[Route], field: str) -> None:
    seen: set[str] = set()
    for route in routes:
        if route.served_entity_name in seen:
            raise invalid(f"{field} has more than one route to '{route.served_entity_name}'")
        seen.add(route.served_entity_name or "")
