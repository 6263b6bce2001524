"""docs/reference.md documents every condition reason the operator can set."""

from pathlib import Path

from lakeserve.reconcile import reasons
from lakeserve.resources.featurefunction.client import STATEMENT_FAILED
from lakeserve.resources.onlinetable.client import PROVISIONING, SYNC_FAILED, SYNCING
from lakeserve.resources.servingendpoint.client import ALIAS_NOT_FOUND

REFERENCE = Path(__file__).resolve().parents[3] / "docs" / "reference.md"
EVENT_ONLY = {reasons.CREATED, reasons.UPDATED, reasons.DELETED, reasons.ORPHANED,
              reasons.ADOPTED, reasons.DRIFT_CORRECTED, reasons.RECREATED_MISSING,
              reasons.ALIAS_MOVED}


def condition_reasons() -> set[str]:
    constants = {v for k, v in vars(reasons).items() if k.isupper() and isinstance(v, str)}
    return (constants - EVENT_ONLY) | {STATEMENT_FAILED, PROVISIONING, SYNC_FAILED, SYNCING,
                                       ALIAS_NOT_FOUND}


def test_every_condition_reason_has_a_row():
    text = REFERENCE.read_text()
    missing = sorted(r for r in condition_reasons() if f"| `{r}` |" not in text)
    assert not missing, f"document these reasons in docs/reference.md: {missing}"


def test_every_event_reason_is_mentioned():
    text = REFERENCE.read_text()
    missing = sorted(r for r in EVENT_ONLY if f"`{r}`" not in text)
    assert not missing
