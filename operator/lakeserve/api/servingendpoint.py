"""ServingEndpoint: a Databricks Model Serving endpoint, declared the way its REST body reads.

The spec mirrors ``POST /api/2.0/serving-endpoints`` in camelCase (``config.servedEntities``,
``config.trafficConfig.routes``, ``tags``, ``aiGateway``), plus a few operator fields:
``entityAlias`` (serve whatever version a Unity Catalog alias points at), ``deletionPolicy``,
``updatePolicy`` and ``dependsOn``.
"""

from __future__ import annotations

from enum import Enum

from pydantic import Field

from lakeserve.api.crd import KindInfo, ready_columns
from lakeserve.api.workspace import WORKSPACE_REF_DESCRIPTION, WorkspaceReference, workspace_ref_rule
from lakeserve.api.common import (
    DELETION_POLICY_DESCRIPTION,
    MANAGEMENT_POLICY_DESCRIPTION,
    UC_THREE_LEVEL_PATTERN,
    UPDATE_POLICY_DESCRIPTION,
    CamelModel,
    DeletionPolicy,
    ManagementPolicy,
    ObjectReference,
    StatusBase,
    UpdatePolicy,
    cel,
    immutable,
    validations,
)

KIND = "ServingEndpoint"
PLURAL = "servingendpoints"
SINGULAR = "servingendpoint"
SHORT_NAMES = ["se", "sep"]

# Databricks documents at most ten served entities per endpoint (docs/fidelity.md).
MAX_SERVED_ENTITIES = 10
MAX_ENVIRONMENT_VARS = 30
ENDPOINT_NAME_PATTERN = r"^[A-Za-z0-9_-]{1,63}$"
SERVED_ENTITY_NAME_PATTERN = r"^[A-Za-z0-9_-]{1,63}$"

# The name a served entity gets when the manifest gives none. It is what routes refer to, so it
# must not change when an alias moves: it uses the alias, not the version it resolves to.
# A feature spec (served with neither) gets the last part of its name alone.
EFFECTIVE_ENTITY_NAME_CEL = (
    "(has({e}.name) ? {e}.name : "
    "({e}.entityName.split('.')[{e}.entityName.split('.').size() - 1] + "
    "(has({e}.entityAlias) ? '-' + {e}.entityAlias : "
    "(has({e}.entityVersion) ? '-' + {e}.entityVersion : ''))))"
)


def effective_entity_name_cel(var: str) -> str:
    return EFFECTIVE_ENTITY_NAME_CEL.format(e=var)


class WorkloadType(str, Enum):
    CPU = "CPU"
    CPU_MEDIUM = "CPU_MEDIUM"
    CPU_LARGE = "CPU_LARGE"
    GPU_SMALL = "GPU_SMALL"
    GPU_MEDIUM = "GPU_MEDIUM"
    GPU_LARGE = "GPU_LARGE"
    GPU_XLARGE = "GPU_XLARGE"
    GPU_XLARGE_8 = "GPU_XLARGE_8"
    MULTIGPU_MEDIUM = "MULTIGPU_MEDIUM"


class ServedEntity(CamelModel):
    """One model version served by the endpoint."""

    model_config = CamelModel.model_config | {
        "json_schema_extra": validations(
            cel("!(has(self.entityVersion) && has(self.entityAlias)) && (has(self.entityVersion) "
                "|| has(self.entityAlias) || self.entityName.matches('" + UC_THREE_LEVEL_PATTERN
                + "'))",
                "give exactly one of entityVersion (a literal version such as \"3\") or entityAlias "
                "(a Unity Catalog alias such as \"champion\"); only a feature spec "
                "(catalog.schema.spec) is served with neither", reason="FieldValueInvalid"),
            cel("!has(self.workloadSize) || "
                "(!has(self.minProvisionedConcurrency) && !has(self.maxProvisionedConcurrency))",
                "workloadSize cannot be combined with minProvisionedConcurrency/"
                "maxProvisionedConcurrency: size the entity one way or the other",
                reason="FieldValueForbidden"),
            cel("!has(self.minProvisionedConcurrency) || !has(self.maxProvisionedConcurrency) || "
                "self.minProvisionedConcurrency <= self.maxProvisionedConcurrency",
                "minProvisionedConcurrency must not exceed maxProvisionedConcurrency",
                reason="FieldValueInvalid"),
            cel("!has(self.entityAlias) || self.entityName.matches('" + UC_THREE_LEVEL_PATTERN + "')",
                "entityAlias needs entityName to be a Unity Catalog model: catalog.schema.model",
                reason="FieldValueInvalid", field_path=".entityName"),
            cel("has(self.name) || self.entityName.split('.')[self.entityName.split('.').size() - 1]"
                ".matches('^[A-Za-z0-9_-]+$')",
                "name is required when the last part of entityName is not a valid served-entity "
                "name (letters, digits, '-' and '_')", reason="FieldValueRequired",
                field_path=".name"),
        )
    }

    name: str | None = Field(
        default=None, max_length=63, pattern=SERVED_ENTITY_NAME_PATTERN,
        description="Name of the served entity, unique in the endpoint; routes refer to it. "
                    "Defaults to <last part of entityName>-<entityAlias or entityVersion>, "
                    "e.g. churn_model-champion, so it stays the same when an alias moves; a "
                    "feature spec's is the last part of its name.")
    entity_name: str = Field(
        max_length=255, min_length=1,
        description="What to serve: a Unity Catalog model (catalog.schema.model) or a "
                    "workspace registry model name, with entityVersion or entityAlias; or a "
                    "feature spec (catalog.schema.spec, e.g. a FeatureSpec's name) with neither, "
                    "which makes a feature serving endpoint.")
    entity_version: str | None = Field(
        default=None, max_length=32, pattern=r"^[0-9]+$",
        description="Literal model version to serve, e.g. \"3\". Exclusive with entityAlias.")
    entity_alias: str | None = Field(
        default=None, max_length=255, pattern=r"^[A-Za-z_][A-Za-z0-9_-]*$",
        description="Unity Catalog alias to serve, e.g. champion. The operator resolves it to a "
                    "version, shows that version in status, and rolls the endpoint when the alias "
                    "moves. Exclusive with entityVersion.")
    workload_size: str | None = Field(
        default=None, max_length=64,
        description="Small (4 concurrent requests), Medium (8-16), Large (16-64) or a custom size "
                    "enabled in the workspace. Exclusive with min/maxProvisionedConcurrency.")
    workload_type: WorkloadType | None = Field(
        default=None, description="Compute type; Databricks uses CPU when unset.")
    scale_to_zero_enabled: bool | None = Field(
        default=None, description="Scale compute down to zero when idle.")
    min_provisioned_concurrency: int | None = Field(
        default=None, ge=0, description="Lower bound of provisioned concurrency. Exclusive with "
                                        "workloadSize.")
    max_provisioned_concurrency: int | None = Field(
        default=None, ge=0, description="Upper bound of provisioned concurrency. Exclusive with "
                                        "workloadSize.")
    environment_vars: dict[str, str] | None = Field(
        default=None, max_length=MAX_ENVIRONMENT_VARS,
        description="Environment variables for the model server. Reference secrets as "
                    "{{secrets/<scope>/<key>}}; never put a secret value here.")
    instance_profile_arn: str | None = Field(
        default=None, max_length=2048,
        description="AWS instance profile the served entity uses to reach AWS resources.")

    def effective_name(self) -> str:
        """The served-entity name sent to Databricks (mirrors EFFECTIVE_ENTITY_NAME_CEL)."""
        if self.name:
            return self.name
        suffix = self.entity_alias if self.entity_alias is not None else self.entity_version
        last = self.entity_name.split(".")[-1]
        return f"{last}-{suffix}" if suffix else last

    @property
    def serves_feature_spec(self) -> bool:
        return self.entity_version is None and self.entity_alias is None


class Route(CamelModel):
    """Share of the traffic sent to one served entity."""

    served_entity_name: str = Field(
        max_length=63, description="Name of the served entity (its name or default name).")
    traffic_percentage: int = Field(
        ge=0, le=100, description="Percentage of requests routed to it; all routes add up to 100.")


class TrafficConfig(CamelModel):
    """How requests are split between served entities."""

    model_config = CamelModel.model_config | {
        "json_schema_extra": validations(
            cel("self.routes.map(r, r.trafficPercentage).sum() == 100",
                "traffic percentages must add up to 100",
                reason="FieldValueInvalid", field_path=".routes"),
        )
    }

    routes: list[Route] = Field(
        min_length=1, max_length=MAX_SERVED_ENTITIES,
        description="One route per served entity that receives traffic.",
        json_schema_extra={"x-kubernetes-list-type": "map",
                           "x-kubernetes-list-map-keys": ["servedEntityName"]})


INFERENCE_TABLE_WRITE_ONCE = (
    "(has(oldSelf.enabled) && !oldSelf.enabled) || (has(self.enabled) && !self.enabled) || "
    "(self.catalogName == oldSelf.catalogName && self.schemaName == oldSelf.schemaName && "
    "(has(self.tableNamePrefix) ? self.tableNamePrefix : '') == "
    "(has(oldSelf.tableNamePrefix) ? oldSelf.tableNamePrefix : ''))"
)
def _same_location(new: str, old: str) -> str:
    prefix = "(has({0}.tableNamePrefix) ? {0}.tableNamePrefix : '')"
    return (f"({new}.catalogName == {old}.catalogName && {new}.schemaName == {old}.schemaName "
            f"&& {prefix.format(new)} == {prefix.format(old)})")


# Legacy inference tables (config.autoCaptureConfig) cannot be enabled again once disabled
# (Terraform provider docs), so neither a move nor a re-enable can be applied in place; checked at
# the spec's level, where updatePolicy: Recreate can allow them.
_CAPTURE_UNCHANGED_OR_NEW = ("(has(self.updatePolicy) && self.updatePolicy == 'Recreate') || "
                             "!has(oldSelf.config.autoCaptureConfig) || "
                             "!has(self.config.autoCaptureConfig)")
_CAPTURE_WAS_DISABLED = ("(has(oldSelf.config.autoCaptureConfig.enabled) && "
                         "!oldSelf.config.autoCaptureConfig.enabled)")
_CAPTURE_IS_DISABLED = ("(has(self.config.autoCaptureConfig.enabled) && "
                        "!self.config.autoCaptureConfig.enabled)")
_CAPTURE_WHAT_WORKS = ("log to aiGateway.inferenceTableConfig instead, or set updatePolicy: "
                       "Recreate to replace the endpoint.")
AUTO_CAPTURE_RULES = (
    cel(f"{_CAPTURE_UNCHANGED_OR_NEW} || !{_CAPTURE_WAS_DISABLED} || {_CAPTURE_IS_DISABLED}",
        "config.autoCaptureConfig was disabled, and Databricks cannot enable a legacy inference "
        "table again: " + _CAPTURE_WHAT_WORKS,
        reason="FieldValueForbidden", field_path=".config.autoCaptureConfig"),
    cel(f"{_CAPTURE_UNCHANGED_OR_NEW} || {_CAPTURE_WAS_DISABLED} || {_CAPTURE_IS_DISABLED} || "
        f"{_same_location('self.config.autoCaptureConfig', 'oldSelf.config.autoCaptureConfig')}",
        "config.autoCaptureConfig: catalogName, schemaName and tableNamePrefix cannot change "
        "while the inference table is enabled, and disabling it first does not help (a disabled "
        "legacy inference table cannot be enabled again): " + _CAPTURE_WHAT_WORKS,
        reason="FieldValueForbidden", field_path=".config.autoCaptureConfig"),
)


def _inference_table_rule(where: str) -> dict:
    return cel(
        INFERENCE_TABLE_WRITE_ONCE,
        f"{where}: catalogName, schemaName and tableNamePrefix cannot change while the inference "
        "table is enabled (Databricks keeps writing to the table it started with). Apply "
        "enabled: false first, then the new location.", reason="FieldValueForbidden")


class InferenceTableConfig(CamelModel):
    """Where request/response payloads are logged: a Delta table <catalog>.<schema>.<prefix>_payload."""

    catalog_name: str = Field(max_length=255, min_length=1,
                              description="Unity Catalog catalog of the payload table.")
    schema_name: str = Field(max_length=255, min_length=1,
                             description="Schema of the payload table.")
    table_name_prefix: str | None = Field(
        default=None, max_length=100,
        description="Prefix of the payload table name; Databricks uses the endpoint name when unset.")
    enabled: bool | None = Field(default=None,
                                 description="Whether payloads are logged (default true).")


class AutoCaptureConfig(InferenceTableConfig):
    """Legacy inference tables (config.autoCaptureConfig); once disabled they cannot be enabled
    again. Prefer aiGateway.inferenceTableConfig."""


class GatewayInferenceTableConfig(InferenceTableConfig):
    """AI gateway inference table."""

    model_config = CamelModel.model_config | {
        "json_schema_extra": validations(_inference_table_rule("aiGateway.inferenceTableConfig"))
    }


class EndpointConfig(CamelModel):
    """The served entities and traffic split (Databricks: EndpointCoreConfigInput)."""

    model_config = CamelModel.model_config | {
        "json_schema_extra": validations(
            cel("self.servedEntities.all(a, self.servedEntities.exists_one(b, "
                + effective_entity_name_cel("b") + " == " + effective_entity_name_cel("a") + "))",
                "served entity names must be unique within the endpoint (names default to "
                "<model>-<alias or version>; set name to tell entities apart)",
                reason="FieldValueInvalid", field_path=".servedEntities"),
            cel("!has(self.trafficConfig) || self.trafficConfig.routes.all(r, "
                "self.servedEntities.exists(e, " + effective_entity_name_cel("e")
                + " == r.servedEntityName))",
                "every trafficConfig route must name a served entity of this endpoint (by its name "
                "or default name <model>-<alias or version>)",
                reason="FieldValueInvalid", field_path=".trafficConfig.routes"),
            cel("self.servedEntities.size() == 1 || has(self.trafficConfig)",
                "with more than one served entity, trafficConfig.routes must say how traffic is "
                "split", reason="FieldValueRequired", field_path=".trafficConfig"),
        )
    }

    served_entities: list[ServedEntity] = Field(
        min_length=1, max_length=MAX_SERVED_ENTITIES,
        description=f"The models served by the endpoint (1 to {MAX_SERVED_ENTITIES}).")
    traffic_config: TrafficConfig | None = Field(
        default=None,
        description="Traffic split; optional with a single served entity (it gets 100%).")
    auto_capture_config: AutoCaptureConfig | None = Field(
        default=None, description="Legacy inference table settings.")


class Tag(CamelModel):
    """An endpoint tag."""

    key: str = Field(max_length=255, min_length=1, description="Tag key.")
    value: str | None = Field(default=None, max_length=255, description="Tag value.")


class UsageTrackingConfig(CamelModel):
    """Usage tracking into system tables."""

    enabled: bool = Field(description="Track usage in system.serving tables.")


class PiiBehavior(CamelModel):
    """What the gateway does with personal data."""

    behavior: str = Field(description="BLOCK, MASK or NONE.",
                          json_schema_extra={"enum": ["BLOCK", "MASK", "NONE"]})


class GuardrailParameters(CamelModel):
    """Guardrails for one direction (input or output)."""

    invalid_keywords: list[str] | None = Field(
        default=None, max_length=100, description="Keywords that block a request or response.")
    pii: PiiBehavior | None = Field(default=None, description="Personal data handling.")
    safety: bool | None = Field(default=None, description="Enable the safety filter.")
    valid_topics: list[str] | None = Field(
        default=None, max_length=100, description="Topics the endpoint may discuss.")


class Guardrails(CamelModel):
    """AI gateway guardrails."""

    input: GuardrailParameters | None = Field(default=None, description="Applied to requests.")
    output: GuardrailParameters | None = Field(default=None, description="Applied to responses.")


class GatewayRateLimit(CamelModel):
    """A query rate limit enforced by the AI gateway."""

    calls: int | None = Field(default=None, ge=0, description="Calls allowed per renewal period.")
    tokens: int | None = Field(default=None, ge=0, description="Tokens allowed per renewal period.")
    key: str | None = Field(
        default=None, description="Who the limit applies to; endpoint when unset.",
        json_schema_extra={"enum": ["endpoint", "user", "user_group", "service_principal"]})
    principal: str | None = Field(
        default=None, max_length=255,
        description="User email, group name or service principal id, for keyed limits.")
    renewal_period: str = Field(default="minute", description="Only minute is supported.",
                                json_schema_extra={"enum": ["minute"]})


class FallbackConfig(CamelModel):
    """Retry failed requests on the other served entities."""

    enabled: bool = Field(description="Fall back to other served entities on errors.")


class AiGateway(CamelModel):
    """AI gateway settings; sent whole with PUT .../ai-gateway."""

    inference_table_config: GatewayInferenceTableConfig | None = Field(
        default=None, description="Inference table logging through the gateway.")
    usage_tracking_config: UsageTrackingConfig | None = Field(
        default=None, description="Usage tracking.")
    guardrails: Guardrails | None = Field(default=None, description="Guardrails.")
    rate_limits: list[GatewayRateLimit] | None = Field(
        default=None, max_length=20, description="Rate limits.")
    fallback_config: FallbackConfig | None = Field(default=None, description="Fallback.")


class EmailNotifications(CamelModel):
    """Who Databricks emails about endpoint updates."""

    on_update_failure: list[str] | None = Field(
        default=None, max_length=50, description="Addresses told when an update fails.")
    on_update_success: list[str] | None = Field(
        default=None, max_length=50, description="Addresses told when an update succeeds.")


class TelemetryTableNames(CamelModel):
    """Unity Catalog tables the endpoint's telemetry is exported to (a new telemetry profile)."""

    logs_table: str | None = Field(default=None, max_length=255, pattern=UC_THREE_LEVEL_PATTERN,
                                   description="Table for logs: catalog.schema.table.")
    traces_table: str | None = Field(default=None, max_length=255,
                                     pattern=UC_THREE_LEVEL_PATTERN,
                                     description="Table for traces (spans).")
    metrics_table: str | None = Field(default=None, max_length=255,
                                      pattern=UC_THREE_LEVEL_PATTERN,
                                      description="Table for metrics.")
    annotations_table: str | None = Field(default=None, max_length=255,
                                          pattern=UC_THREE_LEVEL_PATTERN,
                                          description="Table for annotations.")


class TelemetryInferenceTable(CamelModel):
    """Inference table payload logging through telemetry."""

    sampling_fraction: float | None = Field(
        default=None, ge=0.0, le=1.0,
        description="Share of requests logged, from 0.0 to 1.0 (1.0 logs every request).")


class TelemetryFeature(str, Enum):
    INFERENCE_TABLE = "TELEMETRY_FEATURE_INFERENCE_TABLE"
    LOGS = "TELEMETRY_FEATURE_LOGS"
    METRICS = "TELEMETRY_FEATURE_METRICS"
    TRACES = "TELEMETRY_FEATURE_TRACES"


class TelemetryConfig(CamelModel):
    """Endpoint telemetry (PATCH .../telemetry-config): new tables, or an existing profile."""

    model_config = CamelModel.model_config | {
        "json_schema_extra": validations(
            cel("has(self.tableNames) != has(self.telemetryProfileId)",
                "give exactly one of tableNames (Databricks creates a telemetry profile from "
                "them) or telemetryProfileId (an existing profile)", reason="FieldValueInvalid"),
        )
    }

    table_names: TelemetryTableNames | None = Field(
        default=None, description="Tables for logs, traces, metrics and annotations; Databricks "
                                  "makes a telemetry profile of them and reports only its id.")
    telemetry_profile_id: str | None = Field(
        default=None, max_length=255, description="An existing telemetry profile to use.")
    inference_table_config: TelemetryInferenceTable | None = Field(
        default=None, description="Inference table sampling.")
    enabled_telemetry_features: list[TelemetryFeature] | None = Field(
        default=None, max_length=4,
        description="Signals to export; all of them when unset.",
        json_schema_extra={"x-kubernetes-list-type": "set"})


class ServingEndpointSpec(CamelModel):
    """Desired state of a Databricks Model Serving endpoint."""

    model_config = CamelModel.model_config | {
        "json_schema_extra": validations(
            cel("has(self.name) == has(oldSelf.name) && (!has(self.name) || self.name == oldSelf.name)",
                "name is the Databricks endpoint's identity and cannot change; create a new "
                "ServingEndpoint instead", reason="FieldValueForbidden", field_path=".name"),
            immutable("routeOptimized", "create-only on Databricks", unless_recreate=True),
            immutable("description", "create-only on Databricks", unless_recreate=True),
            immutable("budgetPolicyId", "create-only on Databricks", unless_recreate=True),
            workspace_ref_rule(),
            *AUTO_CAPTURE_RULES,
        )
    }

    name: str | None = Field(
        default=None, max_length=63, pattern=ENDPOINT_NAME_PATTERN,
        description="Databricks endpoint name (letters, digits, '-' and '_'); defaults to "
                    "metadata.name. Cannot change.")
    config: EndpointConfig = Field(description="Served entities, traffic split, inference table.")
    tags: list[Tag] | None = Field(
        default=None, max_length=50, description="Endpoint tags, applied through the tags API.",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["key"]})
    ai_gateway: AiGateway | None = Field(
        default=None, description="AI gateway: inference table, usage tracking, guardrails, rate "
                                  "limits, fallback.")
    email_notifications: EmailNotifications | None = Field(
        default=None, description="Update notifications.")
    telemetry_config: TelemetryConfig | None = Field(
        default=None, description="Telemetry export (custom-model endpoints only); when absent "
                                  "telemetry is not managed.")
    route_optimized: bool | None = Field(
        default=None, description="Route-optimized endpoint. Create-only: changing it needs "
                                  "updatePolicy: Recreate.")
    description: str | None = Field(
        default=None, max_length=1024,
        description="Endpoint description. Create-only: changing it needs updatePolicy: Recreate.")
    budget_policy_id: str | None = Field(
        default=None, max_length=255,
        description="Budget policy. Create-only: changing it needs updatePolicy: Recreate.")
    deletion_policy: DeletionPolicy = Field(
        default=DeletionPolicy.DELETE, description=DELETION_POLICY_DESCRIPTION)
    management_policy: ManagementPolicy = Field(
        default=ManagementPolicy.FULL, description=MANAGEMENT_POLICY_DESCRIPTION)
    update_policy: UpdatePolicy = Field(
        default=UpdatePolicy.UPDATE, description=UPDATE_POLICY_DESCRIPTION)
    depends_on: list[ObjectReference] | None = Field(
        default=None, max_length=32,
        description="FeatureFunction, OnlineTable and FeatureSpec objects in this namespace that "
                    "must be Ready before the endpoint is created or updated.")

    workspace_ref: WorkspaceReference | None = Field(
        default=None, description=WORKSPACE_REF_DESCRIPTION)

    def endpoint_name(self, metadata_name: str) -> str:
        return self.name or metadata_name


class EndpointStateStatus(CamelModel):
    """Databricks' own two-part endpoint state."""

    ready: str | None = Field(default=None, description="READY or NOT_READY.")
    config_update: str | None = Field(
        default=None, description="NOT_UPDATING, IN_PROGRESS, UPDATE_FAILED or UPDATE_CANCELED.")


class ServedEntityStatus(CamelModel):
    """A served entity as Databricks reports it."""

    name: str = Field(description="Served entity name.")
    entity_name: str | None = Field(default=None, description="Model name.")
    entity_version: str | None = Field(default=None, description="Version being served.")
    entity_alias: str | None = Field(default=None,
                                     description="Alias the version was resolved from, if any.")
    deployment_state: str | None = Field(
        default=None, description="DEPLOYMENT_CREATING, _READY, _FAILED, _ABORTED or _RECOVERING.")
    message: str | None = Field(default=None, description="Databricks' deployment message.")


class RouteStatus(CamelModel):
    """A traffic route as Databricks reports it."""

    served_entity_name: str = Field(description="Served entity name.")
    traffic_percentage: int = Field(description="Share of traffic.")


class AppliedEntity(CamelModel):
    """A served entity as last sent to Databricks."""

    name: str = Field(description="Served entity name.")
    entity_name: str = Field(description="Model (or feature spec) name.")
    entity_version: str | None = Field(
        default=None, description="Model version sent; none for a feature spec.")


class AppliedConfig(CamelModel):
    """The served entities and routes the operator last sent, with the generation they came from."""

    generation: int | None = Field(default=None, description="metadata.generation applied.")
    config_hash: str | None = Field(
        default=None, description="Identifies the config sent (served entities with resolved "
                                  "versions, routes, auto-capture).")
    served_entities: list[AppliedEntity] = Field(default_factory=list,
                                                 description="Entities sent.")
    routes: list[RouteStatus] = Field(default_factory=list, description="Routes sent.")


class ServingEndpointStatus(StatusBase):
    """Observed state of the endpoint."""

    endpoint_name: str | None = Field(default=None, description="Databricks endpoint name.")
    endpoint_id: str | None = Field(default=None, description="Databricks endpoint id.")
    url: str | None = Field(default=None, description="Invocation URL.")
    state: EndpointStateStatus | None = Field(default=None, description="Databricks state.")
    config_version: int | None = Field(default=None,
                                       description="Version of the config being served.")
    served_entities: list[ServedEntityStatus] | None = Field(
        default=None, description="Served entities of the config being served.")
    routes: list[RouteStatus] | None = Field(
        default=None, description="Traffic routes of the config being served.")
    pending_served_entities: list[ServedEntityStatus] | None = Field(
        default=None, description="Served entities of an update in flight, if any.")
    last_applied_config: AppliedConfig | None = Field(
        default=None, description="What the operator last sent to Databricks.")
    failed_config_hash: str | None = Field(
        default=None, description="The config Databricks failed to deploy (see "
                                  "lastAppliedConfig.configHash); it is not sent again until "
                                  "the spec changes or an alias moves.")
    inference_table: str | None = Field(
        default=None, description="Full name of the payload table, when inference tables are on.")
    telemetry_profile_id: str | None = Field(
        default=None, description="Telemetry profile Databricks made of spec.telemetryConfig.")
    telemetry_config_hash: str | None = Field(
        default=None, description="Identifies the telemetry config last applied.")


INFO = KindInfo(
    kind=KIND,
    plural=PLURAL,
    singular=SINGULAR,
    short_names=SHORT_NAMES,
    spec_model=ServingEndpointSpec,
    status_model=ServingEndpointStatus,
    description="A Databricks Model Serving endpoint: served model versions (by version or Unity "
                "Catalog alias), traffic split, inference tables, AI gateway and tags.",
    printer_columns=ready_columns(
        {"name": "Config", "type": "integer", "jsonPath": ".status.configVersion",
         "priority": 1, "description": "Version of the config being served."},
        {"name": "URL", "type": "string", "jsonPath": ".status.url",
         "description": "Invocation URL."},
    ),
    root_validations=[
        cel("has(self.spec.name) || self.metadata.name.matches('" + ENDPOINT_NAME_PATTERN + "')",
            "metadata.name is not a valid Databricks endpoint name (letters, digits, '-' and '_', "
            "at most 63 characters); set spec.name", reason="FieldValueRequired",
            field_path=".spec.name"),
    ],
)
