"""Byte ranges of a download (``Range: bytes=...``), table-driven."""

from __future__ import annotations

import pytest

from lakeserve.emulator.errors import ApiError
from lakeserve.emulator.files.routes import _byte_range


@pytest.mark.parametrize("header, expected, reason", [
    (None, None, "no header: the whole file"),
    ("bytes=0-3", (0, 3), "first four bytes"),
    ("bytes=5-", (5, 9), "from an offset to the end"),
    ("bytes=-3", (7, 9), "the last three bytes"),
    ("bytes=8-100", (8, 9), "an end past the file is clipped"),
])
def test_ranges(header, expected, reason):
    assert _byte_range(header, 10) == expected, reason


@pytest.mark.parametrize("header, status", [
    ("items=0-3", 400), ("bytes=a-b", 400), ("bytes=0-1,3-4", 400),
    ("bytes=10-", 416), ("bytes=5-2", 416),
])
def test_bad_or_unsatisfiable_ranges(header, status):
    with pytest.raises(ApiError) as caught:
        _byte_range(header, 10)
    assert caught.value.status == status
