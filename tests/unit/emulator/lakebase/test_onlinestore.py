"""The online store keeps one row per key: the latest by the timeseries key when there is one."""

from __future__ import annotations

import pytest

from lakeserve.emulator.lakebase.onlinestore import OnlineStore

KEY = ("inst", "databricks_postgres", "default", "features_online")


@pytest.fixture
def store() -> OnlineStore:
    return OnlineStore()


def test_latest_row_per_key_wins_by_timeseries_key_whatever_the_read_order(store):
    rows = [{"id": 1, "ts": 3, "v": "newest"}, {"id": 1, "ts": 1, "v": "oldest"},
            {"id": 1, "ts": 2, "v": "middle"}, {"id": 2, "ts": None, "v": "no time"},
            {"id": 2, "ts": 0, "v": "any time beats none"}]
    assert store.replace(KEY, rows, ["id"], "ts") == 2
    assert [r["v"] for r in store.lookup(KEY, [{"id": 1}, {"id": 2}])] == \
        ["newest", "any time beats none"]


def test_without_a_timeseries_key_the_last_row_read_wins(store):
    store.replace(KEY, [{"id": 1, "v": "a"}, {"id": 1, "v": "b"}], ["id"], None)
    assert store.lookup(KEY, [{"id": 1}]) == [{"id": 1, "v": "b"}]


def test_equal_timeseries_values_keep_the_later_row(store):
    store.replace(KEY, [{"id": 1, "ts": 5, "v": "first"}, {"id": 1, "ts": 5, "v": "second"}],
                  ["id"], "ts")
    assert store.lookup(KEY, [{"id": 1}])[0]["v"] == "second"


def test_composite_keys_and_missing_rows(store):
    store.replace(KEY, [{"a": "x", "b": 1, "v": 10}, {"a": "x", "b": 2, "v": 20}], ["a", "b"],
                  None)
    assert store.lookup(KEY, [{"a": "x", "b": 2}, {"a": "y", "b": 1}]) == \
        [{"a": "x", "b": 2, "v": 20}, None]


def test_rows_with_a_null_key_are_skipped(store):
    assert store.replace(KEY, [{"id": None, "v": 1}, {"id": 7, "v": 2}], ["id"], None) == 1


@pytest.mark.parametrize("stored, asked", [(5, "5"), (5, 5.0), ("7590-VHVEG", "7590-VHVEG"),
                                           ("12", 12), (1.5, "1.5")])
def test_lookup_values_are_matched_to_the_stored_key_type(store, stored, asked):
    store.replace(KEY, [{"id": stored, "v": "hit"}], ["id"], None)
    assert store.lookup(KEY, [{"id": asked}])[0]["v"] == "hit"


def test_a_lookup_must_name_every_key_column(store):
    store.replace(KEY, [{"a": 1, "b": 2}], ["a", "b"], None)
    with pytest.raises(ValueError, match="lacks primary key column"):
        store.lookup(KEY, [{"a": 1}])


def test_returned_rows_are_copies(store):
    store.replace(KEY, [{"id": 1, "v": "kept"}], ["id"], None)
    store.lookup(KEY, [{"id": 1}])[0]["v"] = "changed"
    assert store.lookup(KEY, [{"id": 1}])[0]["v"] == "kept"


def test_replace_swaps_the_whole_table_and_drop_removes_it(store):
    store.replace(KEY, [{"id": 1}, {"id": 2}], ["id"], None)
    store.replace(KEY, [{"id": 3}], ["id"], None)
    assert store.lookup(KEY, [{"id": 1}, {"id": 3}]) == [None, {"id": 3}]
    assert store.drop(KEY) is True
    with pytest.raises(KeyError):
        store.lookup(KEY, [{"id": 3}])
