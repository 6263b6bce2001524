"""The configs a canary rollout sends: each one complete (update_config replaces the whole
config), routes always adding up to 100.

A served entity whose version changes keeps its name and the old version while the new version
is served beside it as ``<name>-canary``; a step gives the canary a percentage of that entity's
traffic share, the stable entity the rest. Every other entity is as the spec says.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from databricks.sdk.service.serving import EndpointCoreConfigOutput

from lakeserve.api.rollout import CANARY_SUFFIX
from lakeserve.resources import ucnames
from lakeserve.resources.servingendpoint.desired import DesiredEndpoint


@dataclass(frozen=True)
class Rolled:
    """A served entity going from one version to another."""

    name: str
    entity_name: str
    stable_version: str
    canary_version: str

    @property
    def canary_name(self) -> str:
        return self.name + CANARY_SUFFIX

    def as_status(self) -> dict[str, str]:
        return {"name": self.name, "entityName": self.entity_name,
                "stableVersion": self.stable_version, "canaryVersion": self.canary_version,
                "canaryName": self.canary_name}

    @classmethod
    def from_status(cls, entry: Mapping[str, Any]) -> Rolled:
        return cls(entry["name"], entry["entityName"], entry["stableVersion"],
                   entry["canaryVersion"])

    def text(self) -> str:
        return f"{self.name} ({self.entity_name} v{self.stable_version} -> v{self.canary_version})"


def changed_versions(target: DesiredEndpoint,
                     served: EndpointCoreConfigOutput | None) -> list[Rolled]:
    """Entities the workspace serves under the same name and model but another version, and
    that receive traffic (a canary of an entity without traffic would never be measured)."""
    observed = {e.name: e for e in (served.served_entities if served else None) or []}
    shares = dict(target.routes)
    rolled = []
    for entity in target.entities:
        current = observed.get(entity.name)
        if entity.serves_feature_spec or current is None or not current.entity_version:
            continue
        if ucnames.fold(current.entity_name) != entity.entity_name or \
                not shares.get(entity.name):
            continue
        if str(current.entity_version) != entity.entity_version:
            rolled.append(Rolled(entity.name, entity.entity_name, str(current.entity_version),
                                 entity.entity_version))
    return rolled


def step_config(target: DesiredEndpoint, rolled: Sequence[Rolled],
                percentage: int) -> DesiredEndpoint:
    """Each rolled entity on its old version beside its canary, which gets ``percentage`` of
    the entity's share (at least 1 when the share allows)."""
    by_name = {r.name: r for r in rolled}
    shares = dict(target.routes)
    entities = []
    for entity in target.entities:
        one = by_name.get(entity.name)
        if one is None:
            entities.append(entity)
            continue
        entities.append(dataclasses.replace(entity, entity_version=one.stable_version))
        entities.append(dataclasses.replace(entity, name=one.canary_name,
                                            entity_version=one.canary_version))
        share = shares.get(entity.name, 0)
        canary = min(share, max(1, share * percentage // 100))
        shares[one.canary_name], shares[entity.name] = canary, share - canary
    return dataclasses.replace(target, entities=tuple(entities),
                               routes=tuple(sorted(shares.items())))


def stable_config(target: DesiredEndpoint, rolled: Iterable[Rolled]) -> DesiredEndpoint:
    """The spec with the rolled entities on their old versions: the last good config."""
    stable = {r.name: r.stable_version for r in rolled}
    entities = tuple(dataclasses.replace(e, entity_version=stable[e.name]) if e.name in stable
                     else e for e in target.entities)
    return dataclasses.replace(target, entities=entities)


def targets_moved(target: DesiredEndpoint, rolled: Iterable[Rolled]) -> bool:
    """Whether the spec now asks for other versions (or models) than the rollout rolls out."""
    wanted = {e.name: (e.entity_name, e.entity_version) for e in target.entities}
    return any(wanted.get(r.name) != (r.entity_name, r.canary_version) for r in rolled)


def weights(config: DesiredEndpoint) -> list[dict[str, Any]]:
    return [{"servedEntityName": name, "trafficPercentage": pct} for name, pct in config.routes]
