"""What a synced table's (or legacy online table's) detailed state means for the spec.

Both APIs share state names apart from the prefix (SYNCED_TABLE_ONLINE vs ONLINE). States are
read as the raw strings Databricks sends (``facts.read_synced_table``): the SDK maps unknown enum
strings to None, including the real SYNCED_TABLE_OFFLINE, which it only knows misspelled. A
state nobody knows is "unknown", never healthy; offline and failed ones stall.
"""

from __future__ import annotations

from enum import Enum


class Health(str, Enum):
    PROVISIONING = "provisioning"  # no data yet
    ONLINE = "online"              # data synced, nothing running
    SYNCING = "syncing"            # data synced, an update is running
    PIPELINE_FAILED = "pipeline_failed"  # data served but the sync pipeline failed
    FAILED = "failed"              # offline after a failure
    OFFLINE = "offline"
    UNKNOWN = "unknown"


_BY_SUFFIX = {
    "PROVISIONING": Health.PROVISIONING,
    "PROVISIONING_PIPELINE_RESOURCES": Health.PROVISIONING,
    "PROVISIONING_INITIAL_SNAPSHOT": Health.PROVISIONING,
    "ONLINE": Health.ONLINE,
    "ONLINE_NO_PENDING_UPDATE": Health.ONLINE,
    "ONLINE_CONTINUOUS_UPDATE": Health.ONLINE,
    "ONLINE_TRIGGERED_UPDATE": Health.SYNCING,
    "ONLINE_UPDATING_PIPELINE_RESOURCES": Health.SYNCING,
    "ONLINE_PIPELINE_FAILED": Health.PIPELINE_FAILED,
    "OFFLINE_FAILED": Health.FAILED,
    "OFFLINE": Health.OFFLINE,
}


def health(detailed_state: str | None) -> Health:
    if not detailed_state:
        return Health.UNKNOWN
    name = detailed_state
    for prefix in ("SYNCED_TABLED_", "SYNCED_TABLE_"):
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    return _BY_SUFFIX.get(name, Health.UNKNOWN)
