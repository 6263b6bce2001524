"""docs/reference.md documents every condition and event reason the operator can set."""

from pathlib import Path

from tests.reasons import CONDITION_REASONS, EVENT_ONLY

REFERENCE = Path(__file__).resolve().parents[3] / "docs" / "reference.md"


def test_every_condition_reason_has_a_row():
    text = REFERENCE.read_text()
    missing = sorted(r for r in CONDITION_REASONS if f"| `{r}` |" not in text)
    assert not missing, f"document these reasons in docs/reference.md: {missing}"


def test_every_event_reason_is_mentioned():
    text = REFERENCE.read_text()
    missing = sorted(r for r in EVENT_ONLY if f"`{r}`" not in text)
    assert not missing
