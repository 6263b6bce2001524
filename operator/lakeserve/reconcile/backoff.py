"""Bounded retries of writes Databricks refused.

A create or update refused as it stands (400, 403, 404, a failed SQL statement) would fail the
same way on every drift pass -- twelve refused writes an hour per object, each taking one of the
workspace's write slots. So the refusal is remembered in ``status.backoff`` (surviving an
operator restart) with the fingerprint of the inputs that were refused: generation, the
lakeserve.dev annotations the engine reads and the dependencies' identities. Until the next
attempt is due (``refused_backoff`` doubling up to ``refused_backoff_max``) the object is read,
never written; any change of those inputs retries at once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from lakeserve.resources.base import Managed
from lakeserve.settings import Settings


def inputs_of(obj: Managed, annotations: Sequence[str],
              dependencies: Sequence[Mapping[str, Any]]) -> str:
    """A short fingerprint of what a write is made from, besides the workspace's state."""
    material = {
        "generation": obj.generation,
        "annotations": {key: obj.annotations.get(key) for key in sorted(annotations)},
        "dependencies": [_identity(body) for body in dependencies],
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:16]


def _identity(body: Mapping[str, Any]) -> list:
    meta = body.get("metadata") or {}
    return [body.get("kind"), meta.get("name"), meta.get("uid"), meta.get("generation")]


def seconds_left(obj: Managed, inputs: str, now: datetime | None = None) -> float:
    """How long a write of ``inputs`` must still wait; 0 when it may go now."""
    backoff = obj.status.get("backoff") or {}
    if backoff.get("inputs") != inputs or not backoff.get("nextAttemptAt"):
        return 0.0
    due = _parse(backoff["nextAttemptAt"])
    return max(0.0, (due - (now or _now())).total_seconds())


def refused(obj: Managed, inputs: str, settings: Settings,
            now: datetime | None = None) -> tuple[dict[str, Any], float, str]:
    """After a refusal: the status to record, seconds until the next attempt, and what the
    Stalled message says about it."""
    backoff = obj.status.get("backoff") or {}
    attempts = (backoff.get("attempts") or 0) + 1 if backoff.get("inputs") == inputs else 1
    delay = min(settings.refused_backoff * 2 ** (attempts - 1), settings.refused_backoff_max)
    due = (now or _now()) + timedelta(seconds=delay)
    stamp = due.replace(microsecond=0).isoformat().replace("+00:00", "Z")
    status = {"backoff": {"attempts": attempts, "nextAttemptAt": stamp, "inputs": inputs}}
    note = (f"refused {attempts} time(s) for this spec; next attempt at {stamp} (in "
            f"{_duration(delay)}), or at once when the spec, a dependency or a lakeserve.dev "
            "annotation changes")
    return status, delay, note


CLEARED: dict[str, Any] = {"backoff": None}


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h"


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _now() -> datetime:
    return datetime.now(timezone.utc)
