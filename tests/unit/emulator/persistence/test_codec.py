"""The state codec: every kind of value the areas hold comes back equal, new and removed fields
are tolerated, live objects and foreign classes are refused."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import json
import threading
import uuid
from pathlib import PurePosixPath

import pytest
from databricks.sdk.service.serving import (
    AiGatewayConfig,
    AiGatewayRateLimit,
    AiGatewayRateLimitKey,
    AiGatewayRateLimitRenewalPeriod,
    EndpointStateConfigUpdate,
    ServedEntityInput,
)

from lakeserve.emulator.lakebase.model import RunKind
from lakeserve.emulator.persistence import TRANSIENT, codec
from lakeserve.emulator.persistence.codec import StateFormatError
from lakeserve.emulator.sql.errors import SqlError


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    y: int = 0


@dataclasses.dataclass
class Record:
    name: str
    points: list[Point] = dataclasses.field(default_factory=list)
    live: object = dataclasses.field(default=None, metadata=TRANSIENT)
    derived: str = dataclasses.field(init=False, default="")

    def __post_init__(self) -> None:
        self.derived = self.name.upper()


@pytest.fixture(autouse=True)
def trust_this_module(monkeypatch):
    """The classes above live in a test module, which the codec would refuse to rebuild."""
    monkeypatch.setattr(codec, "TRUSTED_MODULES", (*codec.TRUSTED_MODULES, Point.__module__))


def roundtrip(value):
    return codec.loads(codec.dumps(value))


# (reason, value): each must come back equal and of the same type
VALUES = [
    ("JSON scalars and containers stay plain", {"a": [1, 2.5, "x", None, True]}),
    ("tuples are not lists", (1, ("a", 2))),
    ("dict keys that are tuples (online store rows, failure knobs)", {("main", "t"): {"k": 1}}),
    ("a dict that happens to use the tag key", {codec.TAG: "dc", "cls": "x"}),
    ("enums, including str enums", [Color.RED, RunKind.INITIAL,
                                    EndpointStateConfigUpdate.IN_PROGRESS]),
    ("frozen dataclasses", Point(1, 2)),
    ("sdk dataclasses with nested dataclasses, enums and lists", AiGatewayConfig(
        rate_limits=[AiGatewayRateLimit(calls=5, key=AiGatewayRateLimitKey.USER,
                                        renewal_period=AiGatewayRateLimitRenewalPeriod.MINUTE)])),
    ("an empty list stays empty, not None (as_dict would drop it)",
     ServedEntityInput(name="a", environment_vars={}, entity_version="1")),
    ("Delta values", [datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
                      datetime.date(2026, 1, 2), datetime.time(1, 2), decimal.Decimal("1.10"),
                      b"\x00\xff", uuid.UUID(int=7), datetime.timedelta(seconds=90)]),
    ("sets and frozensets", [{1, 2}, frozenset({"a"})]),
    ("types (the online store's key types)", (int, str, float, datetime.date, None)),
    ("paths", PurePosixPath("/a/b")),
    ("floats that JSON has no literal for", [float("inf")]),
]


@pytest.mark.parametrize("reason, value", VALUES, ids=[v[0] for v in VALUES])
def test_values_come_back_equal(reason, value):
    back = roundtrip(value)
    assert back == value and type(back) is type(value)


def test_a_failed_statements_error_keeps_its_attributes_and_text():
    error = SqlError("PARSE_SYNTAX_ERROR", "Syntax error at or near 'x'.", "42601", (1, 4))
    back = roundtrip(error)
    assert type(back) is SqlError and back.text == error.text and str(back) == str(error)
    assert back.position == (1, 4)


def test_transient_fields_are_not_stored_and_derived_fields_are_rebuilt():
    record = Record("a", [Point(1)], live=threading.Lock())
    text = codec.dumps(record)
    assert "live" not in text and "derived" not in text
    back = codec.loads(text)
    assert back == Record("a", [Point(1)]) and back.live is None and back.derived == "A"


def test_fields_added_since_take_defaults_and_removed_ones_are_dropped():
    stored = json.loads(codec.dumps(Point(3, 4)))
    del stored["fields"]["y"]
    stored["fields"]["z_gone"] = 1
    assert codec.decode(stored) == Point(3, 0)


def test_live_objects_are_refused_with_a_hint():
    with pytest.raises(TypeError, match="TRANSIENT"):
        codec.dumps({"lock": threading.Lock()})


# (reason, stored value, expected message)
REFUSED = [
    ("a class outside the emulator", {codec.TAG: "dc", "cls": "os:system", "fields": {}},
     "outside the emulator"),
    ("a class that no longer exists",
     {codec.TAG: "dc", "cls": "lakeserve.emulator.serving.model:Gone", "fields": {}},
     "no longer exists"),
    ("a function, not a class",
     {codec.TAG: "type", "cls": "lakeserve.emulator.persistence.codec:dumps"}, "not a class"),
    ("a kind this version does not know", {codec.TAG: "future-kind"}, "unknown"),
]


@pytest.mark.parametrize("reason, stored, message", REFUSED, ids=[r[0] for r in REFUSED])
def test_what_cannot_be_rebuilt_is_refused(reason, stored, message):
    with pytest.raises(StateFormatError, match=message):
        codec.decode(stored)
