"""Model Serving's request validation, case by case, with the reason each case must fail."""

from __future__ import annotations

import pytest
from databricks.sdk.service.serving import (
    AiGatewayConfig,
    AiGatewayInferenceTableConfig,
    EndpointCoreConfigInput,
    EndpointTag,
    ServingModelWorkloadType,
)

from lakeserve.emulator.errors import ApiError
from lakeserve.emulator.serving.inference import check_table_change, normalize_ai_gateway
from lakeserve.emulator.serving.validation import (
    check_versions_servable,
    normalize_config,
    normalize_tags,
    validate_endpoint_name,
)


def entity(name: str | None = "a", version: str = "1", **extra) -> dict:
    body = {"entity_name": "main.default.model", "entity_version": version, **extra}
    if name is not None:
        body["name"] = name
    return body


def config(**body) -> EndpointCoreConfigInput:
    return EndpointCoreConfigInput.from_dict({"name": "ep", **body})


def normalize(**body):
    return normalize_config(config(**body), "ep", "config.")


INVALID_CONFIGS = [
    ("no served entities at all", {}, "config.served_entities must contain"),
    ("served_entities and served_models together",
     {"served_entities": [entity()],
      "served_models": [{"model_name": "m", "model_version": "1", "scale_to_zero_enabled": True}]},
     "Only one of config.served_entities and config.served_models"),
    ("more than 10 served entities",
     {"served_entities": [entity(f"e{i}") for i in range(11)]}, "at most 10"),
    ("two entities with the same name",
     {"served_entities": [entity("same"), entity("same", "2")],
      "traffic_config": {"routes": [{"served_entity_name": "same", "traffic_percentage": 100}]}},
     "more than one served entity named 'same'"),
    ("defaulted names collide (same model and version twice)",
     {"served_entities": [entity(None), entity(None)]}, "more than one served entity named"),
    ("a dot is not allowed in a served entity name",
     {"served_entities": [entity("a.b")]}, "config.served_entities[0].name 'a.b' is invalid"),
    ("workload_size together with provisioned concurrency",
     {"served_entities": [entity(workload_size="Small", min_provisioned_concurrency=4)]},
     "workload_size cannot be combined"),
    ("unknown workload size",
     {"served_entities": [entity(workload_size="Huge")]}, "workload_size 'Huge' is invalid"),
    ("min concurrency above max",
     {"served_entities": [entity(min_provisioned_concurrency=8,
                                 max_provisioned_concurrency=4)]}, "must not exceed"),
    ("31 environment variables",
     {"served_entities": [entity(environment_vars={f"V{i}": "x" for i in range(31)})]},
     "at most 30"),
    ("entity with neither entity_name nor external_model",
     {"served_entities": [{"name": "a"}]}, "one of entity_name or external_model"),
    ("external model together with entity_name",
     {"served_entities": [{**entity(), "external_model": {"provider": "openai", "name": "gpt",
                                                          "task": "llm/v1/chat"}}]},
     "entity_name cannot be specified together with external_model"),
    ("external and custom models mixed",
     {"served_entities": [entity("a"), {"name": "b", "external_model": {
         "provider": "openai", "name": "gpt", "task": "llm/v1/chat"}}],
      "traffic_config": {"routes": [{"served_entity_name": "a", "traffic_percentage": 100}]}},
     "mixes external models"),
    ("two entities and no traffic config",
     {"served_entities": [entity("a"), entity("b", "2")]}, "config.traffic_config is required"),
    ("routes add up to 90",
     {"served_entities": [entity("a"), entity("b", "2")],
      "traffic_config": {"routes": [{"served_entity_name": "a", "traffic_percentage": 50},
                                    {"served_entity_name": "b", "traffic_percentage": 40}]}},
     "must add up to 100, but they add up to 90"),
    ("route to an entity that is not served",
     {"served_entities": [entity("a")],
      "traffic_config": {"routes": [{"served_entity_name": "zzz", "traffic_percentage": 100}]}},
     "routes traffic to 'zzz', which is not a served entity"),
    ("route without a target",
     {"served_entities": [entity("a")],
      "traffic_config": {"routes": [{"traffic_percentage": 100}]}},
     "config.traffic_config.routes[0].served_entity_name is required"),
    ("percentage above 100",
     {"served_entities": [entity("a"), entity("b", "2")],
      "traffic_config": {"routes": [{"served_entity_name": "a", "traffic_percentage": 150},
                                    {"served_entity_name": "b", "traffic_percentage": -50}]}},
     "between 0 and 100"),
    ("two routes to one entity",
     {"served_entities": [entity("a"), entity("b", "2")],
      "traffic_config": {"routes": [{"served_entity_name": "a", "traffic_percentage": 50},
                                    {"served_entity_name": "a", "traffic_percentage": 50}]}},
     "more than one route to 'a'"),
    ("legacy served model without its required scale_to_zero_enabled",
     {"served_models": [{"model_name": "m", "model_version": "1"}]},
     "config.served_models[0].scale_to_zero_enabled is required"),
    ("inference table enabled without catalog",
     {"served_entities": [entity()],
      "auto_capture_config": {"enabled": True, "schema_name": "s"}},
     "config.auto_capture_config.catalog_name is required when enabling"),
]


@pytest.mark.parametrize("reason, body, message", INVALID_CONFIGS,
                         ids=[case[0] for case in INVALID_CONFIGS])
def test_invalid_config_is_refused_naming_the_problem(reason, body, message):
    with pytest.raises(ApiError) as caught:
        normalize(**body)
    assert (caught.value.status, caught.value.error_code) == (400, "INVALID_PARAMETER_VALUE")
    assert message in caught.value.message, reason


INVALID_NAMES = [
    ("empty", ""),
    ("not a string", 7),
    ("64 characters", "x" * 64),
    ("a dot", "my.endpoint"),
    ("a space", "my endpoint"),
]


@pytest.mark.parametrize("reason, name", INVALID_NAMES, ids=[case[0] for case in INVALID_NAMES])
def test_invalid_endpoint_names_are_refused(reason, name):
    with pytest.raises(ApiError) as caught:
        validate_endpoint_name(name)
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE", reason


def test_valid_endpoint_names_pass():
    for name in ("a", "x" * 63, "my_endpoint-2"):
        assert validate_endpoint_name(name) == name


def test_single_entity_gets_a_default_name_and_all_traffic():
    normalized = normalize(served_entities=[entity(None, "3")])
    (only,) = normalized.entities
    assert only.name == "model-3"  # last part of the UC name, then the version
    assert only.workload_type is ServingModelWorkloadType.CPU
    assert only.scale_to_zero_enabled is False
    (route,) = normalized.routes
    assert (route.served_entity_name, route.served_model_name, route.traffic_percentage) == \
        ("model-3", "model-3", 100)


def test_legacy_served_models_become_served_entities_and_routes_name_both():
    normalized = normalize(
        served_models=[{"model_name": "m", "model_version": "2", "scale_to_zero_enabled": True,
                        "name": "a", "workload_type": "GPU_SMALL"},
                       {"model_name": "m", "model_version": "3",
                        "scale_to_zero_enabled": False, "name": "b"}],
        traffic_config={"routes": [{"served_model_name": "a", "traffic_percentage": 30},
                                   {"served_model_name": "b", "traffic_percentage": 70}]})
    assert [(e.entity_name, e.entity_version) for e in normalized.entities] == \
        [("m", "2"), ("m", "3")]
    assert normalized.entities[0].workload_type is ServingModelWorkloadType.GPU_SMALL
    assert [(r.served_entity_name, r.served_model_name) for r in normalized.routes] == \
        [("a", "a"), ("b", "b")]


def test_external_model_default_name_replaces_dots_and_colons():
    normalized = normalize(served_entities=[{"external_model": {
        "provider": "openai", "name": "gpt-4o:2024.05", "task": "llm/v1/chat"}}])
    assert normalized.entities[0].name == "gpt-4o-2024-05"
    assert normalized.external


def test_inference_table_prefix_defaults_to_the_endpoint_name():
    normalized = normalize(served_entities=[entity()],
                           auto_capture_config={"catalog_name": "c", "schema_name": "s"})
    assert normalized.auto_capture.enabled is True
    assert normalized.auto_capture.table_name_prefix == "ep"


def tables(catalog="c", schema="s", prefix="p", enabled=True):
    return AiGatewayInferenceTableConfig(catalog_name=catalog, schema_name=schema,
                                         table_name_prefix=prefix, enabled=enabled)


@pytest.mark.parametrize("old, new, refused, reason", [
    (tables(), tables(catalog="other"), True, "catalog changes while enabled"),
    (tables(), tables(schema="other"), True, "schema changes while enabled"),
    (tables(), tables(prefix="other"), True, "prefix changes while enabled"),
    (tables(), tables(catalog="other", enabled=False), False, "disabling may rename"),
    (tables(enabled=False), tables(catalog="other"), False, "enabling again elsewhere is fine"),
    (None, tables(), False, "first enable"),
    (tables(), tables(), False, "nothing changes"),
])
def test_inference_table_location_is_write_once_while_enabled(old, new, refused, reason):
    if refused:
        with pytest.raises(ApiError, match="Disable the inference table first"):
            check_table_change(old, new, "inference_table_config")
    else:
        check_table_change(old, new, "inference_table_config")


def test_ai_gateway_rate_limit_key_defaults_to_endpoint_and_requires_a_period():
    gateway = normalize_ai_gateway(AiGatewayConfig.from_dict(
        {"rate_limits": [{"calls": 10, "renewal_period": "minute"}]}), "ep", "ai_gateway")
    assert gateway.rate_limits[0].key.value == "endpoint"
    with pytest.raises(ApiError, match=r"ai_gateway.rate_limits\[0\].renewal_period"):
        normalize_ai_gateway(AiGatewayConfig.from_dict({"rate_limits": [{"calls": 10}]}),
                             "ep", "ai_gateway")


def test_tags_need_keys_and_may_not_repeat_one():
    tags = [EndpointTag("b", "2"), EndpointTag("a")]
    assert normalize_tags(tags, "tags") == {"b": "2", "a": None}
    with pytest.raises(ApiError, match="more than once"):
        normalize_tags([EndpointTag("a"), EndpointTag("a", "x")], "tags")
    with pytest.raises(ApiError, match=r"tags\[0\].key is required"):
        normalize_tags([EndpointTag("")], "tags")


@pytest.mark.parametrize("status, message", [
    (None, "Model version 1 of model 'main.default.model' does not exist."),
    ("PENDING_REGISTRATION", "is not ready to be served (status PENDING_REGISTRATION)"),
])
def test_model_version_must_exist_and_be_ready(status, message):
    entities = normalize(served_entities=[entity()]).entities
    with pytest.raises(ApiError) as caught:
        check_versions_servable(entities, lambda name, version: status)
    assert (caught.value.status, caught.value.error_code) == (404, "RESOURCE_DOES_NOT_EXIST")
    assert message in caught.value.message


def test_ready_model_versions_pass_and_external_models_are_not_looked_up():
    looked_up = []
    entities = normalize(served_entities=[entity()]).entities
    check_versions_servable(entities, lambda name, version: looked_up.append(name) or "READY")
    assert looked_up == ["main.default.model"]
    external = normalize(served_entities=[{"external_model": {
        "provider": "openai", "name": "gpt", "task": "llm/v1/chat"}}]).entities
    check_versions_servable(external, lambda name, version: pytest.fail("looked up"))


def test_an_entity_without_a_version_must_be_a_feature_spec():
    entities = normalize(served_entities=[{"entity_name": "main.default.features"}]).entities
    assert entities[0].name == "features"  # no version suffix in the default name
    no_model_lookup = lambda name, version: pytest.fail("looked up as a model version")  # noqa: E731
    check_versions_servable(entities, no_model_lookup, lambda name: name == "main.default.features")
    with pytest.raises(ApiError) as caught:
        check_versions_servable(entities, no_model_lookup, lambda name: False)
    assert (caught.value.status, caught.value.error_code) == (404, "RESOURCE_DOES_NOT_EXIST")
    assert "no feature spec (a Unity Catalog function of type FEATURE_SPEC)" in \
        caught.value.message
