"""What a pass tells Kubernetes: status patches, events, and log lines about condition changes.

Status is written only when it changed (a converged object costs no writes), one Warning event
per distinct failure rather than one per pass, one log line per condition change.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from lakeserve.api.crd import KindInfo
from lakeserve.reconcile import conditions, reasons
from lakeserve.reconcile.conditions import Verdict
from lakeserve.reconcile.patch import merge_patch, without_none
from lakeserve.redact import redact
from lakeserve.resources.base import Event

log = logging.getLogger("lakeserve.reconcile.engine")


class KubePort(Protocol):
    """The Kubernetes side: status and finalizer writes, reads of other lakeserve objects."""

    async def patch_status(self, info: KindInfo, namespace: str, name: str,
                           patch: Mapping[str, Any]) -> None: ...

    async def patch_metadata(self, info: KindInfo, namespace: str, name: str,
                             patch: Mapping[str, Any]) -> None: ...

    async def get_object(self, info: KindInfo, namespace: str, name: str) -> Mapping | None: ...


class EventPort(Protocol):
    def record(self, body: Mapping[str, Any], event: Event) -> None: ...


@dataclass
class Report:
    """What one pass (or one deletion step) wants known about the object."""

    verdict: Verdict
    status: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    # Identifies the failure for the once-only Warning event, when the message carries details
    # that change between attempts (e.g. the time of the next one).
    warning_key: str | None = None
    # Repeats a failure already reported (waiting out a backoff): no Warning event.
    quiet: bool = False


class Publisher:
    def __init__(self, kube: KubePort, events: EventPort):
        self.kube = kube
        self.events = events
        self._last_warning: dict[str, tuple[str, str]] = {}

    async def write_status(self, info: KindInfo, body: Mapping[str, Any],
                           report: Report) -> dict[str, Any]:
        """Patch status to the report (only what changed); the new status."""
        old_status = dict(body.get("status") or {})
        generation = (body.get("metadata") or {}).get("generation") or 0
        verdict = _redacted(report.verdict)
        new_status = {key: value for key, value in old_status.items() if key != "kopf"}
        new_status.update(report.status)
        new_status["observedGeneration"] = generation
        new_status["conditions"] = conditions.build_conditions(
            verdict, generation, old_status.get("conditions"))
        new_status = without_none(new_status)
        patch = merge_patch(old_status, new_status)
        patch.pop("kopf", None)
        if patch:
            meta = body["metadata"]
            await self.kube.patch_status(info, meta.get("namespace", ""), meta["name"], patch)
        self._log_verdict(body, verdict, old_status.get("conditions"))
        return new_status

    def announce(self, body: Mapping[str, Any], report: Report) -> None:
        """The report's events, then a Warning for a new failure."""
        for event in report.events:
            self.record(body, event)
        if not report.quiet:
            self.warn_once(body, _redacted(report.verdict), report.warning_key)

    def warn_once(self, body: Mapping[str, Any], verdict: Verdict,
                  key: str | None = None) -> None:
        """One Warning event per distinct failure, not one per pass."""
        uid = _uid(body)
        failing = verdict.phase is conditions.Phase.STALLED or verdict.reason in (
            reasons.THROTTLED, reasons.TRANSIENT_ERROR)
        if not failing:
            self._last_warning.pop(uid, None)
            return
        signature = (verdict.reason, key or verdict.message)
        if signature != self._last_warning.get(uid):
            self._last_warning[uid] = signature
            self.record(body, Event(verdict.reason, verdict.message, warning=True))

    def record(self, body: Mapping[str, Any], event: Event) -> None:
        message = redact(event.message)
        meta = body.get("metadata") or {}
        log.log(logging.WARNING if event.warning else logging.INFO, "%s %s event %s: %s",
                body.get("kind"), _where(meta), event.reason, message, extra=_about(body))
        self.events.record(body, Event(event.reason, message, event.warning))

    def forget(self, uid: str) -> None:
        self._last_warning.pop(uid, None)

    def _log_verdict(self, body: Mapping[str, Any], verdict: Verdict,
                     previous: list[dict] | None) -> None:
        """One log line when the object's condition changes, not one per pass."""
        if _unchanged({"conditions": previous or []}, verdict):
            return
        meta = body.get("metadata") or {}
        level = logging.WARNING if verdict.phase is conditions.Phase.STALLED else logging.INFO
        log.log(level, "%s %s: %s (%s) %s", body.get("kind"), _where(meta),
                verdict.phase.value, verdict.reason, verdict.message, extra=_about(body))


def _about(body: Mapping[str, Any]) -> dict[str, Any]:
    """The object a log line is about, where kopf's formatters look for it (JSON logs show it
    as "object", as in kopf's own lines)."""
    meta = body.get("metadata") or {}
    return {"k8s_ref": {"apiVersion": body.get("apiVersion"), "kind": body.get("kind"),
                        "name": meta.get("name"), "uid": meta.get("uid"),
                        "namespace": meta.get("namespace")}}


def _unchanged(previous: Mapping[str, Any], verdict: Verdict) -> bool:
    if verdict.phase is conditions.Phase.PAUSED:  # no condition is True while paused
        before, status = conditions.condition(previous, conditions.READY), "False"
    else:
        before, status = conditions.condition(previous, verdict.phase.value), "True"
    return bool(before and before.get("status") == status
                and before.get("reason") == verdict.reason)


def _redacted(verdict: Verdict) -> Verdict:
    return Verdict(verdict.phase, verdict.reason, redact(verdict.message))


def _uid(body: Mapping[str, Any]) -> str:
    return (body.get("metadata") or {}).get("uid", "")


def _where(meta: Mapping[str, Any]) -> str:
    """namespace/name, or name for a cluster-scoped object."""
    namespace = meta.get("namespace")
    return f"{namespace}/{meta.get('name')}" if namespace else str(meta.get("name"))
