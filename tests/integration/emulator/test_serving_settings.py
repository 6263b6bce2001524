"""Tags, AI Gateway, notifications and legacy rate limits through the SDK."""

from __future__ import annotations

import pytest
from databricks.sdk.errors import InvalidParameterValue, ResourceConflict
from databricks.sdk.service.serving import (
    AiGatewayInferenceTableConfig,
    AiGatewayRateLimit,
    AiGatewayRateLimitRenewalPeriod,
    AiGatewayUsageTrackingConfig,
    EmailNotifications,
    EndpointCoreConfigInput,
    EndpointTag,
    RateLimit,
    RateLimitRenewalPeriod,
    ServedEntityInput,
)

from ..conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@pytest.fixture
def endpoint(workspace, model_version) -> str:
    version = model_version()
    workspace.serving_endpoints.create(
        name="settings", tags=[EndpointTag("team", "ml"), EndpointTag("env", "dev")],
        config=EndpointCoreConfigInput(name="settings", served_entities=[ServedEntityInput(
            entity_name="main.default.model", entity_version=str(version),
            workload_size="Small", scale_to_zero_enabled=True)]))
    wait_for(lambda: workspace.serving_endpoints.get("settings").state.config_update.value
             == "NOT_UPDATING")
    return "settings"


def tag_pairs(workspace, name: str) -> list[tuple[str, str | None]]:
    return [(t.key, t.value) for t in workspace.serving_endpoints.get(name).tags or []]


def test_tags_come_back_sorted_and_patch_adds_and_removes(workspace, endpoint):
    assert tag_pairs(workspace, endpoint) == [("env", "dev"), ("team", "ml")]
    answer = workspace.serving_endpoints.patch(endpoint, add_tags=[EndpointTag("cost", "42")],
                                               delete_tags=["env"])
    assert answer.tags == []  # the bare-array answer, as the SDK parses it
    assert tag_pairs(workspace, endpoint) == [("cost", "42"), ("team", "ml")]
    raw = workspace.api_client.do("PATCH", f"/api/2.0/serving-endpoints/{endpoint}/tags",
                                  body={"add_tags": [{"key": "a", "value": "1"}]})
    assert raw == [{"key": "a", "value": "1"}, {"key": "cost", "value": "42"},
                   {"key": "team", "value": "ml"}]


def test_ai_gateway_put_replaces_and_guards_the_inference_table(workspace, endpoint):
    tables = AiGatewayInferenceTableConfig(catalog_name="main", schema_name="logs", enabled=True)
    answer = workspace.serving_endpoints.put_ai_gateway(
        endpoint, inference_table_config=tables,
        usage_tracking_config=AiGatewayUsageTrackingConfig(enabled=True),
        rate_limits=[AiGatewayRateLimit(renewal_period=AiGatewayRateLimitRenewalPeriod.MINUTE,
                                        calls=100)])
    assert answer.inference_table_config.table_name_prefix == endpoint  # defaulted
    assert answer.rate_limits[0].key.value == "endpoint"  # defaulted

    moved = AiGatewayInferenceTableConfig(catalog_name="other", schema_name="logs",
                                          enabled=True, table_name_prefix=endpoint)
    with pytest.raises(InvalidParameterValue, match="Disable the inference table first"):
        workspace.serving_endpoints.put_ai_gateway(endpoint, inference_table_config=moved)

    workspace.serving_endpoints.put_ai_gateway(endpoint, inference_table_config=tables)
    gateway = workspace.serving_endpoints.get(endpoint).ai_gateway
    assert gateway.usage_tracking_config is None and not gateway.rate_limits  # replaced
    disabled = AiGatewayInferenceTableConfig(catalog_name="main", schema_name="logs",
                                             enabled=False)
    workspace.serving_endpoints.put_ai_gateway(endpoint, inference_table_config=disabled)
    workspace.serving_endpoints.put_ai_gateway(endpoint, inference_table_config=moved)
    assert workspace.serving_endpoints.get(endpoint).ai_gateway.inference_table_config \
        .catalog_name == "other"


def test_notifications_and_legacy_rate_limits(workspace, endpoint):
    answer = workspace.serving_endpoints.update_notifications(
        endpoint, email_notifications=EmailNotifications(on_update_failure=["ops@example.com"]))
    assert answer.name == endpoint
    assert workspace.serving_endpoints.get(endpoint).email_notifications.on_update_failure == \
        ["ops@example.com"]
    limits = workspace.serving_endpoints.put(
        endpoint, rate_limits=[RateLimit(calls=5, renewal_period=RateLimitRenewalPeriod.MINUTE)])
    assert limits.rate_limits[0].calls == 5 and limits.rate_limits[0].key.value == "endpoint"


# (ai_gateway_echo, the inference table prefix GET returns, usage tracking GET returns)
GATEWAY_ECHOES = [("prefix_filled", "settings", None), ("prefix_omitted", None, None),
                  ("defaults_filled", "settings", False)]


@pytest.mark.parametrize("setting, prefix, usage", GATEWAY_ECHOES, ids=[g[0] for g in GATEWAY_ECHOES])
def test_the_gateway_echo_setting_shapes_get(workspace, emulator, endpoint, setting, prefix,
                                             usage):
    emulator.control("PUT", "/_emulator/settings", {"ai_gateway_echo": setting})
    workspace.serving_endpoints.put_ai_gateway(
        endpoint, inference_table_config=AiGatewayInferenceTableConfig(
            catalog_name="main", schema_name="logs", enabled=True))
    echoed = workspace.serving_endpoints.get(endpoint).ai_gateway
    assert echoed.inference_table_config.table_name_prefix == prefix
    tracking = echoed.usage_tracking_config
    assert (tracking.enabled if tracking else None) is usage
    if setting == "defaults_filled":
        assert echoed.guardrails.input.pii.behavior.value == "NONE"


def writes_beside_the_config(workspace, name):
    w = workspace.serving_endpoints
    return {
        "tags": lambda: w.patch(name, add_tags=[EndpointTag("k", "v")]),
        "gateway": lambda: w.put_ai_gateway(
            name, usage_tracking_config=AiGatewayUsageTrackingConfig(enabled=True)),
        "notifications": lambda: w.update_notifications(
            name, email_notifications=EmailNotifications(on_update_failure=["a@b.c"])),
        "telemetry": lambda: workspace.api_client.do(
            "PATCH", f"/api/2.0/serving-endpoints/{name}/telemetry-config",
            body={"telemetry_config": {"telemetry_profile_id": "p"}}),
    }


@pytest.mark.parametrize("setting", ["refuse", "accept"])
def test_writes_while_a_config_update_is_in_progress(workspace, emulator, endpoint,
                                                     model_version, setting):
    emulator.control("PUT", "/_emulator/settings", {"writes_while_updating": setting,
                                                    "serving_update_seconds": 60})
    workspace.serving_endpoints.update_config(endpoint, served_entities=[ServedEntityInput(
        entity_name="main.default.model", entity_version=str(model_version()),
        workload_size="Small", scale_to_zero_enabled=True)])
    refused = []
    for what, write in writes_beside_the_config(workspace, endpoint).items():
        try:
            write()
        except ResourceConflict as exc:
            assert f"Endpoint {endpoint} is currently updating" in str(exc)
            refused.append(what)
    # the telemetry-config write is refused during an update whatever the setting
    assert refused == (["tags", "gateway", "notifications", "telemetry"]
                       if setting == "refuse" else ["telemetry"])
    emulator.control("PUT", "/_emulator/settings", {"serving_update_seconds": 0})
