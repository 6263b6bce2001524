"""Predictions to strict JSON: numpy and pandas values, missing values, dates, bytes."""

from __future__ import annotations

import datetime
import decimal
import enum
import json

import numpy as np
import pandas as pd
import pytest

from lakeserve.emulator.invocations.jsonable import jsonable


def round_trip(value):
    converted = jsonable(value)
    assert json.loads(json.dumps(converted, allow_nan=False)) == converted
    return converted


def test_numpy_arrays_become_lists_of_python_numbers():
    assert round_trip(np.array([0, 1, 1], dtype=np.int64)) == [0, 1, 1]
    assert round_trip(np.array([[0.5, 1.5]], dtype=np.float32)) == [[0.5, 1.5]]
    assert round_trip(np.array(["Yes", "No"], dtype=object)) == ["Yes", "No"]
    assert all(type(x) is int for x in jsonable(np.array([1, 2])))


def test_numpy_scalars_and_booleans():
    assert round_trip({"a": np.int32(3), "b": np.float64(0.25), "c": np.bool_(True)}) == \
        {"a": 3, "b": 0.25, "c": True}


def test_data_frames_are_records_and_series_lists():
    frame = pd.DataFrame({"label": ["Yes", "No"], "score": [0.9, 0.1]})
    assert round_trip(frame) == [{"label": "Yes", "score": 0.9}, {"label": "No", "score": 0.1}]
    assert round_trip(pd.Series([1, 0], name="churn")) == [1, 0]


def test_missing_and_non_finite_values_become_null():
    assert round_trip([float("nan"), float("inf"), -float("inf"), 1.0]) == [None, None, None, 1.0]
    assert round_trip(np.array([np.nan, 2.0])) == [None, 2.0]
    assert round_trip([pd.NA, pd.NaT, None]) == [None, None, None]
    frame = pd.DataFrame({"x": [1.0, np.nan]})
    assert round_trip(frame) == [{"x": 1.0}, {"x": None}]


def test_dates_bytes_decimals_and_enum_members():
    class Label(enum.IntEnum):
        YES = 1

    value = {"day": datetime.date(2024, 5, 1), "at": pd.Timestamp("2024-05-01T10:00:00"),
             "raw": b"\x00\x01", "price": decimal.Decimal("1.25"), "label": Label.YES,
             "nested": ({"k": np.float32(0.5)},)}
    assert round_trip(value) == {"day": "2024-05-01", "at": "2024-05-01T10:00:00",
                                 "raw": "AAE=", "price": 1.25, "label": 1,
                                 "nested": [{"k": 0.5}]}


def test_plain_lists_are_passed_through_untouched():
    values = [1, "a", True, None]
    assert jsonable(values) is values


@pytest.mark.parametrize("value", [{1: "a"}, {("x", 1): 2}])
def test_keys_become_strings(value):
    assert all(isinstance(key, str) for key in round_trip(value))


def test_unknown_objects_become_their_string():
    class Thing:
        def __str__(self) -> str:
            return "thing"

    assert round_trip([Thing()]) == ["thing"]
