"""A config Databricks failed to deploy is not sent again until the desired config changes.

Whether the workspace keeps ``pending_config`` after ``UPDATE_FAILED`` is not documented
(docs/fidelity.md), so the operator remembers the failed config by the hash of what it sent
(``status.lastAppliedConfig.configHash`` -> ``status.failedConfigHash``). The desired config's
hash changes when the spec changes or an alias moves; only then is a config sent again. A failed
creation (the first config) stalls the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from databricks.sdk.service.serving import ServingEndpointDetailed

from lakeserve.resources.servingendpoint import compare, facts
from lakeserve.resources.servingendpoint.desired import DesiredEndpoint


def failed_config_hash(desired: DesiredEndpoint, endpoint: ServingEndpointDetailed,
                       status: Mapping[str, Any]) -> str | None:
    """The hash of the last config that failed to deploy, as far as this object knows."""
    known = status.get("failedConfigHash")
    if not facts.has_failed(endpoint):
        return known
    pending = endpoint.pending_config
    if pending is not None:  # the failed config is shown: is it the one the spec asks for?
        return desired.config_hash() if not compare.config_diff(desired, pending) else known
    sent = (status.get("lastAppliedConfig") or {}).get("configHash")
    return sent or known


def message(endpoint: ServingEndpointDetailed, status: Mapping[str, Any]) -> str:
    pending = endpoint.pending_config
    serving = endpoint.config
    if pending is not None:
        what = f"the update to config version {pending.config_version} failed: " \
               f"{facts.failing_entities(pending)}"
    else:
        generation = (status.get("lastAppliedConfig") or {}).get("generation")
        what = (f"the config sent for generation {generation} failed to deploy (Databricks no "
                "longer shows it; the endpoint's build logs say why)")
    if serving is None:
        return f"{what}; the endpoint serves nothing. Fix the model or the spec"
    return f"{what}; still serving config version {serving.config_version}"
