"""Database instances: STARTING until the delay passes, updates through an update mask."""

from __future__ import annotations

import pytest

from lakeserve.emulator.errors import ApiError

USER = "someone@example.com"


@pytest.fixture
def instances(ctx):
    from lakeserve.emulator.lakebase.instances import InstanceService

    ctx.settings.database_instance_seconds = 10
    return InstanceService(ctx)


def test_an_instance_starts_then_is_available(instances, clock):
    created = instances.create({"name": "inst", "capacity": "CU_2"}, USER)
    assert created["state"] == "STARTING"
    assert created["read_write_dns"].startswith("instance-") and created["uid"]
    assert (created["effective_capacity"], created["effective_node_count"]) == ("CU_2", 1)
    assert created["creator"] == USER and created["creation_time"].endswith("Z")
    clock.advance(10)
    assert instances.get("inst")["state"] == "AVAILABLE"


def test_updates_go_through_updating_and_stop_start(instances, clock):
    instances.create({"name": "inst", "capacity": "CU_1"}, USER)
    clock.advance(10)
    updated = instances.update("inst", {"capacity": "CU_4", "node_count": 3}, "capacity")
    assert (updated["capacity"], updated.get("node_count"), updated["state"]) == \
        ("CU_4", None, "UPDATING")
    clock.advance(10)
    assert instances.get("inst")["state"] == "AVAILABLE"
    assert instances.update("inst", {"stopped": True}, "stopped")["state"] == "STOPPED"
    assert instances.update("inst", {"stopped": False}, "stopped")["state"] == "STARTING"


@pytest.mark.parametrize("body, fragment", [
    ({"name": "inst", "capacity": "CU_3"}, "Invalid capacity 'CU_3'"),
    ({"name": "-bad", "capacity": "CU_1"}, "Invalid database instance name"),
    ({"capacity": "CU_1"}, "name"),
    ({"name": "inst", "retention_window_in_days": 1}, "between 2 and 35"),
])
def test_invalid_instances_are_refused(instances, body, fragment):
    with pytest.raises(ApiError) as failure:
        instances.create(body, USER)
    assert failure.value.status == 400 and fragment in failure.value.message


def test_duplicates_missing_and_masks(instances):
    instances.create({"name": "inst"}, USER)
    with pytest.raises(ApiError) as duplicate:
        instances.create({"name": "inst"}, USER)
    assert duplicate.value.status == 409
    with pytest.raises(ApiError) as missing:
        instances.get("other")
    assert missing.value.status == 404
    with pytest.raises(ApiError, match="update_mask"):
        instances.update("inst", {"capacity": "CU_2"}, None)
    with pytest.raises(ApiError, match="cannot be updated"):
        instances.update("inst", {"name": "x"}, "name")
    with pytest.raises(ApiError, match="purge=false"):
        instances.delete("inst", "false")
    instances.delete("inst", "true")
    assert not instances.exists("inst")
