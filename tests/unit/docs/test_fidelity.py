"""docs/fidelity.md, the emulator's answer-choosing settings and the e2e tests stay in step."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lakeserve.emulator.settings import FIDELITY_CHOICES, EmulatorSettings

REPO = Path(__file__).resolve().parents[3]
FIDELITY = REPO / "docs" / "fidelity.md"


def rows() -> list[list[str]]:
    lines = [line for line in FIDELITY.read_text().splitlines()
             if re.match(r"\| F\d+ \|", line)]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines]


def test_rows_have_an_id_a_behaviour_a_source_and_the_local_answer():
    table = rows()
    assert len(table) >= 2
    ids = [row[0] for row in table]
    assert len(ids) == len(set(ids)), "row ids are unique"
    for row in table:
        assert len(row) == 4 and all(row), f"row {row[0]} has four filled cells"


def test_every_unknown_behaviour_has_a_setting():
    """A source cell starting **unknown** means no source says what Databricks answers."""
    for row in rows():
        if row[2].startswith("**unknown**"):
            assert "setting `" in row[3], f"{row[0]} is unknown: give it an emulator setting"


def test_every_setting_row_is_an_unknown():
    for row in rows():
        if "setting `" in row[3]:
            assert row[2].startswith("**unknown**"), f"{row[0]}: a setting stands for an unknown"


def setting_row(setting: str) -> list[str]:
    matches = [row for row in rows() if f"setting `{setting}`" in row[3]]
    assert matches, f"docs/fidelity.md names no row for the setting {setting}"
    return matches[0]


@pytest.mark.parametrize("setting", sorted(FIDELITY_CHOICES))
def test_every_choice_setting_is_documented_with_all_values_and_an_e2e_test(setting):
    row = setting_row(setting)
    listed = re.findall(r"`([a-z_]+)`", row[3].split(":", 1)[1].split(";")[0])
    assert listed == list(FIDELITY_CHOICES[setting]), f"{row[0]} lists the values in order"
    tests = re.findall(r"e2e `([^`]+)`", row[3])
    assert tests, f"{row[0]} names the e2e test that runs the flow under each value"
    for test in tests:
        path = REPO / test
        assert path.is_file(), f"{test} does not exist"
        assert setting in path.read_text(), f"{test} never sets {setting}"


@pytest.mark.parametrize("setting", sorted(FIDELITY_CHOICES))
def test_the_default_is_the_first_value(setting):
    assert EmulatorSettings().as_dict()[setting] == FIDELITY_CHOICES[setting][0]


def test_the_intro_lists_every_setting():
    intro = FIDELITY.read_text().split("## ", 1)[0]
    missing = [name for name in FIDELITY_CHOICES if f"`{name}`" not in intro]
    assert not missing, f"list these settings in the introduction of docs/fidelity.md: {missing}"
