"""AI gateway configs as compared: the spec's and the workspace's, in one normal form.

Databricks fills the inference table's ``table_name_prefix`` with the endpoint name when it is
not sent, and may echo parts the spec never set with their off values (usage tracking or fallback
``enabled: false``, guardrails without filters). Both sides are brought to one form: defaults
filled the way the workspace fills them, and every part that is off dropped, so only a real
difference -- something on in one and not the other, or a different value -- is a difference.
"""

from __future__ import annotations

import copy
from typing import Any

_OFF_SWITCHES = ("usage_tracking_config", "fallback_config")


def comparable(gateway: dict[str, Any] | None, endpoint_name: str) -> dict[str, Any]:
    """The gateway config in normal form ({} when nothing is on)."""
    value = drop_empty(copy.deepcopy(gateway or {})) or {}
    for limit in value.get("rate_limits", []):
        limit.setdefault("key", "endpoint")
        limit.setdefault("renewal_period", "minute")
    _inference_table(value, endpoint_name)
    for name in _OFF_SWITCHES:
        if value.get(name, {}).get("enabled") is False:
            del value[name]
    _guardrails(value)
    return drop_empty(value) or {}


def _inference_table(value: dict[str, Any], endpoint_name: str) -> None:
    table = value.get("inference_table_config")
    if table is None:
        return
    if table.get("enabled", True) is False:
        del value["inference_table_config"]  # a disabled table's location does not matter
        return
    table["enabled"] = True
    table.setdefault("table_name_prefix", endpoint_name)
    for part in ("catalog_name", "schema_name", "table_name_prefix"):  # UC folds names
        table[part] = table[part].lower() if isinstance(table.get(part), str) else table.get(part)


def _guardrails(value: dict[str, Any]) -> None:
    guardrails = value.get("guardrails") or {}
    for direction in ("input", "output"):
        params = guardrails.get(direction)
        if params is None:
            continue
        if params.get("safety") is False:
            del params["safety"]
        if (params.get("pii") or {}).get("behavior") == "NONE":
            del params["pii"]


def drop_empty(value: Any) -> Any:
    """``value`` without None, empty lists and empty objects, at any depth."""
    if isinstance(value, dict):
        kept = {k: drop_empty(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, [], {})}
    if isinstance(value, list):
        return [drop_empty(v) for v in value]
    return value
