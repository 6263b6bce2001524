"""Which payload tables an endpoint logs to, and one logged request as a row of that table.

Columns follow Databricks' inference table schema (legacy ``auto_capture_config`` tables) plus the
AI Gateway table's ``served_entity_id`` and ``requester``, and ``served_model_name`` (the served
entity that answered, as the ``served-model-name`` header says). A request or response over 1 MiB
is not logged, as Databricks documents.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
from databricks.sdk.service.serving import AiGatewayConfig, AutoCaptureConfigInput

MAX_LOGGED_BYTES = 1024 * 1024
PAYLOAD_SUFFIX = "_payload"

SCHEMA = pa.schema([
    pa.field("databricks_request_id", pa.string()),
    pa.field("client_request_id", pa.string()),
    pa.field("date", pa.date32()),
    pa.field("timestamp_ms", pa.int64()),
    pa.field("status_code", pa.int32()),
    pa.field("sampling_fraction", pa.float64()),
    pa.field("execution_time_ms", pa.int64()),
    pa.field("request", pa.string()),
    pa.field("response", pa.string()),
    pa.field("served_entity_id", pa.string()),
    pa.field("served_model_name", pa.string()),
    pa.field("requester", pa.string()),
    pa.field("request_metadata", pa.map_(pa.string(), pa.string())),
])


@dataclass(frozen=True)
class PayloadTable:
    """``<catalog>.<schema>.<prefix>_payload``; UC folds identifiers to lower case."""

    catalog: str
    schema: str
    prefix: str

    @property
    def table(self) -> str:
        return f"{self.prefix}{PAYLOAD_SUFFIX}".lower()

    @property
    def full_name(self) -> str:
        return f"{self.catalog.lower()}.{self.schema.lower()}.{self.table}"

    def path(self, data_dir: Path) -> Path:
        return Path(data_dir) / "catalog" / self.catalog.lower() / self.schema.lower() / self.table


@dataclass(frozen=True)
class LoggedCall:
    """What the invocation path knows about one answered request."""

    request_id: str
    client_request_id: str | None
    arrived_at: float  # seconds since the epoch
    status_code: int
    execution_ms: int
    request: bytes
    response: bytes
    endpoint_name: str
    served_entity_name: str
    served_entity_id: str
    entity_name: str
    entity_version: str
    requester: str | None


def payload_tables(auto_capture: AutoCaptureConfigInput | None,
                   ai_gateway: AiGatewayConfig | None,
                   endpoint_name: str) -> tuple[PayloadTable, ...]:
    """The enabled tables of the served config and of the AI Gateway (each once)."""
    configs = [auto_capture, ai_gateway.inference_table_config if ai_gateway else None]
    tables: list[PayloadTable] = []
    for config in configs:
        if config is None or config.enabled is False \
                or not (config.catalog_name and config.schema_name):
            continue
        table = PayloadTable(config.catalog_name.lower(), config.schema_name.lower(),
                             (config.table_name_prefix or endpoint_name).lower())
        if table not in tables:
            tables.append(table)
    return tuple(tables)


def build_row(call: LoggedCall, sampling_fraction: float = 1.0) -> dict[str, Any] | None:
    """The table row of a call, or None when its request or response is too large to log."""
    if len(call.request) > MAX_LOGGED_BYTES or len(call.response) > MAX_LOGGED_BYTES:
        return None
    arrived = datetime.datetime.fromtimestamp(call.arrived_at, tz=datetime.timezone.utc)
    return {
        "databricks_request_id": call.request_id,
        "client_request_id": call.client_request_id,
        "date": arrived.date(),
        "timestamp_ms": int(call.arrived_at * 1000),
        "status_code": call.status_code,
        "sampling_fraction": sampling_fraction,
        "execution_time_ms": call.execution_ms,
        "request": call.request.decode("utf-8", errors="replace"),
        "response": call.response.decode("utf-8", errors="replace"),
        "served_entity_id": call.served_entity_id,
        "served_model_name": call.served_entity_name,
        "requester": call.requester,
        "request_metadata": {"endpoint_name": call.endpoint_name,
                             "model_name": call.entity_name,
                             "model_version": call.entity_version,
                             "served_entity_name": call.served_entity_name},
    }


def to_arrow(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=SCHEMA)
