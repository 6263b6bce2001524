"""Every condition and event reason has a test that makes the operator produce it.

Tests declare it with ``@pytest.mark.produces(reasons.X)`` and fail unless they see the reason
(tests/conftest.py); this test fails when some reason of the catalog (tests/reasons.py: every
constant of lakeserve.reconcile.reasons and of the kinds' modules) is claimed by no test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import LIST_VARIABLE
from tests.reasons import CATALOG

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.timeout(180)


def marking_files() -> list[str]:
    """Test files that can mark tests as producing (collecting only them is quicker)."""
    return sorted(str(path.relative_to(REPO)) for path in (REPO / "tests").rglob("test_*.py")
                  if "produces" in (text := path.read_text()) or "reasons import table" in text)


@pytest.fixture(scope="module")
def marked(tmp_path_factory) -> dict[str, list[str]]:
    target = tmp_path_factory.mktemp("produced") / "reasons.json"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         *marking_files()], cwd=REPO, capture_output=True, text=True, timeout=170,
        env={**os.environ, LIST_VARIABLE: str(target)})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(target.read_text())


def test_every_reason_has_a_test_that_produces_it(marked):
    missing = sorted(f"{name} ({value})" for name, value in CATALOG.items()
                     if value not in marked)
    assert not missing, ("no test is marked @pytest.mark.produces(...) for: "
                         + ", ".join(missing))


def test_markers_name_only_known_reasons(marked):
    unknown = {reason: tests for reason, tests in marked.items()
               if reason not in CATALOG.values()}
    assert not unknown, f"produces() names reasons the operator does not have: {unknown}"
