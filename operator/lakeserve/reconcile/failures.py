"""How the engine answers failures: retry soon, back off, or stall with what to fix."""

from __future__ import annotations

import logging
from typing import Any

from lakeserve.databricks.clients import WorkspaceUnreachable
from lakeserve.databricks.errors import Failure, FailureKind, SpecError, classify
from lakeserve.databricks.limiter import RateLimited
from lakeserve.databricks.workspace import CredentialsError
from lakeserve.reconcile import backoff, conditions, reasons
from lakeserve.reconcile.conditions import Verdict
from lakeserve.reconcile.passes import Decision, Pass, WriteFailed
from lakeserve.reconcile.workspaces import WorkspaceUnavailable
from lakeserve.redact import redact

log = logging.getLogger("lakeserve.reconcile.engine")

# The event and condition reason for each kind of failure.
FAILURE_REASONS = {
    FailureKind.THROTTLED: reasons.THROTTLED,
    FailureKind.TRANSIENT: reasons.TRANSIENT_ERROR,
    FailureKind.CONFLICT: reasons.TRANSIENT_ERROR,
    # A create that committed before its answer was lost: the next observe finds the object.
    FailureKind.ALREADY_EXISTS: reasons.TRANSIENT_ERROR,
    FailureKind.UNAUTHENTICATED: reasons.CREDENTIALS_INVALID,
    FailureKind.PERMISSION_DENIED: reasons.PERMISSION_DENIED,
    FailureKind.NOT_FOUND: reasons.NOT_FOUND,
    FailureKind.PERMANENT: reasons.REJECTED,
}
# Failures that need a spec change or outside help; as answers to a write, they are refusals
# of the write as it stands, and retrying the same inputs backs off.
_STALLING = (FailureKind.UNAUTHENTICATED, FailureKind.PERMISSION_DENIED, FailureKind.NOT_FOUND,
             FailureKind.PERMANENT)
_REFUSALS = (FailureKind.NOT_FOUND, FailureKind.PERMANENT, FailureKind.PERMISSION_DENIED)


class FailureHandling:
    """Engine methods for failed passes (mixed into ``Engine``)."""

    def _on_error(self, current: Pass, exc: Exception) -> Decision:
        pacing, settings = current.memory.pacing, self.settings
        during_write = isinstance(exc, WriteFailed)
        cause = exc.cause if during_write else exc
        if isinstance(cause, WorkspaceUnavailable):
            return self._without_workspace(current, cause)
        if isinstance(cause, (CredentialsError, WorkspaceUnreachable)):
            return Decision(Verdict.stalled(cause.reason, cause.message),
                            requeue_after=pacing.failing(settings, at_least=settings.converge_max))
        if isinstance(cause, RateLimited):
            if self.metrics:
                self.metrics.rate_limited()
            # At the drift interval at the latest: a workspace's write limit can be raised.
            return Decision(Verdict.reconciling(reasons.RATE_LIMITED, str(cause)),
                            requeue_after=min(cause.seconds + 1.0, settings.drift_interval))
        if isinstance(cause, SpecError):
            verdict = Verdict.stalled(cause.reason, redact(cause.message))
            if during_write:
                return self._refused(current, verdict)
            return Decision(verdict, requeue_after=pacing.settled(settings))
        log.debug("pass of %s failed", current.obj.key if current.obj else "?", exc_info=cause)
        return self._failed(current, classify(cause), during_write)

    def _without_workspace(self, current: Pass, problem: WorkspaceUnavailable) -> Decision:
        """Waiting polls like a dependency; not allowed backs off like bad credentials."""
        pacing, settings = current.memory.pacing, self.settings
        delay = pacing.converging(settings) if problem.waiting else \
            pacing.failing(settings, at_least=settings.converge_max)
        return Decision(problem.verdict, requeue_after=delay)

    def _failed(self, current: Pass, failure: Failure, during_write: bool) -> Decision:
        pacing, settings = current.memory.pacing, self.settings
        reason = FAILURE_REASONS[failure.kind]
        if failure.kind is FailureKind.UNAUTHENTICATED:
            refused = self.tenancy.refused(current.resolved, failure.message)
            if refused:
                return Decision(refused, requeue_after=pacing.converging(settings))
        if failure.kind is FailureKind.THROTTLED:
            wait = pacing.failing(settings, at_least=failure.retry_after or 0.0)
            if current.workspace is not None:
                current.workspace.limiter.pause(wait)
            return Decision(Verdict.reconciling(reason, f"Databricks is throttling requests: "
                                                        f"{failure.message}"),
                            requeue_after=wait)
        if failure.kind in _STALLING:
            verdict = Verdict.stalled(reason, self._failure_message(failure, current))
            if during_write and failure.kind in _REFUSALS:
                return self._refused(current, verdict)
            if failure.kind is FailureKind.UNAUTHENTICATED:  # a Secret may be fixed any time
                return Decision(verdict, requeue_after=pacing.failing(
                    settings, at_least=settings.converge_max))
            return Decision(verdict, requeue_after=pacing.settled(settings))
        return Decision(Verdict.reconciling(reason, failure.message),
                        requeue_after=pacing.failing(settings))

    def _failure_message(self, failure: Failure, current: Pass | None = None) -> str:
        source = getattr(self.workspaces, "source", "the operator's credentials")
        resolved = current.resolved if current else None
        if resolved is not None and resolved.source is not None:
            source = f"{resolved.source.identity} (Secret {resolved.source.secret})"
        if failure.kind is FailureKind.UNAUTHENTICATED:
            return (f"Databricks refused the credentials from {source} ({failure.message}): "
                    "fix the token or OAuth client there")
        if failure.kind is FailureKind.PERMISSION_DENIED:
            return (f"Databricks: {failure.message}. The identity of {source} lacks a "
                    "permission this object needs: grant it in the workspace")
        return f"Databricks: {failure.message}"

    def _refused(self, current: Pass, verdict: Verdict) -> Decision:
        """Databricks refused a write as it stands: back off until the inputs change."""
        status, delay, note = backoff.refused(current.obj, current.inputs, self.settings)
        if current.creating:
            status["owned"] = None  # nothing was created: the claim is withdrawn
        return Decision(Verdict.stalled(verdict.reason, f"{verdict.message}; {note}"), status,
                        requeue_after=min(delay + 0.5,
                                          current.memory.pacing.settled(self.settings)),
                        warning_key=verdict.message)

    def _held(self, current: Pass, facts: dict[str, Any]) -> Decision | None:
        """The write waits: Databricks refused these inputs and the backoff has not ended."""
        if not current.obj.status.get("backoff"):
            return None
        left = backoff.seconds_left(current.obj, current.inputs)
        if not left:
            return None
        stalled = conditions.condition(current.obj.status, conditions.STALLED) or {}
        if stalled.get("status") == "True":
            verdict = Verdict.stalled(stalled.get("reason"), stalled.get("message", ""))
        else:
            verdict = Verdict.stalled(reasons.REJECTED, f"Databricks refused a write of this "
                                                        f"spec; the next attempt waits {left:.0f}s")
        settled = current.memory.pacing.settled(self.settings)
        return Decision(verdict, facts, quiet=True, requeue_after=min(left + 0.5, settled))
