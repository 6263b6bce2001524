"""The serving state machine and echo, driven through the service with a manual clock."""

from __future__ import annotations

import pytest

from lakeserve.emulator.errors import ApiError
from lakeserve.emulator.serving.service import ServingService

USER = "someone@example.com"


@pytest.fixture
def versions() -> dict[tuple[str, str], str]:
    return {("main.default.model", "1"): "READY", ("main.default.model", "2"): "READY"}


@pytest.fixture
def service(ctx, versions) -> ServingService:
    return ServingService(ctx, lambda name, version: versions.get((name, version)))


def served(version: str = "1", name: str | None = None) -> dict:
    body = {"entity_name": "main.default.model", "entity_version": version,
            "workload_size": "Small", "scale_to_zero_enabled": True}
    return {**body, "name": name} if name else body


def create(service, name="ep", **extra) -> dict:
    body = {"name": name, "config": {"served_entities": [served()]}, **extra}
    return service.create(body, USER, "http://emulator")


def update(service, version="2", name="ep") -> dict:
    return service.update_config(name, {"served_entities": [served(version)]}, USER)


def states(response: dict) -> tuple[str, str]:
    return response["state"]["ready"], response["state"]["config_update"]


def deployments(config: dict) -> list[str]:
    return [entity["state"]["deployment"] for entity in config["served_entities"]]


def test_creation_is_in_progress_until_the_create_delay_passes(service, clock):
    created = create(service)
    assert states(created) == ("NOT_READY", "IN_PROGRESS")
    assert "config" not in created
    assert created["pending_config"]["config_version"] == 1
    assert deployments(created["pending_config"]) == ["DEPLOYMENT_CREATING"]

    clock.advance(9.9)
    assert states(service.get("ep")) == ("NOT_READY", "IN_PROGRESS")
    clock.advance(0.1)
    ready = service.get("ep")
    assert states(ready) == ("READY", "NOT_UPDATING")
    assert "pending_config" not in ready
    assert ready["config"]["config_version"] == 1
    assert deployments(ready["config"]) == ["DEPLOYMENT_READY"]


def test_update_keeps_the_old_config_serving_until_it_finishes(service, clock):
    create(service)
    clock.advance(10)
    updating = update(service)
    assert states(updating) == ("READY", "IN_PROGRESS")
    assert updating["config"]["served_entities"][0]["entity_version"] == "1"
    assert updating["pending_config"]["config_version"] == 2
    assert updating["pending_config"]["served_entities"][0]["entity_version"] == "2"

    clock.advance(5)
    done = service.get("ep")
    assert states(done) == ("READY", "NOT_UPDATING")
    assert done["config"]["config_version"] == 2
    assert done["config"]["served_entities"][0]["entity_version"] == "2"


def test_a_second_update_while_one_is_in_flight_is_a_conflict(service, clock):
    create(service)
    with pytest.raises(ApiError) as during_create:
        update(service)
    assert (during_create.value.status, during_create.value.error_code) == \
        (409, "RESOURCE_CONFLICT")
    clock.advance(10)
    update(service)
    with pytest.raises(ApiError, match="already has a config update in progress"):
        update(service, "1")


def test_changing_the_delay_moves_work_in_flight(service, ctx):
    create(service)
    ctx.settings.serving_create_seconds = 0
    assert states(service.get("ep")) == ("READY", "NOT_UPDATING")


def test_failed_update_keeps_the_old_config_and_shows_why(service, clock):
    create(service)
    clock.advance(10)
    service.failures.add("main.default.model", "2", "Container crashed: out of memory")
    update(service)
    clock.advance(5)
    failed = service.get("ep")
    assert states(failed) == ("READY", "UPDATE_FAILED")
    assert failed["config"]["served_entities"][0]["entity_version"] == "1"
    (entity,) = failed["pending_config"]["served_entities"]
    assert entity["state"] == {"deployment": "DEPLOYMENT_FAILED",
                               "deployment_state_message": "Container crashed: out of memory"}
    # a later update is accepted, and succeeds once the failure is cleared
    service.failures.remove()
    retried = update(service)
    assert retried["pending_config"]["config_version"] == 3
    clock.advance(5)
    assert states(service.get("ep")) == ("READY", "NOT_UPDATING")


def test_failed_creation_stays_not_ready(service, clock):
    service.failures.add("main.default.model", "1", "Image build failed")
    create(service)
    clock.advance(10)
    failed = service.get("ep")
    assert states(failed) == ("NOT_READY", "UPDATE_FAILED")
    assert "config" not in failed
    assert deployments(failed["pending_config"]) == ["DEPLOYMENT_FAILED"]


def test_a_failed_config_can_be_cleared_from_pending_config(service, clock, ctx):
    ctx.settings.failed_update_pending_config = "clear"
    service.failures.add("main.default.model", "1", "Image build failed")
    create(service)
    clock.advance(10)
    failed = service.get("ep")
    assert states(failed) == ("NOT_READY", "UPDATE_FAILED")
    assert "config" not in failed and "pending_config" not in failed
    update(service)  # a new config is still accepted
    clock.advance(5)
    assert states(service.get("ep")) == ("READY", "NOT_UPDATING")


def test_the_failure_is_decided_when_the_config_is_submitted(service, clock):
    create(service)
    service.failures.add("main.default.model", "1", "too late")
    clock.advance(10)
    assert states(service.get("ep")) == ("READY", "NOT_UPDATING")


def test_responses_echo_like_databricks(service):
    created = create(service, tags=[{"key": "zeta", "value": "1"}, {"key": "alpha"}])
    assert [tag["key"] for tag in created["tags"]] == ["alpha", "zeta"]
    assert created["creator"] == USER
    assert created["permission_level"] == "CAN_MANAGE"
    assert len(created["id"]) == 32 and int(created["id"], 16) >= 0
    pending = created["pending_config"]
    (entity,) = pending["served_entities"]
    assert entity["name"] == "model-1" and entity["workload_type"] == "CPU"
    (model,) = pending["served_models"]
    assert (model["model_name"], model["model_version"], model["name"]) == \
        ("main.default.model", "1", "model-1")
    assert pending["traffic_config"]["routes"] == [
        {"served_entity_name": "model-1", "served_model_name": "model-1",
         "traffic_percentage": 100}]


def test_description_is_always_echoed_and_burst_scaling_never(service):
    created = create(service, config={"served_entities": [
        {**served(), "burst_scaling_enabled": True}]})
    assert created["description"] == ""
    assert "burst_scaling_enabled" not in created["pending_config"]["served_entities"][0]


def test_served_entities_order_setting(service, ctx):
    two = {"served_entities": [served("1", "a"), served("2", "b")], "traffic_config": {
        "routes": [{"served_entity_name": "a", "traffic_percentage": 50},
                   {"served_entity_name": "b", "traffic_percentage": 50}]}}
    create(service, config=two)
    names = lambda: [e["name"] for e in service.get("ep")["pending_config"]["served_entities"]]  # noqa: E731
    assert names() == ["a", "b"]
    ctx.settings.served_entities_order = "reversed"
    assert names() == ["b", "a"]


def test_missing_version_creates_nothing(service):
    body = {"name": "ep", "config": {"served_entities": [served("9")]}}
    with pytest.raises(ApiError) as caught:
        service.create(body, USER, "http://emulator")
    assert caught.value.status == 404
    assert "Model version 9 of model 'main.default.model' does not exist" in caught.value.message
    with pytest.raises(ApiError, match="does not exist"):
        service.get("ep")


def test_duplicate_names_and_missing_endpoints(service):
    create(service)
    with pytest.raises(ApiError) as duplicate:
        create(service)
    assert (duplicate.value.status, duplicate.value.error_code) == (409, "RESOURCE_ALREADY_EXISTS")
    service.delete("ep")
    for call in (lambda: service.get("ep"), lambda: service.delete("ep"),
                 lambda: update(service)):
        with pytest.raises(ApiError) as missing:
            call()
        assert (missing.value.status, missing.value.error_code) == (404, "RESOURCE_DOES_NOT_EXIST")


def test_tags_patch_adds_and_removes_and_answers_a_bare_sorted_list(service, clock):
    create(service, tags=[{"key": "keep", "value": "1"}, {"key": "drop", "value": "2"}])
    clock.advance(10)
    answer = service.patch_tags("ep", {"add_tags": [{"key": "new", "value": "3"}],
                                       "delete_tags": ["drop", "never-there"]})
    assert answer == [{"key": "keep", "value": "1"}, {"key": "new", "value": "3"}]
    assert service.get("ep")["tags"] == answer


def test_ai_gateway_put_replaces_everything_and_guards_the_inference_table(service, clock):
    create(service)
    clock.advance(10)
    tables = {"catalog_name": "c", "schema_name": "s", "enabled": True}
    first = service.put_ai_gateway("ep", {"inference_table_config": tables,
                                          "usage_tracking_config": {"enabled": True}})
    assert first["inference_table_config"]["table_name_prefix"] == "ep"
    with pytest.raises(ApiError, match="Disable the inference table first"):
        service.put_ai_gateway("ep", {"inference_table_config": {**tables, "catalog_name": "x"}})
    second = service.put_ai_gateway("ep", {"inference_table_config": tables})
    assert "usage_tracking_config" not in second
    assert "usage_tracking_config" not in service.get("ep")["ai_gateway"]


def test_writes_beside_the_config_wait_for_the_update(service, clock, ctx):
    create(service)
    with pytest.raises(ApiError, match="Endpoint ep is currently updating") as refused:
        service.patch_tags("ep", {"add_tags": [{"key": "a", "value": "1"}]})
    assert (refused.value.status, refused.value.error_code) == (409, "RESOURCE_CONFLICT")
    ctx.settings.writes_while_updating = "accept"
    service.patch_tags("ep", {"add_tags": [{"key": "a", "value": "1"}]})
    with pytest.raises(ApiError, match="telemetry configuration"):  # refused whatever the setting
        service.patch_telemetry("ep", {"telemetry_config": {"telemetry_profile_id": "p"}})


def test_update_config_keeps_auto_capture_when_omitted_and_guards_it(service, clock):
    create(service, config={"served_entities": [served()], "auto_capture_config": {
        "catalog_name": "c", "schema_name": "s", "table_name_prefix": "p"}})
    clock.advance(10)
    updated = update(service)
    assert updated["pending_config"]["auto_capture_config"]["table_name_prefix"] == "p"
    clock.advance(5)
    with pytest.raises(ApiError, match="auto_capture_config.schema_name"):
        service.update_config("ep", {"served_entities": [served()], "auto_capture_config": {
            "catalog_name": "c", "schema_name": "other", "table_name_prefix": "p"}}, USER)


def test_a_disabled_legacy_inference_table_cannot_be_enabled_again(service, clock):
    capture = {"catalog_name": "c", "schema_name": "s", "table_name_prefix": "p"}
    create(service, config={"served_entities": [served()], "auto_capture_config": capture})
    clock.advance(10)
    service.update_config("ep", {"served_entities": [served()], "auto_capture_config": {
        **capture, "enabled": False}}, USER)
    clock.advance(5)
    with pytest.raises(ApiError, match="cannot be enabled again"):
        service.update_config("ep", {"served_entities": [served()], "auto_capture_config": {
            **capture, "schema_name": "other", "enabled": True}}, USER)


def test_writes_count_against_the_workspace_limit(service, ctx):
    ctx.settings.write_limit.limit = 2
    create(service, "one")
    create(service, "two")
    with pytest.raises(ApiError) as limited:
        create(service, "three")
    assert (limited.value.status, limited.value.error_code) == (429, "REQUEST_LIMIT_EXCEEDED")
    assert limited.value.headers()["Retry-After"] == "300"


def test_list_shows_summaries(service, clock):
    create(service, "a")
    clock.advance(10)
    create(service, "b")
    listed = {e["name"]: e for e in service.list()["endpoints"]}
    assert listed["a"]["config"]["served_entities"][0]["entity_version"] == "1"
    assert "config" not in listed["b"]  # nothing serves yet
    assert listed["b"]["state"]["config_update"] == "IN_PROGRESS"


def test_create_only_fields_are_echoed_and_update_config_ignores_them(service, clock):
    created = create(service, description="churn model", budget_policy_id="bp-1",
                     route_optimized=True)
    assert (created["description"], created["budget_policy_id"], created["route_optimized"]) == \
        ("churn model", "bp-1", True)
    assert created["endpoint_url"] == \
        f"http://emulator/route-optimized/{created['id']}/serving-endpoints/ep/invocations"
    assert created["data_plane_info"]["query_info"]["endpoint_url"] == created["endpoint_url"]
    clock.advance(10)
    service.update_config("ep", {"served_entities": [served("2")], "description": "changed",
                                 "route_optimized": False}, USER)
    after = service.get("ep")
    assert (after["description"], after["route_optimized"]) == ("churn model", True)


def test_update_cannot_switch_between_external_and_custom_models(service, clock):
    create(service)
    clock.advance(10)
    external = {"name": "gpt", "external_model": {"provider": "openai", "name": "gpt-4o",
                                                  "task": "llm/v1/chat"}}
    with pytest.raises(ApiError, match="cannot switch between serving external models"):
        service.update_config("ep", {"served_entities": [external]}, USER)


TABLES = {"logs_table": "main.obs.logs", "traces_table": "main.obs.traces"}


def test_telemetry_tables_become_a_profile_and_only_its_id_is_echoed(service, clock):
    created = create(service, telemetry_config={
        "table_names": TABLES, "inference_table_config": {"sampling_fraction": 0.5}})
    first = created["telemetry_config"]
    assert set(first) == {"telemetry_profile_id", "inference_table_config"}
    assert first["inference_table_config"] == {"name": "main.obs.logs_payload",
                                               "sampling_fraction": 0.5}
    clock.advance(10)
    again = service.patch_telemetry("ep", {"telemetry_config": {"table_names": TABLES}})
    assert again["telemetry_config"]["telemetry_profile_id"] != first["telemetry_profile_id"]
    kept = service.patch_telemetry("ep", {"telemetry_config": {}})  # names neither: no change
    assert kept["telemetry_config"] == again["telemetry_config"]
    reused = service.patch_telemetry("ep", {"telemetry_config": {"telemetry_profile_id": "p1"}})
    assert reused["telemetry_config"] == {"telemetry_profile_id": "p1"}
    assert "telemetry_config" not in service.patch_telemetry("ep", {})  # omitted: removed


def test_telemetry_needs_a_custom_model(service, clock):
    external = {"name": "gpt", "external_model": {"provider": "openai", "name": "gpt-4o",
                                                  "task": "llm/v1/chat"}}
    created = create(service, config={"served_entities": [external]},
                     telemetry_config={"table_names": TABLES})
    assert "telemetry_config" not in created  # create drops what it cannot apply
    clock.advance(10)
    with pytest.raises(ApiError, match="endpoint type 'EXTERNAL_MODELS'") as refused:
        service.patch_telemetry("ep", {"telemetry_config": {"table_names": TABLES}})
    assert (refused.value.status, refused.value.error_code) == (400, "INVALID_PARAMETER_VALUE")
