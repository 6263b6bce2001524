"""Ready / Reconciling / Stalled conditions, as kubectl wait, kstatus and Argo CD read them.

Exactly one of the three is True at any time, except while the object is paused
(``lakeserve.dev/paused``): then all three are False with reason Paused -- kstatus reads the
Ready=False as InProgress (the operator vouches for nothing while paused), Argo CD's health check
as Suspended. lastTransitionTime changes only when a condition's
status flips, so a converged object's status is byte-for-byte stable (no writes at steady state).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from lakeserve.reconcile import reasons

READY, RECONCILING, STALLED = "Ready", "Reconciling", "Stalled"
TYPES = (READY, RECONCILING, STALLED)


class Phase(str, Enum):
    READY = "Ready"
    RECONCILING = "Reconciling"
    STALLED = "Stalled"
    PAUSED = "Paused"  # none of the three conditions is True


@dataclass(frozen=True)
class Verdict:
    """The engine's conclusion for one pass."""

    phase: Phase
    reason: str
    message: str = ""

    @classmethod
    def ready(cls, message: str = "") -> Verdict:
        return cls(Phase.READY, reasons.READY, message)

    @classmethod
    def reconciling(cls, reason: str, message: str = "") -> Verdict:
        return cls(Phase.RECONCILING, reason, message)

    @classmethod
    def stalled(cls, reason: str, message: str = "") -> Verdict:
        return cls(Phase.STALLED, reason, message)

    @classmethod
    def paused(cls, message: str) -> Verdict:
        return cls(Phase.PAUSED, reasons.PAUSED, message)


def now_rfc3339() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def build_conditions(verdict: Verdict, generation: int,
                     previous: Iterable[Mapping[str, Any]] | None,
                     now: str | None = None) -> list[dict[str, Any]]:
    """The three conditions for this verdict, keeping transition times that did not flip."""
    before = {c.get("type"): c for c in (previous or [])}
    stamp = now or now_rfc3339()
    result = []
    for type_ in TYPES:
        status, reason, message = _condition_values(type_, verdict)
        old = before.get(type_) or {}
        transition = old.get("lastTransitionTime") if old.get("status") == status else None
        result.append({
            "type": type_,
            "status": status,
            "reason": reason,
            "message": message,
            "observedGeneration": generation,
            "lastTransitionTime": transition or stamp,
        })
    return result


def _condition_values(type_: str, verdict: Verdict) -> tuple[str, str, str]:
    is_true = verdict.phase.value == type_
    if verdict.phase is Phase.PAUSED:
        return "False", verdict.reason, verdict.message if type_ == READY else ""
    if type_ == READY:
        if is_true:
            return "True", verdict.reason, verdict.message or "Databricks matches the spec"
        return "False", verdict.reason, verdict.message
    if is_true:
        return "True", verdict.reason, verdict.message
    if verdict.phase is Phase.READY:
        return "False", reasons.READY, ""
    return "False", verdict.reason, ""


def condition(status: Mapping[str, Any] | None, type_: str) -> Mapping[str, Any] | None:
    for entry in (status or {}).get("conditions") or []:
        if entry.get("type") == type_:
            return entry
    return None


def is_ready(body: Mapping[str, Any]) -> bool:
    """Ready=True for the object's current generation."""
    status = body.get("status") or {}
    ready = condition(status, READY)
    generation = (body.get("metadata") or {}).get("generation")
    return bool(ready and ready.get("status") == "True"
                and status.get("observedGeneration") == generation)
