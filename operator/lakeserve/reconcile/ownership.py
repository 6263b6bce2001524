"""Whose Databricks object it is: the operator writes to and deletes only what is its own.

The client reports what Databricks shows (``Observation.marker``: an owner tag naming this
resource, another one, or none). The engine keeps its own record, ``status.owned``, written
*before* a create is sent, so a create whose answer was lost, or an operator killed between the
request and the status write, still finds its object its own. An unmarked object with no record
is someone else's: Stalled ``AlreadyExists`` and no write, unless ``lakeserve.dev/adopt`` is
"true". An object marked as another resource's stays ``OwnedByAnotherObject`` whatever the
annotations say.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from lakeserve.api.common import ADOPT_ANNOTATION, OwnershipHow
from lakeserve.reconcile import reasons
from lakeserve.reconcile.conditions import now_rfc3339
from lakeserve.resources.base import Managed, Marker, Observation


class Verdict(Enum):
    OURS = "ours"
    ADOPT = "adopt"  # not ours yet; the adopt annotation asks to take it over
    NOT_OURS = "not ours"


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    reason: str = ""
    message: str = ""


def judge(obj: Managed, observation: Observation, adopt: bool) -> Judgement:
    """Whether an existing Databricks object may be written to by this resource."""
    name = observation.name
    if observation.marker is Marker.FOREIGN:
        return Judgement(Verdict.NOT_OURS, reasons.OWNED_BY_ANOTHER_OBJECT,
                         f"{name} is managed by {observation.owner} (its owner tag); it is left "
                         f"untouched, even with {ADOPT_ANNOTATION}: pick another name")
    if observation.marker is Marker.OURS or recorded(obj, name):
        return Judgement(Verdict.OURS)
    if adopt:
        return Judgement(Verdict.ADOPT, reasons.ADOPTED,
                         f"took over {name}, which existed in Databricks and was not created by "
                         f"this {obj.kind} ({ADOPT_ANNOTATION}): it is now changed to match the "
                         f"spec, and deleted with this object unless deletionPolicy is Orphan")
    return Judgement(Verdict.NOT_OURS, reasons.ALREADY_EXISTS, not_ours_message(obj, name))


def not_ours_message(obj: Managed, name: str) -> str:
    return (f"{name} already exists in Databricks and was not created by this {obj.kind}, so it "
            f"is left untouched. To manage it from here, annotate {ADOPT_ANNOTATION}=\"true\" (it "
            "is then changed to match the spec and deleted with this object unless "
            "deletionPolicy is Orphan); to only watch it, set managementPolicy: ObserveOnly; "
            "otherwise pick another name")


def recorded(obj: Managed, name: str) -> bool:
    """Whether status.owned says this resource created or adopted ``name``."""
    owned = obj.status.get("owned") or {}
    return bool(name) and owned.get("name") == name


def claim(name: str, how: OwnershipHow) -> dict[str, Any]:
    """The status fields recording ``name`` as this resource's own."""
    return {"owned": {"name": name, "how": how.value, "since": now_rfc3339()}}


def may_delete(obj: Managed, located: Observation) -> bool:
    """Deletion checks again: only a marked-ours or recorded object is deleted."""
    if located.marker is Marker.FOREIGN:
        return False
    return located.marker is Marker.OURS or recorded(obj, located.name)
