"""Persistence: areas are written when they change, in one transaction, and restored on load."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from lakeserve.emulator.persistence import STATE_FILE, Persistence, StateFormatError


class Area:
    """A stand-in store: its state is a dict; counts snapshots to show what was skipped."""

    def __init__(self, **state: Any):
        self.state = dict(state)
        self.snapshots = 0

    def snapshot(self) -> dict[str, Any]:
        self.snapshots += 1
        return dict(self.state)

    def restore(self, state: dict[str, Any]) -> None:
        self.state = dict(state)


def stored(path) -> dict[str, str]:
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT name, body FROM areas"))


@pytest.fixture
def path(tmp_path):
    return tmp_path / STATE_FILE


@pytest.fixture
def persistence(path) -> Persistence:
    return Persistence(path)


@pytest.fixture
def two(persistence) -> tuple[Area, Area]:
    """Two areas, "serving" and "functions", saved once."""
    serving, functions = Area(n=1), Area(n=1)
    persistence.register("serving", serving)
    persistence.register("functions", functions)
    persistence.save()
    return serving, functions


def test_areas_come_back_after_a_restart(path):
    first = Persistence(path)
    serving, functions = Area(endpoints=["a"]), Area(names=("f",))
    first.register("serving", serving)
    first.register("functions", functions)
    first.load()
    assert first.save() == 2
    first.close()

    second = Persistence(path)
    fresh_serving, fresh_functions, untouched = Area(), Area(), Area(kept=1)
    second.register("serving", fresh_serving)
    second.register("functions", fresh_functions)
    second.register("added_later", untouched)
    second.load()
    assert fresh_serving.state == {"endpoints": ["a"]}
    assert fresh_functions.state == {"names": ("f",)}
    assert untouched.state == {"kept": 1}, "an area the file does not hold keeps its state"


def test_only_changed_areas_are_written(path, persistence, two):
    serving, _ = two
    before = stored(path)
    serving.state["n"] = 2
    assert persistence.save() == 1
    after = stored(path)
    assert after["functions"] == before["functions"] and after["serving"] != before["serving"]
    assert persistence.save() == 0


def test_an_area_with_an_unchanged_revision_is_not_even_snapshotted(persistence):
    rows, revision = Area(rows=[1]), [0]
    persistence.register("online_store", rows, revision=lambda: revision[0])
    persistence.save()
    persistence.save()
    assert rows.snapshots == 1
    rows.state["rows"].append(2)
    revision[0] += 1
    assert persistence.save() == 1 and rows.snapshots == 2


def test_a_failed_write_is_tried_again_in_full(persistence, two, monkeypatch):
    serving, functions = two
    serving.state["n"], functions.state["n"] = 2, 2

    def refuse(rows):
        raise sqlite3.OperationalError("disk I/O error")
    monkeypatch.setattr(persistence, "_write", refuse)
    with pytest.raises(sqlite3.OperationalError):
        persistence.save()
    assert persistence.changed, "the next response tries again"
    monkeypatch.undo()
    assert persistence.save() == 2


def test_a_dict_that_grew_while_it_was_read_is_read_again(path, persistence):
    class Busy(Area):
        def snapshot(self):
            if self.snapshots == 0:
                self.snapshots += 1
                raise RuntimeError("dictionary changed size during iteration")
            return super().snapshot()
    busy = Busy(n=1)
    persistence.register("busy", busy)
    assert persistence.save() == 1 and busy.snapshots == 2


def test_a_write_is_one_transaction(path, persistence, two):
    serving, functions = two
    serving.state["n"], functions.state["n"] = 2, 2
    db = persistence._connection()
    db.execute("CREATE TRIGGER refuse BEFORE INSERT ON areas WHEN NEW.name = 'functions' "
               "BEGIN SELECT RAISE(ABORT, 'refused'); END")
    with pytest.raises(sqlite3.IntegrityError):
        persistence.save()
    assert '"n":1' in stored(path)["serving"], "the other area's write was rolled back"


def test_marking_a_change_is_cleared_by_a_save(persistence):
    persistence.mark_changed()
    assert persistence.changed
    persistence.save()
    assert not persistence.changed


def test_without_a_path_nothing_is_written(tmp_path):
    persistence = Persistence()
    area = Area(n=1)
    persistence.register("serving", area)
    persistence.load()
    assert not persistence.enabled and persistence.save() == 0 and area.snapshots == 0
    assert list(tmp_path.iterdir()) == []


def test_state_that_does_not_decode_stops_the_start_with_what_to_do(path):
    first = Persistence(path)
    first.register("serving", Area(n=1))
    first.save()
    first.close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE areas SET body = ? WHERE name = 'serving'",
                   ('{"~t": "dc", "cls": "lakeserve.emulator.nowhere:Gone", "fields": {}}',))
    second = Persistence(path)
    second.register("serving", Area())
    with pytest.raises(StateFormatError, match="'serving'.*Delete that file"):
        second.load()


def test_a_file_of_another_format_is_refused(path):
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("INSERT INTO meta VALUES ('format', '0')")
    persistence = Persistence(path)
    with pytest.raises(StateFormatError, match="format 0"):
        persistence.load()


def test_an_area_name_is_registered_once():
    persistence = Persistence()
    persistence.register("serving", Area())
    with pytest.raises(ValueError, match="twice"):
        persistence.register("serving", Area())
