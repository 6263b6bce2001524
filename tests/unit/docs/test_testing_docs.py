"""docs/testing.md names every variable of the e2e suite's workspace modes and its floor, and
`make test` really runs the real-workspace mode."""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e import workspace_mode as mode

REPO = Path(__file__).resolve().parents[3]
TESTING = REPO / "docs" / "testing.md"


def test_every_variable_is_documented_with_its_default():
    text = TESTING.read_text()
    variables = [value for name, value in vars(mode).items() if name.endswith("_VARIABLE")]
    assert len(variables) >= 6
    missing = [v for v in variables if f"`{v}`" not in text]
    assert not missing, f"document in docs/testing.md: {missing}"
    for default in (mode.DEFAULT_CATALOG, mode.DEFAULT_SCHEMA, mode.LOCAL_WAREHOUSE,
                    mode.DEFAULT_DATABASE_INSTANCE, mode.NO_CONTROL):
        assert f"`{default}`" in text


def test_the_documented_floor_is_the_enforced_one():
    (documented,) = re.findall(r"`REAL_MODE_FLOOR`[^(]*\(\*\*(\d+)\*\*", TESTING.read_text())
    assert int(documented) == mode.REAL_MODE_FLOOR


def test_make_test_runs_the_e2e_suite_again_against_a_control_less_workspace():
    recipe = re.search(r"^test:.*\n((?:\t.*\n)+)", (REPO / "Makefile").read_text(), re.M)
    lines = recipe.group(1).splitlines()
    assert any(f"{mode.MODE_VARIABLE}={mode.NO_CONTROL}" in line and "tests/e2e" in line
               for line in lines), lines
