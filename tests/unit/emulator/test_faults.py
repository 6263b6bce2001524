"""Injected faults: parsing, matching by method and path, and use counts."""

from __future__ import annotations

import pytest

from lakeserve.emulator.errors import ApiError
from lakeserve.emulator.faults import FaultBook, parse_fault


def test_defaults():
    fault = parse_fault({"path": "/serving-endpoints"})
    assert (fault.method, fault.status, fault.error_code, fault.times, fault.mode) == \
        (None, 503, "TEMPORARILY_UNAVAILABLE", 1, "error")
    assert fault.retry_after is None
    assert parse_fault({"path": "x", "status": 429}).error_code == "REQUEST_LIMIT_EXCEEDED"


@pytest.mark.parametrize("body, message", [
    ({}, "path"),
    ({"path": "("}, "not a valid regular expression"),
    ({"path": "x", "mode": "explode"}, "mode must be one of"),
    ({"path": "x", "status": 99}, "status must be an integer"),
    ({"path": "x", "times": 0}, "times must be an integer"),
    ({"path": "x", "retry_after": -1}, "retry_after must be"),
    ({"path": "x", "colour": "red"}, "Unknown fault field"),
])
def test_invalid_faults_are_refused(body, message):
    with pytest.raises(ApiError, match=message):
        parse_fault(body)


def test_matches_method_and_searches_the_path():
    book = FaultBook()
    book.add(parse_fault({"method": "put", "path": r"/serving-endpoints/[^/]+/config$"}))
    assert book.take("GET", "/api/2.0/serving-endpoints/a/config") is None
    assert book.take("PUT", "/api/2.0/serving-endpoints/a/config/x") is None
    assert book.take("PUT", "/api/2.0/serving-endpoints/a/config") is not None


def test_a_fault_applies_times_then_disappears():
    book = FaultBook()
    book.add(parse_fault({"path": "/a", "times": 2}))
    assert book.take("GET", "/a").hits == 1
    assert book.take("GET", "/a").hits == 2
    assert book.take("GET", "/a") is None
    assert book.list() == []


def test_unlimited_faults_stay_until_cleared():
    book = FaultBook()
    book.add(parse_fault({"path": "/a", "times": None}))
    for _ in range(10):
        assert book.take("GET", "/a") is not None
    book.clear()
    assert book.take("GET", "/a") is None


def test_first_added_matching_fault_wins():
    book = FaultBook()
    book.add(parse_fault({"path": "/a", "status": 500}))
    book.add(parse_fault({"path": "/a", "status": 429}))
    assert [book.take("GET", "/a").status for _ in range(2)] == [500, 429]
