"""What the user allows the operator to do with one object: annotations and management policy.

``lakeserve.dev/adopt: "true"`` lets it take over a Databricks object it did not create;
``lakeserve.dev/paused: "true"`` stops every Databricks call (reads included) until removed;
``lakeserve.dev/reconcile-requested-at`` (any new value) asks for a pass now.
``managementPolicy: ObserveOnly`` makes it read and report, never write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lakeserve.api.common import (
    ADOPT_ANNOTATION,
    PAUSED_ANNOTATION,
    RECONCILE_REQUESTED_ANNOTATION,
    ManagementPolicy,
)
from lakeserve.resources.base import Managed

# Annotations every kind acts on: a change wakes the object's worker and ends a backoff.
ENGINE_ANNOTATIONS = (ADOPT_ANNOTATION, PAUSED_ANNOTATION, RECONCILE_REQUESTED_ANNOTATION)
_FLAGS = {"true": True, "false": False}


class InvalidAnnotation(ValueError):
    """An annotation the operator reads has a value it does not understand."""


@dataclass(frozen=True)
class Policy:
    adopt: bool
    paused: bool
    observe_only: bool

    @property
    def writes(self) -> bool:
        return not (self.paused or self.observe_only)


def policy_of(obj: Managed) -> Policy:
    """The object's policy; InvalidAnnotation names the annotation and the values it takes."""
    return Policy(adopt=_flag(obj, ADOPT_ANNOTATION), paused=_flag(obj, PAUSED_ANNOTATION),
                  observe_only=obj.spec.management_policy == ManagementPolicy.OBSERVE_ONLY)


def _flag(obj: Managed, annotation: str) -> bool:
    value = obj.annotations.get(annotation)
    if value is None:
        return False
    if value.strip().lower() not in _FLAGS:
        raise InvalidAnnotation(f"metadata.annotations[{annotation}] is {value!r}; it takes "
                                f"\"true\" or \"false\" (nothing is done until it is fixed)")
    return _FLAGS[value.strip().lower()]


PAUSED_MESSAGE = (f"{PAUSED_ANNOTATION} is \"true\": the operator neither reads nor writes the "
                  "Databricks object (status shows its last observation); remove the annotation "
                  "to resume")


def wake_fingerprint(body: Mapping[str, Any], annotations: tuple[str, ...]) -> tuple:
    """What of an object must change for it to need a pass at once: its generation, the start of
    its deletion, or one of ``annotations``; status writes and foreign metadata do not."""
    meta = body.get("metadata") or {}
    present = meta.get("annotations") or {}
    return (meta.get("generation"), bool(meta.get("deletionTimestamp")),
            tuple(present.get(key) for key in annotations))
