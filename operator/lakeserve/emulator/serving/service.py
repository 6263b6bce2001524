"""Serving endpoint operations: validation, the workspace write limit, state, responses.

Reads advance the lazy state machine first. Registry lookups (I/O) happen outside the lock; the
in-flight check is repeated under it, so two racing updates cannot both be accepted.
"""

from __future__ import annotations

import dataclasses
import secrets
import threading
from collections.abc import Callable
from typing import Any

from databricks.sdk.service.serving import (
    AiGatewayConfig,
    EmailNotifications,
    EndpointCoreConfigInput,
    ListEndpointsResponse,
    PutAiGatewayResponse,
    PutResponse,
    RateLimit,
    TelemetryConfig,
    UpdateInferenceEndpointNotificationsResponse,
)

from lakeserve.emulator.context import EmulatorContext
from lakeserve.emulator.errors import ApiError, already_exists, conflict, invalid, not_found
from lakeserve.emulator.serving import bodies, echo, lifecycle, render, telemetry
from lakeserve.emulator.serving.echo import Echo
from lakeserve.emulator.serving.failures import DeploymentFailures
from lakeserve.emulator.serving.inference import (
    check_not_enabled_again,
    check_table_change,
    normalize_ai_gateway,
    normalize_rate_limits,
)
from lakeserve.emulator.serving.model import ChangeKind, ConfigRevision, Deployment, Endpoint
from lakeserve.emulator.serving.validation import (
    FeatureSpecLookup,
    NormalizedConfig,
    VersionLookup,
    check_versions_servable,
    normalize_config,
    normalize_tags,
    validate_endpoint_name,
)
from lakeserve.emulator.wire import parse, parse_list

Deploy = Callable[[NormalizedConfig], Deployment]
ROUTE_OPTIMIZED_PREFIX = "/route-optimized"


class ServingService:
    def __init__(self, ctx: EmulatorContext, lookup: VersionLookup,
                 deploy: Deploy | None = None,
                 is_feature_spec: FeatureSpecLookup = lambda name: False):
        """``deploy`` starts serving a submitted config (loading its models, in the background)
        and returns what the state machine waits on before the config goes live;
        ``is_feature_spec`` tells an entity served without a version (a feature spec) apart."""
        self._ctx = ctx
        self._lookup = lookup
        self._is_feature_spec = is_feature_spec
        self._deploy = deploy
        self.failures = DeploymentFailures()
        self._endpoints: dict[str, Endpoint] = {}
        self._lock = threading.RLock()

    # reads

    def get(self, name: str) -> dict[str, Any]:
        with self._lock:
            return self._detailed(self._endpoint(name))

    def list(self) -> dict[str, Any]:
        with self._lock:
            endpoints = [self._advanced(e) for e in self._endpoints.values()]
            return ListEndpointsResponse(endpoints=[render.summary(e) for e in endpoints]).as_dict()

    def endpoint(self, name: str) -> Endpoint:
        """The endpoint's current record (for other areas, e.g. invocations)."""
        with self._lock:
            return self._endpoint(name)

    # writes

    def create(self, body: dict[str, Any], principal: str, host: str) -> dict[str, Any]:
        self._ctx.limiter.admit("Creating a serving endpoint")
        request = bodies.parse_create(body)
        name = validate_endpoint_name(request.name)
        self._refuse_existing(name)
        config = normalize_config(bodies.require_config(request), name, "config.")
        tags = normalize_tags(request.tags, "tags")
        gateway = normalize_ai_gateway(request.ai_gateway, name, "ai_gateway")
        rate_limits = normalize_rate_limits(request.rate_limits, "rate_limits")
        check_versions_servable(config.entities, self._lookup, self._is_feature_spec)
        now = self._ctx.clock.now()
        endpoint_id = secrets.token_hex(16)
        endpoint = Endpoint(
            name=name, id=endpoint_id, creator=principal, created_at=now,
            updated_at=now, tags=tags, ai_gateway=gateway, description=request.description,
            budget_policy_id=request.budget_policy_id, route_optimized=request.route_optimized,
            endpoint_url=route_optimized_url(host, endpoint_id, name)
            if request.route_optimized else None,
            email_notifications=request.email_notifications, rate_limits=rate_limits,
            telemetry_config=None)
        with self._lock:
            self._refuse_existing(name)
            lifecycle.submit(endpoint, self._revision(1, ChangeKind.CREATE, config, principal))
            if telemetry.unsupported(endpoint) is None:  # else create drops it silently
                endpoint.telemetry_config = telemetry.applied(None, request.telemetry_config)
            self._endpoints[name] = endpoint
            return self._detailed(endpoint)

    def delete(self, name: str) -> None:
        with self._lock:
            if self._endpoints.pop(name, None) is None:
                raise _missing(name)

    def update_config(self, name: str, body: dict[str, Any], principal: str) -> dict[str, Any]:
        self._ctx.limiter.admit("Updating a serving endpoint's config")
        request = bodies.parse_update_config(body, name)
        with self._lock:
            self._refuse_in_flight(self._endpoint(name))
        config = self._updated_config(name, request)
        check_versions_servable(config.entities, self._lookup, self._is_feature_spec)
        with self._lock:
            endpoint = self._endpoint(name)
            self._refuse_in_flight(endpoint)
            revision = self._revision(endpoint.last_version + 1, ChangeKind.UPDATE, config,
                                      principal)
            lifecycle.submit(endpoint, revision)
            endpoint.updated_at = revision.submitted_at
            return self._detailed(endpoint)

    def patch_tags(self, name: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        add, delete = bodies.parse_tag_patch(body)
        additions = normalize_tags(add, "add_tags")
        with self._lock:
            endpoint = self._side_write(name, "tags")
            for key in delete:
                endpoint.tags.pop(key, None)
            endpoint.tags.update(additions)
            return [tag.as_dict() for tag in render.tags(endpoint.tags)]

    def put_ai_gateway(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        gateway = normalize_ai_gateway(parse(body, AiGatewayConfig), name, "")
        with self._lock:
            endpoint = self._side_write(name, "AI gateway configuration")
            old = endpoint.ai_gateway.inference_table_config if endpoint.ai_gateway else None
            new = gateway.inference_table_config if gateway else None
            check_table_change(old, new, "inference_table_config")
            endpoint.ai_gateway = gateway
        echoed = echo.gateway(gateway, Echo.of(self._ctx.settings), name)
        fields = {f.name: getattr(echoed, f.name) for f in dataclasses.fields(echoed)} \
            if echoed else {}
        return PutAiGatewayResponse(**fields).as_dict()

    def update_notifications(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        value = body.get("email_notifications")
        notifications = parse(value, EmailNotifications, "email_notifications") \
            if value is not None else None
        with self._lock:
            self._side_write(name, "notifications").email_notifications = notifications
        return UpdateInferenceEndpointNotificationsResponse(
            email_notifications=notifications, name=name).as_dict()

    def put_rate_limits(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        limits = normalize_rate_limits(
            parse_list(body.get("rate_limits"), RateLimit, "rate_limits"), "rate_limits")
        with self._lock:
            self._side_write(name, "rate limits").rate_limits = limits
        return PutResponse(rate_limits=limits).as_dict()

    def patch_telemetry(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        value = body.get("telemetry_config")
        config = parse(value, TelemetryConfig, "telemetry_config") if value is not None else None
        with self._lock:
            endpoint = self._endpoint(name)
            telemetry.refuse_unsupported(endpoint)
            _refuse_while_updating(endpoint, "telemetry configuration")
            endpoint = self._touch(name)
            endpoint.telemetry_config = telemetry.applied(endpoint.telemetry_config, config)
            return self._detailed(endpoint)

    def reset(self, options: dict[str, Any]) -> None:
        with self._lock:
            self._endpoints.clear()
        self.failures.remove()

    # persistence

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"endpoints": list(self._endpoints.values()),
                    "deployment_failures": self.failures.snapshot()}

    def restore(self, state: dict[str, Any]) -> None:
        """Take over stored endpoints; the revisions that serve or are being deployed load their
        models again, and the state machines go on from their stored timestamps."""
        with self._lock:
            self._endpoints = {endpoint.name: endpoint for endpoint in state["endpoints"]}
            for endpoint in self._endpoints.values():
                self._redeploy(endpoint)
        self.failures.restore(state["deployment_failures"])

    def _redeploy(self, endpoint: Endpoint) -> None:
        if self._deploy is None:
            return
        revisions = [endpoint.active]
        if lifecycle.is_updating(endpoint):
            revisions.append(endpoint.pending)
        for revision in filter(None, revisions):
            revision.deployment = self._deploy(NormalizedConfig(
                revision.entities, revision.routes, revision.auto_capture, revision.external))

    # helpers

    def _detailed(self, endpoint: Endpoint) -> dict[str, Any]:
        return render.detailed(endpoint, Echo.of(self._ctx.settings)).as_dict()

    def _updated_config(self, name: str, request: EndpointCoreConfigInput) -> NormalizedConfig:
        config = normalize_config(request, name, "")
        with self._lock:
            latest = self._endpoint(name).latest
        if latest is None:
            return config
        if latest.external != config.external:
            raise invalid("An endpoint cannot switch between serving external models and "
                          "serving custom models; create a new endpoint instead")
        if request.auto_capture_config is None:  # omitted: the current setting stays
            return dataclasses.replace(config, auto_capture=latest.auto_capture)
        check_table_change(latest.auto_capture, config.auto_capture, "auto_capture_config")
        check_not_enabled_again(latest.auto_capture, config.auto_capture)
        return config

    def _revision(self, version: int, kind: ChangeKind, config: NormalizedConfig,
                  principal: str) -> ConfigRevision:
        return ConfigRevision(
            version=version, kind=kind, entities=config.entities, routes=config.routes,
            auto_capture=config.auto_capture, submitted_at=self._ctx.clock.now(),
            creator=principal, failures=self.failures.for_entities(config.entities),
            external=config.external,
            deployment=self._deploy(config) if self._deploy is not None else None)

    def _endpoint(self, name: str) -> Endpoint:
        endpoint = self._endpoints.get(name)
        if endpoint is None:
            raise _missing(name)
        return self._advanced(endpoint)

    def _side_write(self, name: str, what: str) -> Endpoint:
        """The endpoint for a write beside its config: refused while a config update is in
        progress, when the ``writes_while_updating`` setting says so."""
        endpoint = self._endpoint(name)
        if self._ctx.settings.writes_while_updating == "refuse":
            _refuse_while_updating(endpoint, what)
        return self._touch(name)

    def _touch(self, name: str) -> Endpoint:
        endpoint = self._endpoint(name)
        endpoint.updated_at = self._ctx.clock.now()
        return endpoint

    def _advanced(self, endpoint: Endpoint) -> Endpoint:
        keep = self._ctx.settings.failed_update_pending_config == "keep"
        if lifecycle.advance(endpoint, self._ctx.clock.now(), self._delay, keep):
            self._ctx.persistence.mark_changed()
        return endpoint

    def _delay(self, kind: ChangeKind) -> float:
        settings = self._ctx.settings
        if kind is ChangeKind.CREATE:
            return settings.serving_create_seconds
        return settings.serving_update_seconds

    def _refuse_existing(self, name: str) -> None:
        if name in self._endpoints:
            raise already_exists(f"Endpoint with name '{name}' already exists.")

    @staticmethod
    def _refuse_in_flight(endpoint: Endpoint) -> None:
        if lifecycle.is_updating(endpoint):
            raise conflict(f"Endpoint '{endpoint.name}' already has a config update in progress "
                           f"(config_version {endpoint.last_version}); wait until it finishes "
                           "before updating the config again.")


def _refuse_while_updating(endpoint: Endpoint, what: str) -> None:
    if lifecycle.is_updating(endpoint):
        raise conflict(f"Endpoint {endpoint.name} is currently updating. Wait for the update to "
                       f"complete before updating its {what}.")


def _missing(name: str) -> ApiError:
    return not_found(f"Endpoint with name '{name}' does not exist.")


def route_optimized_url(host: str, endpoint_id: str, name: str) -> str:
    """Where a route-optimized endpoint is queried: its own data-plane URL, not the workspace's
    ``/serving-endpoints/{name}/invocations`` (on loopback, a path standing for that host)."""
    return f"{host.rstrip('/')}{ROUTE_OPTIMIZED_PREFIX}/{endpoint_id}/serving-endpoints/" \
           f"{name}/invocations"
