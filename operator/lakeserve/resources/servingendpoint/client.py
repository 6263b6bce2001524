"""The only code that talks to Databricks about serving endpoints.

observe = one GET of the endpoint (plus one GET per alias to resolve); writes happen only on a
real difference, each through the narrowest API: update_config for served entities and routes,
the tags API for tags, PUT ai-gateway for the gateway, PATCH notifications for e-mails.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from databricks.sdk.errors import NotFound
from databricks.sdk.service.serving import (
    AiGatewayConfig,
    EndpointCoreConfigInput,
    ServingEndpointDetailed,
    TelemetryConfig,
)

from lakeserve.api.servingendpoint import ServingEndpointSpec
from lakeserve.databricks.errors import SpecError
from lakeserve.databricks.workspace import Workspace
from lakeserve.reconcile import reasons
from lakeserve.resources.base import (
    DeleteState,
    Event,
    Managed,
    Marker,
    Observation,
    WriteResult,
)
from lakeserve.resources.servingendpoint import compare, facts, failures
from lakeserve.resources.servingendpoint.desired import (
    OWNER_TAG,
    DesiredEndpoint,
    desired_endpoint,
)

ALIAS_NOT_FOUND = "AliasNotFound"


@dataclass
class _Plan:
    """What observe found, kept for the write that follows in the same pass."""

    desired: DesiredEndpoint
    endpoint: ServingEndpointDetailed | None = None
    config_changes: list[str] | None = None
    tags_to_add: dict[str, str] | None = None
    tags_to_delete: list[str] | None = None
    gateway: bool = False
    notifications: bool = False
    telemetry: bool = False
    status: Mapping[str, Any] = field(default_factory=dict)  # as last written


class ServingEndpointClient:
    def __init__(self, workspace: Workspace, owner_prefix: str = ""):
        self._w = workspace.client
        self._host = workspace.host
        self._limiter = workspace.limiter
        self._owner_prefix = owner_prefix
        self._plan: _Plan | None = None
        self._aliases: dict[tuple[str, str], str] = {}

    # ---- observe -------------------------------------------------------------------------

    def observe(self, obj: Managed[ServingEndpointSpec]) -> Observation:
        desired = desired_endpoint(obj.spec, obj.name, self._owner(obj), self._resolve_alias)
        self._plan = _Plan(desired, status=obj.status)
        try:
            endpoint = self._w.serving_endpoints.get(desired.name)
        except NotFound:
            return Observation(exists=False, name=desired.name,
                               status={**facts.EMPTY_FACTS, "endpointName": desired.name},
                               create_status={"lastAppliedConfig": _applied(desired,
                                                                            obj.generation)})
        self._plan.endpoint = endpoint
        status = facts.endpoint_facts(endpoint, desired, self._host)
        observation = self._compare(desired, endpoint, status)
        observation.name = desired.name
        observation.marker, observation.owner = owner_marker(endpoint, self._owner(obj))
        return observation

    def locate(self, obj: Managed[ServingEndpointSpec]) -> Observation:
        name = obj.spec.endpoint_name(obj.name)
        try:
            endpoint = self._w.serving_endpoints.get(name)
        except NotFound:
            return Observation(exists=False, name=name)
        marker, owner = owner_marker(endpoint, self._owner(obj))
        return Observation(exists=True, name=name, marker=marker, owner=owner)

    def _compare(self, desired: DesiredEndpoint, endpoint: ServingEndpointDetailed,
                 status: dict) -> Observation:
        plan = self._plan
        observation = Observation(exists=True, status=status)
        config_changes = self._config_changes(desired, endpoint, observation)
        plan.config_changes = config_changes
        plan.tags_to_add, plan.tags_to_delete = compare.tag_changes(desired, endpoint)
        plan.gateway = compare.gateway_differs(desired, endpoint)
        plan.notifications = compare.notifications_differ(desired, endpoint)
        plan.telemetry = compare.telemetry_differs(desired, endpoint, plan.status)
        observation.diff = list(config_changes)
        if plan.tags_to_add or plan.tags_to_delete:
            observation.diff.append("tags")
        if plan.gateway:
            observation.diff.append("aiGateway")
        if plan.notifications:
            observation.diff.append("emailNotifications")
        if plan.telemetry:
            observation.diff.append("telemetryConfig")
        create_only = compare.create_only_diffs(desired, endpoint)
        if create_only:
            observation.diff.extend(create_only)
            observation.updatable = False
        if compare.auto_capture_needs_recreate(desired, endpoint.config):
            observation.updatable = False
        observation.ready = not observation.diff and not observation.failed and \
            observation.busy is None and _serving(endpoint)
        if not observation.ready and not observation.diff and observation.busy is None \
                and observation.failed is None:
            observation.progress = (reasons.WAITING_FOR_DATABRICKS,
                                    f"endpoint is {status['state']['ready']}: "
                                    f"{_entity_messages(endpoint)}")
        return observation

    def _config_changes(self, desired: DesiredEndpoint, endpoint: ServingEndpointDetailed,
                        observation: Observation) -> list[str]:
        pending = endpoint.pending_config
        if facts.is_in_progress(endpoint):
            creating = endpoint.config is None
            observation.busy = (reasons.CREATING if creating else reasons.UPDATING,
                                f"Databricks is deploying config version "
                                f"{pending.config_version if pending else '?'}")
            return compare.config_diff(desired, pending) if pending else []
        failed = failures.failed_config_hash(desired, endpoint, self._plan.status)
        observation.status["failedConfigHash"] = failed
        changes = compare.config_diff(desired, endpoint.config)
        if changes and failed == desired.config_hash():
            # The spec asks for exactly what failed: retrying would fail the same way.
            observation.failed = (reasons.UPDATE_FAILED,
                                  failures.message(endpoint, self._plan.status))
            return []
        return changes

    # ---- writes --------------------------------------------------------------------------

    def create(self, obj: Managed[ServingEndpointSpec], observation: Observation) -> WriteResult:
        desired = self._plan.desired
        self._check_feature_specs(desired)
        self._take_write_slot()
        gateway = AiGatewayConfig.from_dict(desired.ai_gateway) if desired.ai_gateway else None
        self._w.serving_endpoints.create(
            name=desired.name,
            config=EndpointCoreConfigInput(
                name=desired.name,
                served_entities=[e.as_input() for e in desired.entities],
                traffic_config=desired.traffic_config(),
                auto_capture_config=desired.auto_capture_input()),
            tags=desired.tag_list(),
            ai_gateway=gateway,
            email_notifications=desired.notifications(),
            **desired.create_only,
        )
        return WriteResult(
            events=[Event(reasons.CREATED, f"created endpoint {desired.name} serving "
                                           f"{_served_text(desired)}")],
            status={"lastAppliedConfig": _applied(desired, obj.generation),
                    "failedConfigHash": None})

    def update(self, obj: Managed[ServingEndpointSpec], observation: Observation) -> WriteResult:
        """Writes beside the config first, the config last: once update_config is sent the
        endpoint is IN_PROGRESS and refuses other writes until it is NOT_UPDATING again."""
        result = WriteResult()
        self._update_tags(result)
        self._update_gateway(result)
        self._update_notifications(result)
        self._update_telemetry(result)
        self._update_config(obj, result)
        return result

    def _update_config(self, obj: Managed[ServingEndpointSpec], result: WriteResult) -> None:
        plan = self._plan
        desired = plan.desired
        if not plan.config_changes:
            return
        self._check_feature_specs(desired)
        self._take_write_slot()
        self._w.serving_endpoints.update_config(
            desired.name,
            served_entities=[e.as_input() for e in desired.entities],
            traffic_config=desired.traffic_config(),
            auto_capture_config=desired.auto_capture_input())
        result.events.extend(_alias_moves(obj, desired))
        result.events.append(Event(reasons.UPDATED, "updating config: "
                                   + "; ".join(plan.config_changes)))
        result.status["lastAppliedConfig"] = _applied(desired, obj.generation)
        result.status["failedConfigHash"] = None

    def _update_tags(self, result: WriteResult) -> None:
        plan = self._plan
        if not (plan.tags_to_add or plan.tags_to_delete):
            return
        self._w.serving_endpoints.patch(plan.desired.name, add_tags=[
            t for t in plan.desired.tag_list() if t.key in plan.tags_to_add] or None,
            delete_tags=plan.tags_to_delete or None)
        result.events.append(Event(reasons.UPDATED, _tags_text(plan)))

    def _update_gateway(self, result: WriteResult) -> None:
        if not self._plan.gateway:
            return
        self._take_write_slot()
        name = self._plan.desired.name
        # Sent raw: the SDK drops empty lists, and the gateway config is replaced whole.
        self._w.api_client.do("PUT", f"/api/2.0/serving-endpoints/{name}/ai-gateway",
                              body=self._plan.desired.ai_gateway)
        result.events.append(Event(reasons.UPDATED, "updated AI gateway config"))

    def _update_telemetry(self, result: WriteResult) -> None:
        if not self._plan.telemetry:
            return
        desired = self._plan.desired
        answer = self._w.serving_endpoints.patch_telemetry_config(
            desired.name, telemetry_config=TelemetryConfig.from_dict(desired.telemetry))
        applied = answer.telemetry_config if answer else None
        result.status["telemetryProfileId"] = applied.telemetry_profile_id if applied else None
        result.status["telemetryConfigHash"] = desired.telemetry_hash()
        result.events.append(Event(reasons.UPDATED, "updated telemetry config"))

    def _update_notifications(self, result: WriteResult) -> None:
        if not self._plan.notifications:
            return
        desired = self._plan.desired
        self._w.serving_endpoints.update_notifications(
            desired.name, email_notifications=desired.notifications())
        result.events.append(Event(reasons.UPDATED, "updated e-mail notifications"))

    def delete(self, obj: Managed[ServingEndpointSpec]) -> DeleteState:
        """Deletes the endpoint; whether it is ours to delete the engine decided beforehand."""
        try:
            self._w.serving_endpoints.delete(obj.spec.endpoint_name(obj.name))
        except NotFound:
            pass
        return DeleteState.GONE

    # ---- helpers -------------------------------------------------------------------------

    def _resolve_alias(self, model: str, alias: str) -> str:
        # One lookup per (model, alias) and pass, however many served entities name it.
        key = (model, alias)
        if key not in self._aliases:
            self._aliases[key] = self._lookup_alias(model, alias)
        return self._aliases[key]

    def _lookup_alias(self, model: str, alias: str) -> str:
        try:
            version = self._w.model_versions.get_by_alias(model, alias)
        except NotFound as exc:
            raise SpecError(ALIAS_NOT_FOUND, f"alias {alias!r} of model {model} does not exist "
                            f"in Unity Catalog ({exc}); set it, or serve an entityVersion") \
                from None
        return str(version.version)

    def _check_feature_specs(self, desired: DesiredEndpoint) -> None:
        """An entity served without a version names a feature spec: it must exist, or the write
        would be refused with a message in Databricks' terms rather than the spec's."""
        for entity in desired.entities:
            if not entity.serves_feature_spec:
                continue
            try:
                self._w.feature_engineering.get_feature_spec(entity.entity_name)
            except NotFound:
                raise SpecError(reasons.NOT_FOUND, (
                    f"served entity {entity.name}: {entity.entity_name} has neither "
                    "entityVersion nor entityAlias, so it must be a feature spec, and no "
                    "feature spec of that name exists in Databricks. Create it (a FeatureSpec "
                    "object; list it in dependsOn to have the endpoint wait for it), or give "
                    "entityVersion or entityAlias to serve a model")) from None

    def _take_write_slot(self) -> None:
        self._limiter.acquire_or_raise()

    def _owner(self, obj: Managed) -> str:
        return f"{self._owner_prefix}{obj.namespace}/{obj.name}"


def owner_marker(endpoint: ServingEndpointDetailed, owner: str) -> tuple[Marker, str | None]:
    """The owner tag says whose endpoint it is: ours, someone else's, or nobody's."""
    tagged = {t.key: t.value for t in endpoint.tags or []}.get(OWNER_TAG)
    if not tagged:
        return Marker.NONE, None
    return (Marker.OURS, tagged) if tagged == owner else (Marker.FOREIGN, tagged)


def _serving(endpoint: ServingEndpointDetailed) -> bool:
    state = endpoint.state
    return bool(state and state.ready and state.ready.value == "READY"
                and not facts.is_in_progress(endpoint))


def _entity_messages(endpoint: ServingEndpointDetailed) -> str:
    config = endpoint.config or endpoint.pending_config
    parts = []
    for entity in (config.served_entities if config else None) or []:
        state = entity.state
        if state and state.deployment and state.deployment.value != "DEPLOYMENT_READY":
            parts.append(f"{entity.name} {state.deployment.value}"
                         + (f" ({state.deployment_state_message})"
                            if state.deployment_state_message else ""))
    return "; ".join(parts) or "no served entity reports a problem"


def _alias_moves(obj: Managed, desired: DesiredEndpoint) -> list[Event]:
    applied = {e.get("name"): e.get("entityVersion")
               for e in (obj.status.get("lastAppliedConfig") or {}).get("servedEntities") or []}
    events = []
    for entity in desired.entities:
        before = applied.get(entity.name)
        if entity.entity_alias and before and before != entity.entity_version:
            events.append(Event(reasons.ALIAS_MOVED,
                                f"alias {entity.entity_alias} of {entity.entity_name} moved from "
                                f"version {before} to {entity.entity_version}; rolling "
                                f"{entity.name}"))
    return events


def _applied(desired: DesiredEndpoint, generation: int) -> dict:
    return {
        "generation": generation,
        "configHash": desired.config_hash(),
        "servedEntities": [{"name": e.name, "entityName": e.entity_name,
                            "entityVersion": e.entity_version or None}
                           for e in desired.entities],
        "routes": [{"servedEntityName": name, "trafficPercentage": pct}
                   for name, pct in desired.routes],
    }


def _served_text(desired: DesiredEndpoint) -> str:
    share = dict(desired.routes)
    return ", ".join(f"{e.name}={e.entity_name} "
                     f"{'(feature spec)' if e.serves_feature_spec else 'v' + e.entity_version} "
                     f"({share.get(e.name, 0)}%)" for e in desired.entities)


def _tags_text(plan: _Plan) -> str:
    parts = []
    if plan.tags_to_add:
        parts.append("set " + ", ".join(sorted(plan.tags_to_add)))
    if plan.tags_to_delete:
        parts.append("removed " + ", ".join(plan.tags_to_delete))
    return "tags: " + "; ".join(parts)
