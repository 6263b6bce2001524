"""How GET echoes what was sent, where no source says exactly (docs/fidelity.md).

``Echo`` carries the answer-choosing settings that shape responses; ``render`` applies them.
``ai_gateway_echo``: ``prefix_filled`` returns the gateway config as stored (an inference table's
``table_name_prefix`` defaulted to the endpoint name), ``prefix_omitted`` leaves a defaulted
prefix out, ``defaults_filled`` also returns every part that was never set, switched off.
``served_entities_order``: served entities (and models) in the order sent, or reversed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TypeVar

from databricks.sdk.service.serving import (
    AiGatewayConfig,
    AiGatewayGuardrailParameters,
    AiGatewayGuardrailPiiBehavior,
    AiGatewayGuardrailPiiBehaviorBehavior,
    AiGatewayGuardrails,
    AiGatewayUsageTrackingConfig,
    FallbackConfig,
)

from lakeserve.emulator.settings import EmulatorSettings

T = TypeVar("T")


@dataclass(frozen=True)
class Echo:
    ai_gateway: str = "prefix_filled"
    entity_order: str = "as_sent"

    @classmethod
    def of(cls, settings: EmulatorSettings) -> Echo:
        return cls(ai_gateway=settings.ai_gateway_echo,
                   entity_order=settings.served_entities_order)


def ordered(items: list[T], echo: Echo) -> list[T]:
    return items[::-1] if echo.entity_order == "reversed" else items


def gateway(config: AiGatewayConfig | None, echo: Echo,
            endpoint_name: str) -> AiGatewayConfig | None:
    if echo.ai_gateway == "prefix_omitted":
        return _without_default_prefix(config, endpoint_name)
    if echo.ai_gateway != "defaults_filled":
        return config
    config = config or AiGatewayConfig()
    return dataclasses.replace(
        config,
        usage_tracking_config=config.usage_tracking_config or AiGatewayUsageTrackingConfig(
            enabled=False),
        fallback_config=config.fallback_config or FallbackConfig(enabled=False),
        guardrails=_guardrails(config.guardrails))


def _without_default_prefix(config: AiGatewayConfig | None,
                            endpoint_name: str) -> AiGatewayConfig | None:
    table = config.inference_table_config if config else None
    if table is None or table.table_name_prefix != endpoint_name:
        return config
    return dataclasses.replace(config, inference_table_config=dataclasses.replace(
        table, table_name_prefix=None))


def _guardrails(guardrails: AiGatewayGuardrails | None) -> AiGatewayGuardrails:
    guardrails = guardrails or AiGatewayGuardrails()
    return AiGatewayGuardrails(input=_filled(guardrails.input), output=_filled(guardrails.output))


def _filled(params: AiGatewayGuardrailParameters | None) -> AiGatewayGuardrailParameters:
    params = params or AiGatewayGuardrailParameters()
    none = AiGatewayGuardrailPiiBehavior(behavior=AiGatewayGuardrailPiiBehaviorBehavior.NONE)
    return dataclasses.replace(params, safety=bool(params.safety), pii=params.pii or none)
