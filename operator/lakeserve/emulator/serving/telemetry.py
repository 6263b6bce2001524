"""Endpoint telemetry (``PATCH .../telemetry-config``) as Databricks applies it.

``table_names`` are consumed into a new telemetry profile: GET returns only its
``telemetry_profile_id`` (and the inference-table config, whose table is named after the logs
table + ``_payload``). A config naming neither tables nor a profile keeps the current one; an
omitted config removes it. Only endpoints serving custom models take telemetry: the PATCH is
refused (400) for others, and create silently drops what it cannot apply. As the fake workspace
Databricks wrote for its CLI encodes it (``libs/testserver/serving_endpoints.go``).
"""

from __future__ import annotations

import dataclasses
import uuid

from databricks.sdk.service.serving import TelemetryConfig

from lakeserve.emulator.errors import invalid
from lakeserve.emulator.serving.model import Endpoint


def applied(previous: TelemetryConfig | None,
            config: TelemetryConfig | None) -> TelemetryConfig | None:
    if config is None:
        return None
    if config.table_names is None and not config.telemetry_profile_id:
        return previous
    profile = config.telemetry_profile_id or str(uuid.uuid4())  # tables: a new profile
    table = config.inference_table_config
    if table is not None and config.table_names is not None:
        table = dataclasses.replace(table, name=f"{config.table_names.logs_table}_payload")
    return TelemetryConfig(telemetry_profile_id=profile, inference_table_config=table)


def unsupported(endpoint: Endpoint) -> str | None:
    """The endpoint type that cannot take telemetry, or None when it can."""
    revision = endpoint.latest
    if revision is None or not revision.entities:
        return "NO_CONFIG"
    if any(e.external_model is None and e.entity_name for e in revision.entities):
        return None
    return "EXTERNAL_MODELS"


def refuse_unsupported(endpoint: Endpoint) -> None:
    kind = unsupported(endpoint)
    if kind is not None:
        raise invalid(f"Telemetry configuration is not supported for endpoint type '{kind}'. "
                      "This API only supports endpoints with custom served models.")
