"""Pieces shared by every kind: base models, conditions, policies and CEL helpers.

The CRD YAML in ``crds/`` is generated from these models (see ``lakeserve.api.crd``), so every
field carries a description and the validation rules live next to the field they guard.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

GROUP = "lakeserve.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
CATEGORY = "lakeserve"
FINALIZER = f"{GROUP}/finalizer"
ADOPT_ANNOTATION = f"{GROUP}/adopt"
PAUSED_ANNOTATION = f"{GROUP}/paused"
# Any new value asks for a pass now, ending a backoff after a refused write.
RECONCILE_REQUESTED_ANNOTATION = f"{GROUP}/reconcile-requested-at"


class CamelModel(BaseModel):
    """Base for spec and status models: camelCase on the wire, snake_case in Python.

    Unknown fields are ignored rather than refused: the API server already prunes them, and an
    operator older than its CRD must still read newer objects.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        use_enum_values=True,
    )

    def to_wire(self) -> dict[str, Any]:
        """The camelCase dict as stored in Kubernetes, without unset fields."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


def cel(rule: str, message: str, *, reason: str | None = None, field_path: str | None = None,
        message_expression: str | None = None) -> dict[str, Any]:
    """One ``x-kubernetes-validations`` entry."""
    entry: dict[str, Any] = {"rule": rule, "message": message}
    if message_expression:
        entry["messageExpression"] = message_expression
    if reason:
        entry["reason"] = reason
    if field_path:
        entry["fieldPath"] = field_path
    return entry


def cel_quote(text: str) -> str:
    """A CEL string literal for ``text`` (regexes carry backslashes that CEL must not eat)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def validations(*rules: dict[str, Any]) -> dict[str, Any]:
    """``json_schema_extra`` carrying CEL rules, for a model or a field."""
    return {"x-kubernetes-validations": list(rules)}


def immutable(field: str, what: str, *, unless_recreate: bool = False) -> dict[str, Any]:
    """A transition rule refusing changes to an optional create-only field.

    With ``unless_recreate`` the change is allowed when the object opts into
    ``updatePolicy: Recreate`` (the operator then deletes and recreates the Databricks object).
    """
    same = (f"has(self.{field}) == has(oldSelf.{field}) && "
            f"(!has(self.{field}) || self.{field} == oldSelf.{field})")
    if unless_recreate:
        rule = f"(has(self.updatePolicy) && self.updatePolicy == 'Recreate') || ({same})"
        message = (f"{field} ({what}) cannot be changed in place on Databricks; "
                   f"set updatePolicy: Recreate to replace the object, or keep the old value")
    else:
        rule = same
        message = f"{field} ({what}) is immutable; create a new object instead"
    return cel(rule, message, reason="FieldValueForbidden")


class DeletionPolicy(str, Enum):
    """What happens to the Databricks object when the Kubernetes object is deleted."""

    DELETE = "Delete"
    ORPHAN = "Orphan"


class UpdatePolicy(str, Enum):
    """How changes to fields Databricks cannot update in place are handled."""

    UPDATE = "Update"
    RECREATE = "Recreate"


class ManagementPolicy(str, Enum):
    """What the operator may do to the Databricks object (Crossplane's vocabulary)."""

    FULL = "Full"
    OBSERVE_ONLY = "ObserveOnly"


MANAGEMENT_POLICY_DESCRIPTION = (
    "Full (default): the operator creates, updates and deletes the Databricks object. "
    "ObserveOnly: it only reads the object and mirrors it into status (Ready when it exists, "
    "Stalled/NotFound when it does not); it never writes, never deletes whatever deletionPolicy "
    "says, and needs no lakeserve.dev/adopt to observe an object it did not create."
)
DELETION_POLICY_DESCRIPTION = (
    "What happens to the Databricks object when this resource is deleted: Delete removes it, "
    "Orphan leaves it in the workspace untouched."
)
UPDATE_POLICY_DESCRIPTION = (
    "Update (default) refuses changes to fields Databricks cannot change in place; Recreate allows "
    "them and the operator replaces the Databricks object (expect a short outage)."
)


class OwnershipHow(str, Enum):
    CREATED = "Created"
    ADOPTED = "Adopted"


class Ownership(CamelModel):
    """The Databricks object this resource created or adopted: only that one is written to and
    deleted. Written before a create is sent, so a create whose answer was lost (or an operator
    killed meanwhile) still finds its object its own."""

    name: str = Field(description="Name of the Databricks object (endpoint, table or function).")
    how: OwnershipHow = Field(
        description="Created (the operator sent its create) or Adopted (taken over because of "
                    "the lakeserve.dev/adopt annotation).")
    since: str | None = Field(default=None, description="When (RFC 3339).")


class Backoff(CamelModel):
    """Databricks refused a create or update of these inputs; the next attempt waits."""

    attempts: int = Field(description="Refused attempts for these inputs so far.")
    next_attempt_at: str = Field(description="Earliest time of the next attempt (RFC 3339).")
    inputs: str = Field(
        description="Fingerprint of what was refused (generation, lakeserve.dev annotations, "
                    "dependencies); any change retries at once.")


class ConditionStatus(str, Enum):
    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class Condition(CamelModel):
    """A standard Kubernetes condition, as read by kubectl wait, kstatus and Argo CD."""

    type: str = Field(description="Condition type: Ready, Reconciling or Stalled.")
    status: ConditionStatus = Field(description="True, False or Unknown.")
    reason: str = Field(description="CamelCase reason for the last transition or the current state.")
    message: str = Field(default="", description="Human-readable details.")
    observed_generation: int | None = Field(
        default=None, description="The metadata.generation this condition was computed for.")
    last_transition_time: str | None = Field(
        default=None, description="When status last changed (RFC 3339).")


class ConditionedStatus(CamelModel):
    """Fields the status of every lakeserve kind carries."""

    observed_generation: int | None = Field(
        default=None, description="The metadata.generation the operator last reconciled.")
    conditions: list[Condition] = Field(
        default_factory=list,
        description="Ready, Reconciling and Stalled, following Kubernetes API conventions.",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )


class ManagedWorkspace(CamelModel):
    """The Databricks workspace a managed object was last reconciled in."""

    kind: str = Field(description="Workspace, ClusterWorkspace, or Default (the operator's).")
    name: str | None = Field(default=None, description="Its metadata.name (not for Default).")
    host: str = Field(description="The workspace URL, normalized.")


class StatusBase(ConditionedStatus):
    """Fields every managed kind's status carries."""

    workspace: ManagedWorkspace | None = Field(
        default=None, description="The workspace this object was last reconciled in.")
    owned: Ownership | None = Field(
        default=None, description="The Databricks object this resource created or adopted.")
    backoff: Backoff | None = Field(
        default=None, description="Set while a refused create or update waits for its next "
                                  "attempt.")


class ObjectReference(CamelModel):
    """A reference to another lakeserve object in the same namespace."""

    kind: str = Field(description="Kind of the referenced object: FeatureFunction, OnlineTable "
                                  "or FeatureSpec.",
                      json_schema_extra={"enum": ["FeatureFunction", "OnlineTable",
                                                  "FeatureSpec"]})
    name: str = Field(description="metadata.name of the referenced object.", max_length=253)


# Three-level Unity Catalog names: catalog.schema.object, each part a plain identifier.
UC_NAME_PART = r"[A-Za-z0-9_][A-Za-z0-9_-]*"
UC_THREE_LEVEL_PATTERN = rf"^{UC_NAME_PART}[.]{UC_NAME_PART}[.]{UC_NAME_PART}$"
UC_THREE_LEVEL_HINT = "a three-level Unity Catalog name: catalog.schema.name"
