"""Weighted per-request routing, checked with a seeded RNG against binomial tolerances."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest
from databricks.sdk.service.serving import Route

from lakeserve.emulator.invocations.routing import RoutingTable

DRAWS = 20_000


def table(*shares: tuple[str, int]) -> RoutingTable:
    return RoutingTable.from_routes([Route(served_entity_name=name, traffic_percentage=share)
                                     for name, share in shares])


def within_binomial(count: int, draws: int, p: float, sigmas: float = 4.5) -> bool:
    return abs(count - draws * p) <= sigmas * math.sqrt(draws * p * (1 - p))


@pytest.mark.parametrize("shares", [
    (("a", 50), ("b", 50)),
    (("a", 90), ("b", 10)),
    (("a", 20), ("b", 30), ("c", 50)),
    (("a", 1), ("b", 99)),
])
def test_each_entity_gets_its_share(shares):
    routing = table(*shares)
    rng = random.Random(1234)
    counts = Counter(routing.choose(rng) for _ in range(DRAWS))
    for name, share in shares:
        assert within_binomial(counts[name], DRAWS, share / 100), (name, counts)


def test_a_zero_percent_route_never_answers():
    routing = table(("a", 0), ("b", 100))
    rng = random.Random(7)
    assert {routing.choose(rng) for _ in range(1000)} == {"b"}
    assert routing.names == ("b",)


def test_the_same_seed_gives_the_same_sequence():
    routing = table(("a", 50), ("b", 50))
    first, second = random.Random(42), random.Random(42)
    assert [routing.choose(first) for _ in range(50)] == [routing.choose(second) for _ in range(50)]


def test_a_single_route_needs_no_draw():
    class NoRandom(random.Random):
        def random(self) -> float:
            raise AssertionError("drew a number for a single route")

    assert table(("only", 100)).choose(NoRandom()) == "only"


def test_boundaries_map_to_the_owning_entity():
    routing = table(("a", 30), ("b", 70))

    class Fixed(random.Random):
        def __init__(self, value: float):
            super().__init__()
            self.value = value

        def random(self) -> float:
            return self.value

    assert routing.choose(Fixed(0.0)) == "a"
    assert routing.choose(Fixed(0.2999)) == "a"
    assert routing.choose(Fixed(0.3)) == "b"
    assert routing.choose(Fixed(0.9999)) == "b"
    assert routing.shares() == {"a": 0.3, "b": 0.7}


def test_routes_by_served_model_name_too():
    routing = RoutingTable.from_routes([Route(served_model_name="legacy", traffic_percentage=100)])
    assert routing.names == ("legacy",)


def test_no_route_with_traffic_is_refused():
    with pytest.raises(ValueError):
        table(("a", 0))
