"""Checks for every tier: a test marked ``produces(...)`` must really see those reasons."""

from __future__ import annotations

import json
import os

import pytest

from tests import reasons as produced


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "produces(*reasons): the test makes the operator set these condition or "
                   "event reasons, and fails unless it sees each of them")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    produced.SEEN.clear()
    outcome = yield
    marker_reasons = {r for m in item.iter_markers("produces") for r in m.args}
    if outcome.excinfo is None and marker_reasons:
        missing = sorted(marker_reasons - produced.SEEN)
        if missing:
            outcome.force_exception(AssertionError(
                f"marked as producing {missing}, but never saw them (seen: "
                f"{sorted(produced.SEEN)})"))


# Set by tests/unit/test_reasons_produced.py: a collection run writes every reason some test
# is marked as producing to this file.
LIST_VARIABLE = "LAKESERVE_LIST_PRODUCED_REASONS"


def pytest_collection_finish(session: pytest.Session) -> None:
    target = os.environ.get(LIST_VARIABLE)
    if not target:
        return
    marked: dict[str, list[str]] = {}
    for item in session.items:
        for marker in item.iter_markers("produces"):
            for reason in marker.args:
                marked.setdefault(reason, []).append(item.nodeid)
    with open(target, "w") as handle:
        json.dump(marked, handle)
