"""Workspace and ClusterWorkspace: which Databricks workspace an object lives in, with which
credentials.

A ``Workspace`` is namespaced: objects of its own namespace may use it, and its credentials Secret
is read from that namespace only. A ``ClusterWorkspace`` is cluster-scoped: objects of the
namespaces its ``allowedNamespaces`` selector admits may use it, and its Secret is read from the
operator's own namespace only. Managed objects name one with ``spec.workspaceRef``; without it
they use the operator's default workspace (its environment or ``LAKESERVE_CREDENTIALS_SECRET``),
unless the installation turned that off.
"""

from __future__ import annotations

from enum import Enum

from pydantic import Field

from lakeserve.api.common import CamelModel, ConditionedStatus, cel, immutable, validations
from lakeserve.api.crd import KindInfo, ready_columns

KIND = "Workspace"
PLURAL = "workspaces"
CLUSTER_KIND = "ClusterWorkspace"
CLUSTER_PLURAL = "clusterworkspaces"

# Scheme and host name (optionally a port): what Databricks' workspace URLs look like.
HOST_PATTERN = r"^https?://[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?/?$"
HOST_HINT = ("a workspace URL: https:// and the host name, without a path, e.g. "
             "https://adb-1234567890123456.7.azuredatabricks.net")
# metadata.name of a Secret (a DNS subdomain).
SECRET_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"
NAMESPACE_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
LABEL_KEY_PATTERN = r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"

SECRET_DESCRIPTION = (
    "The Secret holding the credentials, with the keys of exactly one auth method: "
    "DATABRICKS_TOKEN (a personal access token); DATABRICKS_CLIENT_ID and "
    "DATABRICKS_CLIENT_SECRET (OAuth M2M, a Databricks service principal); or ARM_CLIENT_ID, "
    "ARM_CLIENT_SECRET and ARM_TENANT_ID (an Azure service principal). No other keys.")


class SecretReference(CamelModel):
    """A Secret, by name (its namespace is fixed by the kind)."""

    name: str = Field(max_length=253, min_length=1, pattern=SECRET_NAME_PATTERN,
                      description="metadata.name of the Secret.")


class WriteLimit(CamelModel):
    """Client-side limit on create/update calls to this workspace."""

    operations: int = Field(ge=1, le=100000, description="Creates and updates allowed per window.")
    window_seconds: int = Field(ge=1, le=86400, description="Length of the sliding window.")


def _host_field() -> object:
    return Field(max_length=253, description=f"Where the workspace is: {HOST_HINT}. Cannot change.",
                 json_schema_extra=validations(cel(
                     f"self.matches('{HOST_PATTERN}')", f"host must be {HOST_HINT}",
                     reason="FieldValueInvalid")))


class WorkspaceSpec(CamelModel):
    """Where the workspace is and how to authenticate to it."""

    model_config = CamelModel.model_config | {
        "json_schema_extra": validations(immutable(
            "host", "objects using this workspace live in that Databricks workspace"))}

    host: str = _host_field()
    credentials_secret_ref: SecretReference = Field(description=SECRET_DESCRIPTION)
    http_timeout_seconds: int | None = Field(
        default=None, ge=1, le=600,
        description="Timeout of one HTTP request (default: LAKESERVE_HTTP_TIMEOUT).")
    retry_timeout_seconds: int | None = Field(
        default=None, ge=1, le=600,
        description="The Databricks SDK's retry budget per call (default: "
                    "LAKESERVE_RETRY_TIMEOUT).")
    write_limit: WriteLimit | None = Field(
        default=None,
        description="Client-side write limit for this workspace's host, shared by every object "
                    "of every namespace using that host (default: LAKESERVE_WRITE_LIMIT per "
                    "LAKESERVE_WRITE_WINDOW). When several Workspaces and ClusterWorkspaces name "
                    "one host with different limits, the strictest applies.")


class SelectorOperator(str, Enum):
    IN = "In"
    NOT_IN = "NotIn"
    EXISTS = "Exists"
    DOES_NOT_EXIST = "DoesNotExist"


class LabelSelectorRequirement(CamelModel):
    """One requirement on a namespace label."""

    model_config = CamelModel.model_config | {
        "json_schema_extra": validations(cel(
            "(self.operator in ['In', 'NotIn']) == (has(self.values) && size(self.values) > 0)",
            "values must be non-empty for In and NotIn, and absent for Exists and DoesNotExist",
            reason="FieldValueInvalid"))}

    key: str = Field(max_length=317, pattern=LABEL_KEY_PATTERN, description="The label key.")
    operator: SelectorOperator = Field(description="In, NotIn, Exists or DoesNotExist.")
    values: list[str] | None = Field(
        default=None, max_length=64, description="Label values, for In and NotIn.",
        json_schema_extra={"items": {"type": "string", "maxLength": 63}})


class LabelSelector(CamelModel):
    """A Kubernetes label selector; all requirements must hold. {} selects every namespace."""

    match_labels: dict[str, str] | None = Field(
        default=None, description="Labels the namespace must carry, with these values.",
        json_schema_extra={"maxProperties": 64})
    match_expressions: list[LabelSelectorRequirement] | None = Field(
        default=None, max_length=64, description="Further requirements on namespace labels.")


class ClusterWorkspaceSpec(WorkspaceSpec):
    """A workspace shared by the namespaces the selector admits (Secret: operator's namespace)."""

    allowed_namespaces: LabelSelector = Field(
        description="The namespaces whose objects may use this workspace, by their labels. "
                    "{} admits every namespace; objects of other namespaces stall with "
                    "WorkspaceNotAllowed and nothing is sent to Databricks.")


class WorkspaceStatus(ConditionedStatus):
    """What the operator found when it last checked the credentials."""

    host: str | None = Field(default=None, description="The workspace URL, normalized.")
    workspace_id: str | None = Field(default=None, description="Databricks workspace id.")
    identity: str | None = Field(
        default=None, description="Who the credentials authenticate: a user name, or a service "
                                  "principal's application id.")
    auth_type: str | None = Field(
        default=None, description="pat, oauth-m2m or azure-client-secret.")


class WorkspaceKind(str, Enum):
    WORKSPACE = KIND
    CLUSTER_WORKSPACE = CLUSTER_KIND


class WorkspaceReference(CamelModel):
    """The Workspace or ClusterWorkspace the Databricks object lives in."""

    model_config = CamelModel.model_config | {
        "json_schema_extra": validations(cel(
            "!has(self.namespace) || self.kind == 'Workspace'",
            "namespace applies to kind Workspace only: a ClusterWorkspace has none",
            reason="FieldValueForbidden", field_path=".namespace"))}

    kind: WorkspaceKind = Field(
        default=WorkspaceKind.WORKSPACE,
        description="Workspace (in this object's namespace) or ClusterWorkspace (admitting "
                    "this namespace).")
    name: str = Field(max_length=253, min_length=1, description="metadata.name of it.")
    namespace: str | None = Field(
        default=None, max_length=63, pattern=NAMESPACE_PATTERN,
        description="Only this object's own namespace is allowed: a Workspace serves its own "
                    "namespace (any other stalls with WorkspaceNotAllowed).")


WORKSPACE_REF_DESCRIPTION = (
    "The Workspace or ClusterWorkspace this object lives in. Unset: the operator's default "
    "workspace, when the installation has one. Cannot change.")


def workspace_ref_rule() -> dict:
    return immutable("workspaceRef", "the workspace the Databricks object lives in")


def _columns() -> list[dict]:
    return ready_columns(
        {"name": "Host", "type": "string", "jsonPath": ".status.host",
         "description": "The workspace URL."},
        {"name": "Identity", "type": "string", "jsonPath": ".status.identity",
         "description": "The user or service principal the credentials authenticate."},
        {"name": "Workspace-ID", "type": "string", "jsonPath": ".status.workspaceId",
         "priority": 1, "description": "Databricks workspace id."},
    )


INFO = KindInfo(
    kind=KIND,
    plural=PLURAL,
    singular="workspace",
    short_names=["ws"],
    spec_model=WorkspaceSpec,
    status_model=WorkspaceStatus,
    description="A Databricks workspace and the credentials for it, usable by the objects of "
                "this namespace (spec.workspaceRef); the Secret is read from this namespace.",
    printer_columns=_columns(),
)

CLUSTER_INFO = KindInfo(
    kind=CLUSTER_KIND,
    plural=CLUSTER_PLURAL,
    singular="clusterworkspace",
    short_names=["cws"],
    spec_model=ClusterWorkspaceSpec,
    status_model=WorkspaceStatus,
    description="A Databricks workspace and the credentials for it, usable by the objects of "
                "the namespaces spec.allowedNamespaces admits; the Secret is read from the "
                "operator's namespace.",
    printer_columns=_columns(),
    cluster_scoped=True,
)


def selects(selector: LabelSelector, labels: dict[str, str]) -> bool:
    """Whether a namespace with ``labels`` is admitted (Kubernetes label selector semantics)."""
    for key, value in (selector.match_labels or {}).items():
        if labels.get(key) != value:
            return False
    return all(_holds(requirement, labels) for requirement in selector.match_expressions or [])


def _holds(requirement: LabelSelectorRequirement, labels: dict[str, str]) -> bool:
    operator, key = requirement.operator, requirement.key
    if operator == SelectorOperator.EXISTS:
        return key in labels
    if operator == SelectorOperator.DOES_NOT_EXIST:
        return key not in labels
    inside = key in labels and labels[key] in (requirement.values or [])
    return inside if operator == SelectorOperator.IN else not inside
