"""The call log: sequence numbers, cursors, counts per method and path, bounded size."""

from __future__ import annotations

from lakeserve.emulator.calllog import MAX_LOGGED_BODY, CallLog, count_calls


def record(log: CallLog, method: str, path: str, status: int = 200):
    return log.record(time=0.0, method=method, path=path, status=status, body=None)


def test_counts_key_on_method_and_raw_path():
    log = CallLog()
    record(log, "POST", "/api/2.0/serving-endpoints")
    record(log, "GET", "/api/2.0/serving-endpoints/a")
    record(log, "GET", "/api/2.0/serving-endpoints/a", 404)
    record(log, "GET", "/api/2.0/serving-endpoints/b")
    assert count_calls(log.since(0)) == {"POST /api/2.0/serving-endpoints": 1,
                                         "GET /api/2.0/serving-endpoints/a": 2,
                                         "GET /api/2.0/serving-endpoints/b": 1}


def test_since_returns_only_newer_calls():
    log = CallLog()
    first = record(log, "GET", "/a")
    record(log, "GET", "/b")
    assert [call.path for call in log.since(first.seq)] == ["/b"]
    assert log.last_seq == 2


def test_clear_keeps_sequence_numbers_growing():
    log = CallLog()
    record(log, "GET", "/a")
    log.clear()
    assert log.since(0) == []
    assert record(log, "GET", "/b").seq == 2


def test_oldest_calls_are_dropped_beyond_the_maximum():
    log = CallLog(max_entries=2)
    for path in ("/1", "/2", "/3"):
        record(log, "GET", path)
    assert [call.path for call in log.since(0)] == ["/2", "/3"]


def test_bodies_decode_when_read_and_large_ones_are_kept_by_size_only():
    log = CallLog()
    small = log.record(time=0.0, method="POST", path="/a", query_string="x=1&y=2", status=200,
                       body=b'{"a": [1, 2]}')
    assert small.as_dict()["body"] == {"a": [1, 2]} and small.query == {"x": "1", "y": "2"}
    assert log.record(time=0.0, method="POST", path="/a", status=200, body=b"not json").body is None
    large = log.record(time=0.0, method="POST", path="/a", status=200,
                       body=b'"' + b"x" * (MAX_LOGGED_BODY + 1) + b'"')
    assert large.body is None and large.body_size == MAX_LOGGED_BODY + 3
