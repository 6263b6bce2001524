"""The contract between the engine and the one module per kind that talks to Databricks.

Modelled on Crossplane's external client: ``observe`` is read-only and says whether the Databricks
object exists, whose it is, whether it matches the spec, and whether an operation is in flight;
``create``, ``update`` and ``delete`` are idempotent and never wait for a long-running operation.
Whether the operator may write to an existing object is the engine's call, from the marker the
client reports and the engine's own record in status. All methods
are blocking (the SDK is) and run in the engine's thread pool.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Generic, Protocol, TypeVar

from lakeserve.api.common import ObjectReference
from lakeserve.databricks.workspace import Workspace

SpecT = TypeVar("SpecT")


@dataclass(frozen=True)
class Managed(Generic[SpecT]):
    """One Kubernetes object, as a resource client sees it."""

    kind: str
    namespace: str
    name: str
    uid: str
    generation: int
    spec: SpecT
    annotations: Mapping[str, str] = field(default_factory=dict)
    status: Mapping[str, Any] = field(default_factory=dict)  # as last written by the operator
    # The objects it depends on that exist, as read this pass, by "Kind/name" (e.g. a
    # FeatureFunction whose Unity Catalog name a reference stands for).
    dependencies: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class Event:
    """A Kubernetes event to record about the object."""

    reason: str
    message: str
    warning: bool = False


class Marker(str, Enum):
    """What the Databricks object itself says about who manages it."""

    OURS = "Ours"  # a marker (e.g. the endpoint's owner tag) names this resource
    FOREIGN = "Foreign"  # a marker names someone else (``Observation.owner``)
    NONE = "None"  # no marker (the kind has none, or it was never set): the engine's record decides


@dataclass
class Observation:
    """What ``observe`` found. The engine turns it into one action and a set of conditions."""

    exists: bool
    # The Databricks object's name (what status.owned records).
    name: str = ""
    # Whose object it is, by what Databricks shows; FOREIGN names the other ``owner``.
    marker: Marker = Marker.NONE
    owner: str | None = None
    # Fields that differ from the spec, in the user's terms; empty means up to date.
    diff: list[str] = field(default_factory=list)
    # Whether the differences can be applied in place; if not, only a Recreate helps.
    updatable: bool = True
    # An operation is in flight (reason, message): no write is possible until it ends.
    busy: tuple[str, str] | None = None
    # The object cannot progress as specified (reason, message): needs a spec or outside change.
    failed: tuple[str, str] | None = None
    # Databricks matches and serves (or holds synced data).
    ready: bool = False
    # Why not ready yet, when nothing else explains it (reason, message).
    progress: tuple[str, str] | None = None
    # Observed facts for the status (camelCase keys; None removes a key).
    status: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    # Status fields a create will record, written with the ownership claim before it is sent.
    create_status: dict[str, Any] = field(default_factory=dict)


@dataclass
class WriteResult:
    """What a write did: events to record and status fields to remember."""

    events: list[Event] = field(default_factory=list)
    status: dict[str, Any] = field(default_factory=dict)


class DeleteState(str, Enum):
    GONE = "Gone"
    IN_PROGRESS = "InProgress"


class ExternalClient(Protocol[SpecT]):
    """One per kind; constructed per pass with the workspace it talks to."""

    def observe(self, obj: Managed[SpecT]) -> Observation: ...

    def locate(self, obj: Managed[SpecT]) -> Observation:
        """Read only whether the object exists, its name and marker (before a deletion)."""
        ...

    def create(self, obj: Managed[SpecT], observation: Observation) -> WriteResult: ...

    def update(self, obj: Managed[SpecT], observation: Observation) -> WriteResult: ...

    def delete(self, obj: Managed[SpecT]) -> DeleteState: ...


class ClientFactory(Protocol[SpecT]):
    def __call__(self, workspace: Workspace) -> ExternalClient[SpecT]: ...


def no_dependencies(spec: Any) -> list[ObjectReference]:
    return []
