"""What the operator last sent to Databricks, as ``status.lastAppliedConfig`` records it.

The record tells a workspace that drifted apart from one the desired state moved away from: an
alias that resolves to another version (or a rollout's next step) changes what the operator wants
to send, while the workspace still shows what it last sent -- a change of the operator's own
making, not one made outside it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from databricks.sdk.service.serving import EndpointCoreConfigOutput

from lakeserve.api.rollout import CANARY_SUFFIX
from lakeserve.resources.servingendpoint import compare
from lakeserve.resources.servingendpoint.desired import DesiredEndpoint, DesiredEntity


def record(desired: DesiredEndpoint, generation: int) -> dict[str, Any]:
    """The status record of a config about to be sent."""
    return {
        "generation": generation,
        "configHash": desired.config_hash(),
        "servedEntities": [{"name": e.name, "entityName": e.entity_name,
                            "entityVersion": e.entity_version or None}
                           for e in desired.entities],
        "routes": [{"servedEntityName": name, "trafficPercentage": pct}
                   for name, pct in desired.routes],
    }


def unchanged_since_sent(desired: DesiredEndpoint, applied: Mapping[str, Any] | None,
                         served: EndpointCoreConfigOutput | None) -> bool:
    """Whether the workspace serves what the operator last sent for this generation's spec."""
    sent = rebuild(desired, applied or {})
    return sent is not None and served is not None and not compare.config_diff(sent, served)


def rebuild(desired: DesiredEndpoint, applied: Mapping[str, Any]) -> DesiredEndpoint | None:
    """The config last sent, with the spec's settings and the recorded entities, versions and
    routes; None when the record is missing or names an entity the spec no longer has."""
    if not applied.get("servedEntities"):
        return None
    by_name = {entity.name: entity for entity in desired.entities}
    entities = []
    for sent in applied["servedEntities"]:
        base = by_name.get(sent.get("name")) or by_name.get(
            str(sent.get("name")).removesuffix(CANARY_SUFFIX))
        if base is None:
            return None
        entities.append(_as_sent(base, sent))
    routes = tuple(sorted((r["servedEntityName"], r["trafficPercentage"])
                          for r in applied.get("routes") or []))
    return dataclasses.replace(desired, entities=tuple(entities), routes=routes)


def _as_sent(base: DesiredEntity, sent: Mapping[str, Any]) -> DesiredEntity:
    return dataclasses.replace(base, name=sent["name"], entity_name=sent["entityName"],
                               entity_version=sent.get("entityVersion") or "")
