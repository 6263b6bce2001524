"""Deleting (or keeping) the Databricks object when its resource is deleted.

Orphan and ObserveOnly keep it; a resource that never created or adopted anything has nothing
to delete; a pause makes the deletion wait; otherwise the object is read once more and deleted
only if it is this resource's own (marker or record). Then the operator's finalizer comes off
and Kubernetes lets the resource go.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from lakeserve.api.common import DeletionPolicy
from lakeserve.databricks.clients import WorkspaceUnreachable
from lakeserve.databricks.errors import FailureKind, classify
from lakeserve.databricks.workspace import CredentialsError
from lakeserve.reconcile import finalizer, ownership, reasons
from lakeserve.reconcile.conditions import Phase, Verdict
from lakeserve.reconcile.failures import FAILURE_REASONS
from lakeserve.reconcile.passes import Decision, Pass
from lakeserve.reconcile.policy import PAUSED_MESSAGE, InvalidAnnotation, policy_of
from lakeserve.reconcile.workspaces import WorkspaceUnavailable
from lakeserve.resources.base import DeleteState, Event, ExternalClient, Observation


class Deletion:
    """Engine methods for deletion (mixed into ``Engine``)."""

    async def finalize(self, kind: str, body: Mapping[str, Any]) -> float | None:
        """Delete (or keep) the Databricks object, then remove the finalizer. None when done,
        else seconds to retry."""
        delay = await self._finalize(kind, body)
        if delay is None:
            await finalizer.release(self.kube, self.registrations[kind].info, body)
        return delay

    async def _finalize(self, kind: str, body: Mapping[str, Any]) -> float | None:
        current = self._begin(kind, body)
        try:
            current.obj = self._managed(current.registration, current.body)
            current.policy = policy_of(current.obj)
        except (ValidationError, InvalidAnnotation):
            return self._finished(current, Event(
                reasons.ORPHANED, "spec or annotations are not valid, so the Databricks object "
                "is left in place", warning=True))
        kept = _kept_because(current)
        if kept:
            return self._finished(current, Event(reasons.ORPHANED, kept))
        if not _may_own_something(current):
            # A resource that never created or adopted anything needs no call to go (e.g. one
            # whose credentials never worked).
            return self._finished(current, Event(reasons.NOT_OWNED, (
                f"this {kind} never created or adopted a Databricks object: nothing to delete")))
        if current.policy.paused:
            return await self._deletion_blocked(current, reasons.PAUSED, PAUSED_MESSAGE)
        return await self._delete(current)

    async def _delete(self, current: Pass) -> float | None:
        kind, obj = current.registration.info.kind, current.obj
        located = Observation(exists=False)
        try:
            current.resolved = await self.tenancy.resolve(obj, deleting=True)
            client, located = await self._call(self._locate, current)
            if not located.exists:
                return self._finished(current, Event(
                    reasons.DELETED, f"the Databricks {kind} {located.name} no longer exists"))
            if not ownership.may_delete(obj, located):
                return self._finished(current, Event(reasons.NOT_OWNED, (
                    f"{located.name} was not created by this {kind}"
                    + (f" (it is managed by {located.owner})" if located.owner else "")
                    + ": it is left untouched in Databricks"), warning=True))
            state = await self._call(client.delete, obj)
        except WorkspaceUnavailable as exc:
            if not obj.status.get("workspace") and not obj.status.get("owned"):
                # Never reconciled in any workspace: nothing of it exists in Databricks.
                return self._finished(current, Event(reasons.NOT_OWNED, (
                    f"this {kind} was never reconciled in a workspace ({exc.verdict.reason}): "
                    "nothing to delete")))
            return await self._deletion_blocked(current, exc.verdict.reason, exc.verdict.message)
        except (CredentialsError, WorkspaceUnreachable) as exc:
            return await self._deletion_blocked(current, exc.reason, exc.message)
        except Exception as exc:  # noqa: BLE001 - every failure is reported and retried
            failure = classify(exc)
            if failure.kind is not FailureKind.NOT_FOUND:
                return await self._deletion_blocked(current, FAILURE_REASONS[failure.kind],
                                                    self._failure_message(failure, current))
            state = DeleteState.GONE
        if state is DeleteState.IN_PROGRESS:
            await self._write_status(current, Decision(Verdict.reconciling(
                reasons.DELETING, f"deleting the Databricks {kind}")))
            return current.memory.pacing.converging(self.settings)
        return self._finished(current, Event(reasons.DELETED, f"deleted the Databricks {kind} "
                                                              f"{located.name}".rstrip()))

    def _locate(self, current: Pass) -> tuple[ExternalClient, Observation]:
        """In a worker thread, one trip for the client and the lookup."""
        client = current.registration.client_factory(current.resolved.workspace)
        return client, client.locate(current.obj)

    async def _deletion_blocked(self, current: Pass, reason: str, message: str) -> float:
        verdict = Verdict.reconciling(reasons.DELETING, f"cannot delete yet: {message}")
        await self._write_status(current, Decision(verdict))
        self.publisher.warn_once(current.body, Verdict(Phase.STALLED, reason, verdict.message))
        return current.memory.pacing.failing(self.settings)

    def _finished(self, current: Pass, event: Event) -> None:
        self.publisher.record(current.body, event)
        self.forget(current.body)


def _may_own_something(current: Pass) -> bool:
    """Every adoption is recorded when it happens, and so is every create -- before it is sent,
    except for kinds whose create carries the owner marker: their record comes with the first
    status after the create (deferred for a brand-new object, see Engine._create). So for those,
    an object without a record that never had a status yet may own what it created: the marker
    decides (one read)."""
    status = current.obj.status
    if status.get("owned") or (current.memory.deferred or {}).get("owned"):
        return True
    return current.registration.marks_ownership and not status.get("conditions")


def _kept_because(current: Pass) -> str | None:
    """Why deletion leaves the Databricks object alone, if it does."""
    if current.policy.observe_only:
        return "managementPolicy is ObserveOnly: the Databricks object is never deleted"
    if current.obj.spec.deletion_policy == DeletionPolicy.ORPHAN:
        return "deletionPolicy is Orphan: the Databricks object is left in place"
    return None
