"""Which condition and event reasons the operator has, and which ones a test saw.

A test marked ``@pytest.mark.produces(reasons.X, ...)`` must see each of those reasons while it
runs -- on a status or an event read through the e2e helpers or the unit fakes, or handed to
``saw`` -- or it fails (tests/conftest.py). tests/unit/test_reasons_produced.py fails when a
reason in the catalog below has no test marked as producing it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pytest

from lakeserve.reconcile import reasons
from lakeserve.resources.featurefunction.client import STATEMENT_FAILED
from lakeserve.resources.featurespec.checks import INVALID_FEATURES
from lakeserve.resources.onlinetable.client import PROVISIONING, SYNC_FAILED, SYNCING
from lakeserve.resources.servingendpoint.client import ALIAS_NOT_FOUND

# Constant name -> reason, for every reason the engine or a kind sets.
CATALOG: dict[str, str] = {
    **{name: value for name, value in vars(reasons).items()
       if name.isupper() and isinstance(value, str)},
    "STATEMENT_FAILED": STATEMENT_FAILED, "PROVISIONING": PROVISIONING,
    "SYNC_FAILED": SYNC_FAILED, "SYNCING": SYNCING, "ALIAS_NOT_FOUND": ALIAS_NOT_FOUND,
    "INVALID_FEATURES": INVALID_FEATURES,
}
EVENT_ONLY = {reasons.CREATED, reasons.UPDATED, reasons.DELETED, reasons.ORPHANED,
              reasons.ADOPTED, reasons.NOT_OWNED, reasons.DRIFT_CORRECTED,
              reasons.RECREATED_MISSING, reasons.ALIAS_MOVED, reasons.IN_USE}
CONDITION_REASONS = set(CATALOG.values()) - EVENT_ONLY

SEEN: set[str] = set()


def saw(*seen: str | None) -> None:
    SEEN.update(reason for reason in seen if reason)


def saw_status(status: Mapping[str, Any] | None) -> None:
    """The reason of the object's current state: the Ready condition carries it in every phase
    (Ready=False repeats the reason of the condition that is True, or Paused)."""
    for condition in (status or {}).get("conditions") or []:
        if condition.get("type") == "Ready" or condition.get("status") == "True":
            saw(condition.get("reason"))


def saw_events(events: Iterable[Mapping[str, Any]]) -> None:
    saw(*(event.get("reason") for event in events))


def table(rows: Sequence[tuple], reason_at: int) -> list:
    """Parametrize rows (case first) as params marked as producing the reason at ``reason_at``."""
    return [pytest.param(*row, id=row[0], marks=pytest.mark.produces(row[reason_at]))
            for row in rows]
