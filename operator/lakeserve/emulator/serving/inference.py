"""Inference tables (legacy ``auto_capture_config`` and AI Gateway's ``inference_table_config``)
and the rest of the AI Gateway config: required fields, defaults, and the write-once rule."""

from __future__ import annotations

import dataclasses
from typing import TypeVar

from databricks.sdk.service.serving import (
    AiGatewayConfig,
    AiGatewayInferenceTableConfig,
    AiGatewayRateLimit,
    AiGatewayRateLimitKey,
    AutoCaptureConfigInput,
    RateLimit,
    RateLimitKey,
)

from lakeserve.emulator.errors import invalid

TableConfig = TypeVar("TableConfig", AutoCaptureConfigInput, AiGatewayInferenceTableConfig)
_LOCATION_FIELDS = ("catalog_name", "schema_name", "table_name_prefix")


def normalize_table_config(config: TableConfig | None, endpoint_name: str,
                           field: str) -> TableConfig | None:
    """An unset ``enabled`` means enabled; enabling needs catalog and schema; the table-name
    prefix defaults to the endpoint name."""
    if config is None:
        return None
    enabled = True if config.enabled is None else config.enabled
    if enabled:
        for required in ("catalog_name", "schema_name"):
            if not getattr(config, required):
                raise invalid(f"{field}.{required} is required when enabling inference tables")
    prefix = config.table_name_prefix or (endpoint_name if enabled else None)
    return dataclasses.replace(config, enabled=enabled, table_name_prefix=prefix)


def check_table_change(old: TableConfig | None, new: TableConfig | None, field: str) -> None:
    """Catalog, schema and prefix cannot change while the inference table is enabled."""
    if not (old and old.enabled and new and new.enabled):
        return
    for name in _LOCATION_FIELDS:
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            raise invalid(f"Cannot change {field}.{name} from '{before}' to '{after}' while the "
                          "inference table is enabled. Disable the inference table first, then "
                          f"update {name}.")


def check_not_enabled_again(old: AutoCaptureConfigInput | None,
                            new: AutoCaptureConfigInput | None) -> None:
    """A legacy inference table, once disabled, cannot be enabled again on that endpoint."""
    if old is not None and old.enabled is False and new is not None and new.enabled:
        raise invalid("auto_capture_config cannot be enabled again: payload logging was "
                      "disabled on this endpoint, and a legacy inference table cannot be "
                      "re-enabled. Use the AI Gateway's inference_table_config instead.")


def normalize_ai_gateway(config: AiGatewayConfig | None, endpoint_name: str,
                         field: str) -> AiGatewayConfig | None:
    """``field`` is ``"ai_gateway"`` in a create body, ``""`` for ``PUT .../ai-gateway``."""
    if config is None:
        return None
    base = f"{field}." if field else ""
    rate_limits = [_gateway_rate_limit(limit, f"{base}rate_limits[{i}]")
                   for i, limit in enumerate(config.rate_limits or [])]
    if config.fallback_config is not None and config.fallback_config.enabled is None:
        raise invalid(f"{base}fallback_config.enabled is required")
    tables = normalize_table_config(config.inference_table_config, endpoint_name,
                                    f"{base}inference_table_config")
    gateway = dataclasses.replace(config, rate_limits=rate_limits or None,
                                  inference_table_config=tables)
    return gateway if gateway.as_dict() else None


def normalize_rate_limits(limits: list[RateLimit], field: str) -> list[RateLimit]:
    result = []
    for index, limit in enumerate(limits):
        for required in ("calls", "renewal_period"):
            if getattr(limit, required) is None:
                raise invalid(f"{field}[{index}].{required} is required")
        result.append(dataclasses.replace(limit, key=limit.key or RateLimitKey.ENDPOINT))
    return result


def _gateway_rate_limit(limit: AiGatewayRateLimit, field: str) -> AiGatewayRateLimit:
    if limit.renewal_period is None:
        raise invalid(f"{field}.renewal_period is required")
    if limit.calls is None and limit.tokens is None:
        raise invalid(f"{field}: one of calls or tokens is required")
    for name in ("calls", "tokens"):
        value = getattr(limit, name)
        if value is not None and value < 0:
            raise invalid(f"{field}.{name} must not be negative")
    key = limit.key or AiGatewayRateLimitKey.ENDPOINT
    if key in (AiGatewayRateLimitKey.USER_GROUP, AiGatewayRateLimitKey.SERVICE_PRINCIPAL) \
            and not limit.principal:
        raise invalid(f"{field}.principal is required when key is '{key.value}'")
    return dataclasses.replace(limit, key=key)
