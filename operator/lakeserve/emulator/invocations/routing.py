"""Per-request traffic split: each request goes to one served entity, drawn by route percentage."""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass

from databricks.sdk.service.serving import Route


@dataclass(frozen=True)
class RoutingTable:
    names: tuple[str, ...]  # served entities with a non-zero share, in route order
    bounds: tuple[int, ...]  # cumulative percentages: names[i] owns [bounds[i-1], bounds[i])

    @classmethod
    def from_routes(cls, routes: list[Route]) -> RoutingTable:
        names, bounds, total = [], [], 0
        for route in routes:
            share = route.traffic_percentage or 0
            if share <= 0:
                continue
            total += share
            names.append(route.served_entity_name or route.served_model_name or "")
            bounds.append(total)
        if not names:
            raise ValueError("a routing table needs at least one route with traffic")
        return cls(tuple(names), tuple(bounds))

    def choose(self, rng: random.Random) -> str:
        if len(self.names) == 1:
            return self.names[0]
        point = rng.random() * self.bounds[-1]
        return self.names[bisect.bisect_right(self.bounds, point)]

    def shares(self) -> dict[str, float]:
        """Each entity's expected fraction of requests."""
        total, previous, result = self.bounds[-1], 0, {}
        for name, bound in zip(self.names, self.bounds):
            result[name] = (bound - previous) / total
            previous = bound
        return result
