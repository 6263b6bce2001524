"""Request bodies of the serving API, parsed through the databricks-sdk dataclasses.

The create body has no request dataclass in the SDK, so its top-level keys are read here and each
nested part goes through its own dataclass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from databricks.sdk.service.serving import (
    AiGatewayConfig,
    EmailNotifications,
    EndpointCoreConfigInput,
    EndpointTag,
    RateLimit,
    TelemetryConfig,
)

from lakeserve.emulator.errors import invalid
from lakeserve.emulator.wire import check_shape, parse, parse_list


@dataclass
class CreateEndpointRequest:
    name: Any
    config: EndpointCoreConfigInput | None
    ai_gateway: AiGatewayConfig | None = None
    tags: list[EndpointTag] = field(default_factory=list)
    email_notifications: EmailNotifications | None = None
    rate_limits: list[RateLimit] = field(default_factory=list)
    telemetry_config: TelemetryConfig | None = None
    description: str | None = None
    budget_policy_id: str | None = None
    route_optimized: bool | None = None


def parse_create(body: dict[str, Any]) -> CreateEndpointRequest:
    for key, kind in (("name", str), ("description", str), ("budget_policy_id", str),
                      ("route_optimized", bool)):
        check_shape(body.get(key), kind, key)
    return CreateEndpointRequest(
        name=body.get("name"),
        config=_optional(body, "config", EndpointCoreConfigInput),
        ai_gateway=_optional(body, "ai_gateway", AiGatewayConfig),
        tags=parse_list(body.get("tags"), EndpointTag, "tags"),
        email_notifications=_optional(body, "email_notifications", EmailNotifications),
        rate_limits=parse_list(body.get("rate_limits"), RateLimit, "rate_limits"),
        telemetry_config=_optional(body, "telemetry_config", TelemetryConfig),
        description=body.get("description"), budget_policy_id=body.get("budget_policy_id"),
        route_optimized=body.get("route_optimized"))


def parse_update_config(body: dict[str, Any], endpoint_name: str) -> EndpointCoreConfigInput:
    """``PUT .../config`` carries the config's fields at the top level."""
    config = parse(body, EndpointCoreConfigInput)
    config.name = endpoint_name
    return config


def parse_tag_patch(body: dict[str, Any]) -> tuple[list[EndpointTag], list[str]]:
    add = parse_list(body.get("add_tags"), EndpointTag, "add_tags")
    check_shape(body.get("delete_tags"), list[str], "delete_tags")
    return add, list(body.get("delete_tags") or [])


def _optional(body: dict[str, Any], key: str, cls: type) -> Any:
    value = body.get(key)
    if value is None:
        return None
    return parse(value, cls, key)


def require_config(request: CreateEndpointRequest) -> EndpointCoreConfigInput:
    if request.config is None:
        raise invalid("Missing required field: config")
    return request.config
