"""What the emulator keeps per serving endpoint."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol

from databricks.sdk.service.serving import (
    AiGatewayConfig,
    AutoCaptureConfigInput,
    EmailNotifications,
    EndpointStateConfigUpdate,
    EndpointStateReady,
    RateLimit,
    Route,
    ServedEntityInput,
    TelemetryConfig,
)

from lakeserve.emulator.persistence import TRANSIENT


class Deployment(Protocol):
    """What serves a revision's entities (the invocations area loads their models)."""

    def outcome(self) -> dict[str, str] | None:
        """None while the served entities are still starting; then the failure message of each
        entity that could not start (empty when all are up)."""


class ChangeKind(enum.Enum):
    """Which delay setting applies to a config revision."""

    CREATE = "create"
    UPDATE = "update"


@dataclass
class ConfigRevision:
    """One submitted config: served entities (defaults filled) and routes."""

    version: int
    kind: ChangeKind
    entities: list[ServedEntityInput]
    routes: list[Route]
    auto_capture: AutoCaptureConfigInput | None
    submitted_at: float
    creator: str
    # served entity name -> deployment failure message (decided when the revision is submitted)
    failures: dict[str, str] = field(default_factory=dict)
    external: bool = False
    # None: nothing to wait for when the delay has passed. Not persisted: a restart deploys again.
    deployment: Deployment | None = field(default=None, metadata=TRANSIENT)


@dataclass
class Endpoint:
    name: str
    id: str
    creator: str
    created_at: float
    updated_at: float
    tags: dict[str, str | None] = field(default_factory=dict)
    ai_gateway: AiGatewayConfig | None = None
    description: str | None = None
    budget_policy_id: str | None = None
    route_optimized: bool | None = None
    endpoint_url: str | None = None
    email_notifications: EmailNotifications | None = None
    rate_limits: list[RateLimit] = field(default_factory=list)
    telemetry_config: TelemetryConfig | None = None
    active: ConfigRevision | None = None  # what serves traffic
    pending: ConfigRevision | None = None  # the update in flight, or the one that failed
    config_update: EndpointStateConfigUpdate = EndpointStateConfigUpdate.NOT_UPDATING
    ready: EndpointStateReady = EndpointStateReady.NOT_READY
    last_version: int = 0

    @property
    def latest(self) -> ConfigRevision | None:
        """The most recently submitted revision (pending if any, else active)."""
        return self.pending or self.active
