"""What one pass over one object carries from step to step, shared by the engine's modules."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lakeserve.api.common import ObjectReference
from lakeserve.api.crd import KindInfo
from lakeserve.databricks.workspace import Workspace
from lakeserve.reconcile import backoff
from lakeserve.reconcile.policy import ENGINE_ANNOTATIONS, Policy
from lakeserve.reconcile.publish import Report
from lakeserve.reconcile.timing import Pacing
from lakeserve.reconcile.workspaces import Resolved
from lakeserve.resources.base import ExternalClient, Managed, no_dependencies


@dataclass(frozen=True)
class Registration:
    """How the engine handles one kind."""

    info: KindInfo
    client_factory: Callable[[Workspace], ExternalClient]
    dependencies: Callable[[Any], list[ObjectReference]] = no_dependencies
    # Annotations whose changes must wake the object's worker (e.g. a re-sync request), besides
    # the ones every kind reads (policy.ENGINE_ANNOTATIONS).
    watched_annotations: tuple[str, ...] = ()
    # The create itself marks the Databricks object as this resource's (an owner tag), so no
    # ownership record needs to reach Kubernetes before it is sent.
    marks_ownership: bool = False

    @property
    def annotations(self) -> tuple[str, ...]:
        return ENGINE_ANNOTATIONS + self.watched_annotations


@dataclass
class Decision(Report):
    requeue_after: float = 0.0
    # The status waits for the next pass (see Engine._create); events go out now.
    defer_status: bool = False

    @property
    def held(self) -> bool:
        """Waiting out a refusal's backoff: the recorded backoff stays as it is."""
        return self.quiet


@dataclass
class Memory:
    """What the engine remembers about one object between passes (in memory only)."""

    pacing: Pacing = field(default_factory=Pacing)
    # The status this process last wrote. The watch event carrying it may not have arrived
    # when the next pass starts, so it is fresher than the body's.
    status: dict[str, Any] | None = None
    # Status fields of a deferred write, folded into the next pass's status write.
    deferred: dict[str, Any] | None = None
    # The finalizer is on the object (the watch event saying so may still be on its way).
    finalizer: bool = False


@dataclass
class Pass:
    """One pass (or deletion step) over one object: what its steps share."""

    registration: Registration
    body: Mapping[str, Any]
    memory: Memory
    obj: Managed | None = None
    policy: Policy | None = None
    # The Ready dependencies this pass found (what a write is made from, besides the spec).
    dependencies: list[Mapping[str, Any]] = field(default_factory=list)
    workspace: Workspace | None = None
    resolved: Resolved | None = None  # the workspace of this pass, once known
    creating: bool = False

    @property
    def inputs(self) -> str:
        """The fingerprint of this pass's inputs, for backoffs (computed only when one needs
        it: hashing it on every pass costs more than the rest of a quiet pass)."""
        return backoff.inputs_of(self.obj, self.registration.annotations, self.dependencies)


class WriteFailed(Exception):
    """A create, update or delete failed: refusals of writes back off (see ``backoff``)."""

    def __init__(self, cause: Exception):
        super().__init__(str(cause))
        self.cause = cause
