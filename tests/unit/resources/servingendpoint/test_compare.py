"""The diff knows what Databricks fills in and echoes: a converged endpoint shows no difference."""

import pytest
from databricks.sdk.service.serving import ServingEndpointDetailed

from lakeserve.api.servingendpoint import ServingEndpointSpec
from lakeserve.resources.servingendpoint import compare
from lakeserve.resources.servingendpoint.desired import OWNER_TAG, desired_endpoint

SPEC = {
    "config": {
        "servedEntities": [
            {"entityName": "main.ml.churn", "entityAlias": "champion", "workloadSize": "Small",
             "scaleToZeroEnabled": True},
            {"name": "chall", "entityName": "main.ml.churn", "entityVersion": "2",
             "workloadSize": "Small", "scaleToZeroEnabled": True,
             "environmentVars": {"API_KEY": "{{secrets/scope/key}}"}},
        ],
        "trafficConfig": {"routes": [
            {"servedEntityName": "churn-champion", "trafficPercentage": 50},
            {"servedEntityName": "chall", "trafficPercentage": 50}]},
        "autoCaptureConfig": {"catalogName": "main", "schemaName": "ml"},
    },
    "tags": [{"key": "team", "value": "ml"}, {"key": "app", "value": "churn"}],
    "aiGateway": {"usageTrackingConfig": {"enabled": True},
                  "rateLimits": [{"calls": 100}]},
}

# What Databricks answers for that endpoint once deployed: defaults filled, fields mirrored,
# tags in its own order, the prefix defaulted to the endpoint name.
ECHO = {
    "name": "churn-ab", "id": "abc",
    "state": {"ready": "READY", "config_update": "NOT_UPDATING"},
    "config": {
        "config_version": 1,
        "served_entities": [
            {"name": "churn-champion", "entity_name": "main.ml.churn", "entity_version": "1",
             "workload_size": "Small", "workload_type": "CPU", "scale_to_zero_enabled": True,
             "creator": "sp@x", "creation_timestamp": 1,
             "state": {"deployment": "DEPLOYMENT_READY"}},
            {"name": "chall", "entity_name": "main.ml.churn", "entity_version": "2",
             "workload_size": "Small", "workload_type": "CPU", "scale_to_zero_enabled": True,
             "environment_vars": {"API_KEY": "{{secrets/scope/key}}"},
             "state": {"deployment": "DEPLOYMENT_READY"}},
        ],
        "served_models": [{"name": "churn-champion", "model_name": "main.ml.churn",
                           "model_version": "1"}],
        "traffic_config": {"routes": [
            {"served_entity_name": "chall", "served_model_name": "chall",
             "traffic_percentage": 50},
            {"served_entity_name": "churn-champion", "served_model_name": "churn-champion",
             "traffic_percentage": 50}]},
        "auto_capture_config": {"catalog_name": "main", "schema_name": "ml",
                                "table_name_prefix": "churn-ab", "enabled": True},
    },
    "tags": [{"key": "app", "value": "churn"}, {"key": OWNER_TAG, "value": "ns/churn-ab"},
             {"key": "team", "value": "ml"}],
    "ai_gateway": {"usage_tracking_config": {"enabled": True},
                   "rate_limits": [{"calls": 100, "key": "endpoint", "renewal_period": "minute"}]},
}


def desired(spec=SPEC, champion="1"):
    return desired_endpoint(ServingEndpointSpec.model_validate(spec), "churn-ab", "ns/churn-ab",
                            lambda model, alias: champion)


def endpoint(**changes):
    data = {**ECHO, **changes}
    return ServingEndpointDetailed.from_dict(data)


def test_converged_endpoint_has_no_difference():
    ep = endpoint()
    want = desired()
    assert compare.config_diff(want, ep.config) == []
    assert compare.tag_changes(want, ep) == ({}, [])
    assert not compare.gateway_differs(want, ep)
    assert compare.create_only_diffs(want, ep) == []


def test_alias_move_is_a_version_change_of_that_entity_only():
    diffs = compare.config_diff(desired(champion="3"), endpoint().config)
    assert diffs == ["servedEntities[churn-champion].entityVersion 1 -> 3"]


def test_traffic_change_names_the_new_split():
    spec = {**SPEC, "config": {**SPEC["config"], "trafficConfig": {"routes": [
        {"servedEntityName": "churn-champion", "trafficPercentage": 80},
        {"servedEntityName": "chall", "trafficPercentage": 20}]}}}
    (diff,) = compare.config_diff(desired(spec), endpoint().config)
    assert "chall=50,churn-champion=50 -> chall=20,churn-champion=80" in diff


# (reason for the case, change to the observed first entity, expected field)
ENTITY_DRIFT = [
    ("scaled up behind our back", {"workload_size": "Large"}, "workloadSize"),
    ("GPU selected by hand", {"workload_type": "GPU_SMALL"}, "workloadType"),
    ("scale to zero switched off", {"scale_to_zero_enabled": False}, "scaleToZeroEnabled"),
    ("env var added", {"environment_vars": {"X": "1"}}, "environmentVars"),
]


@pytest.mark.parametrize("case, change, field", ENTITY_DRIFT, ids=[d[0] for d in ENTITY_DRIFT])
def test_out_of_band_entity_change_is_seen(case, change, field):
    config = {**ECHO["config"], "served_entities": [
        {**ECHO["config"]["served_entities"][0], **change}, ECHO["config"]["served_entities"][1]]}
    diffs = compare.config_diff(desired(), endpoint(config=config).config)
    assert diffs == [f"servedEntities[churn-champion].{field}"]


def test_extra_entity_is_removed():
    config = {**ECHO["config"], "served_entities": ECHO["config"]["served_entities"] + [
        {"name": "stray", "entity_name": "main.ml.other", "entity_version": "1"}]}
    assert "servedEntities[stray] removed" in compare.config_diff(desired(),
                                                                   endpoint(config=config).config)


def test_tags_added_by_hand_are_removed_and_changed_values_restored():
    tags = ECHO["tags"] + [{"key": "manual", "value": "x"}]
    tags[0] = {"key": "app", "value": "other"}
    add, delete = compare.tag_changes(desired(), endpoint(tags=tags))
    assert add == {"app": "churn"} and delete == ["manual"]


def test_gateway_not_in_spec_is_not_managed():
    spec = {k: v for k, v in SPEC.items() if k != "aiGateway"}
    assert not compare.gateway_differs(desired(spec), endpoint(ai_gateway={
        "rate_limits": [{"calls": 1, "renewal_period": "minute"}]}))


def test_gateway_drift_is_seen():
    assert compare.gateway_differs(desired(), endpoint(ai_gateway={
        "usage_tracking_config": {"enabled": False}}))


def test_create_only_fields_compare_only_when_set():
    spec = {**SPEC, "routeOptimized": True, "description": "d"}
    assert compare.create_only_diffs(desired(spec), endpoint()) == ["routeOptimized",
                                                                     "description"]
    assert compare.create_only_diffs(desired(spec), endpoint(route_optimized=True,
                                                             description="d")) == []


def test_auto_capture_location_change_is_seen():
    spec = {**SPEC, "config": {**SPEC["config"], "autoCaptureConfig": {
        "catalogName": "main", "schemaName": "other"}}}
    assert compare.config_diff(desired(spec), endpoint().config) == ["config.autoCaptureConfig"]


TABLE_WITHOUT_PREFIX = {"aiGateway": {"inferenceTableConfig": {"catalogName": "main",
                                                               "schemaName": "ml"}}}
# What a workspace may echo for parts the spec never set (their off values).
DEFAULTS_FILLED = {"usage_tracking_config": {"enabled": False},
                   "fallback_config": {"enabled": False},
                   "guardrails": {"input": {"safety": False, "pii": {"behavior": "NONE"}},
                                  "output": {"safety": False, "pii": {"behavior": "NONE"}}}}
TABLE_ECHO = {"catalog_name": "main", "schema_name": "ml", "table_name_prefix": "churn-ab",
              "enabled": True}

# (reason, spec's aiGateway part, what the workspace echoes, differs?)
GATEWAY_ECHOES = [
    ("prefix filled with the endpoint name", TABLE_WITHOUT_PREFIX,
     {"inference_table_config": TABLE_ECHO}, False),
    ("prefix filled and unset parts echoed off", TABLE_WITHOUT_PREFIX,
     {"inference_table_config": TABLE_ECHO, **DEFAULTS_FILLED}, False),
    ("explicit prefix equal to the endpoint name",
     {"aiGateway": {"inferenceTableConfig": {"catalogName": "main", "schemaName": "ml",
                                             "tableNamePrefix": "churn-ab"}}},
     {"inference_table_config": TABLE_ECHO}, False),
    ("a prefix other than the one in the workspace",
     {"aiGateway": {"inferenceTableConfig": {"catalogName": "main", "schemaName": "ml",
                                             "tableNamePrefix": "other"}}},
     {"inference_table_config": TABLE_ECHO}, True),
    ("usage tracking switched on outside the spec", TABLE_WITHOUT_PREFIX,
     {"inference_table_config": TABLE_ECHO, "usage_tracking_config": {"enabled": True}}, True),
    ("a disabled table's location is not compared",
     {"aiGateway": {"inferenceTableConfig": {"catalogName": "main", "schemaName": "ml",
                                             "enabled": False}}},
     {"inference_table_config": {"catalog_name": "x", "schema_name": "y", "enabled": False}},
     False),
    ("guardrail set in the spec and echoed", {"aiGateway": {"guardrails": {"input": {
        "safety": True}}}}, {"guardrails": {"input": {"safety": True, "pii": {
            "behavior": "NONE"}}}}, False),
]


@pytest.mark.parametrize("case, spec_part, echo, differs", GATEWAY_ECHOES,
                         ids=[g[0] for g in GATEWAY_ECHOES])
def test_gateway_echoes(case, spec_part, echo, differs):
    spec = {**{k: v for k, v in SPEC.items() if k != "aiGateway"}, **spec_part}
    assert compare.gateway_differs(desired(spec), endpoint(ai_gateway=echo)) is differs


def single_spec(**extra):
    return {"config": {"servedEntities": [{"name": "only", "entityName": "main.ml.churn",
                                           "entityVersion": "1", "workloadSize": "Small"}]},
            **extra}


SINGLE_ECHO = {
    "name": "churn-ab", "id": "abc", "description": "",
    "state": {"ready": "READY", "config_update": "NOT_UPDATING"},
    "config": {"config_version": 1, "served_entities": [
        {"name": "only", "entity_name": "main.ml.churn", "entity_version": "1",
         "workload_size": "Small", "workload_type": "CPU", "scale_to_zero_enabled": False}],
        "traffic_config": {"routes": [{"served_entity_name": "only", "served_model_name": "only",
                                       "traffic_percentage": 100}]}},
    "tags": [{"key": OWNER_TAG, "value": "ns/churn-ab"}]}

# (reason, spec, what Databricks answers): none of these is a difference
ECHOES = [
    ("a single entity without trafficConfig gets a 100% route", single_spec(), SINGLE_ECHO),
    ("no route echoed for a single entity", single_spec(),
     {**SINGLE_ECHO, "config": {**SINGLE_ECHO["config"], "traffic_config": None}}),
    ("description echoed empty when unset", single_spec(), SINGLE_ECHO),
    ("description set and echoed", single_spec(description="d"),
     {**SINGLE_ECHO, "description": "d"}),
    ("served entities in another order", SPEC,
     {**ECHO, "config": {**ECHO["config"],
                         "served_entities": ECHO["config"]["served_entities"][::-1]}}),
    ("burst scaling not echoed", single_spec(), SINGLE_ECHO),
]


@pytest.mark.parametrize("case, spec, answer", ECHOES, ids=[e[0] for e in ECHOES])
def test_server_echoes_are_not_drift(case, spec, answer):
    want, ep = desired(spec), ServingEndpointDetailed.from_dict(answer)
    assert compare.config_diff(want, ep.config) == []
    assert compare.create_only_diffs(want, ep) == []
    assert compare.tag_changes(want, ep) == ({}, [])


CAPTURE_ON = {"catalog_name": "main", "schema_name": "ml", "table_name_prefix": "churn-ab",
              "enabled": True}

# (reason, spec's autoCaptureConfig, what Databricks shows, needs a new endpoint?)
CAPTURE_CHANGES = [
    ("unchanged", {"catalogName": "main", "schemaName": "ml"}, CAPTURE_ON, False),
    ("disabled in place", {"catalogName": "main", "schemaName": "ml", "enabled": False},
     CAPTURE_ON, False),
    ("moved while enabled", {"catalogName": "main", "schemaName": "other"}, CAPTURE_ON, True),
    ("enabled again after it was disabled", {"catalogName": "main", "schemaName": "ml"},
     {**CAPTURE_ON, "enabled": False}, True),
    ("first enabled on an endpoint that never had one", {"catalogName": "main",
                                                         "schemaName": "ml"}, None, False),
]


@pytest.mark.parametrize("case, capture, shown, recreate", CAPTURE_CHANGES,
                         ids=[c[0] for c in CAPTURE_CHANGES])
def test_legacy_inference_table_changes(case, capture, shown, recreate):
    spec = {**SPEC, "config": {**SPEC["config"], "autoCaptureConfig": capture}}
    ep = endpoint(config={**ECHO["config"], "auto_capture_config": shown})
    assert compare.auto_capture_needs_recreate(desired(spec), ep.config) is recreate


def test_unity_catalog_names_in_any_case_are_the_same_names():
    """UC stores names in lower case: a mixed-case spec is sent folded and compares equal to
    the echo, whether the workspace echoes what it was sent or lower case."""
    named = [{"name": "churn-champion", **SPEC["config"]["servedEntities"][0]},
             SPEC["config"]["servedEntities"][1]]  # served-entity names are not UC names
    mixed = {**SPEC, "config": {**SPEC["config"], "servedEntities": [
        {**e, "entityName": "Main.ML.Churn"} for e in named],
        "autoCaptureConfig": {"catalogName": "Main", "schemaName": "ML"}}}
    want = desired(mixed)
    assert {e.entity_name for e in want.entities} == {"main.ml.churn"}
    assert want.auto_capture["catalog_name"] == "main"
    assert compare.config_diff(want, endpoint().config) == []
    upper_echo = {**ECHO["config"], "served_entities": [
        {**e, "entity_name": "MAIN.ML.CHURN"} for e in ECHO["config"]["served_entities"]]}
    assert compare.config_diff(want, endpoint(config=upper_echo).config) == []


def test_a_feature_spec_entity_echoed_without_a_version_is_not_drift():
    from databricks.sdk.service.serving import EndpointCoreConfigOutput

    from lakeserve.api.servingendpoint import ServingEndpointSpec
    from lakeserve.resources.servingendpoint.compare import config_diff
    from lakeserve.resources.servingendpoint.desired import desired_endpoint

    spec = ServingEndpointSpec.model_validate({"config": {"servedEntities": [
        {"entityName": "main.churn.churn_features", "scaleToZeroEnabled": True}]}})
    desired = desired_endpoint(spec, "ep", "ns/ep", lambda model, alias: "1")
    served = EndpointCoreConfigOutput.from_dict({
        "served_entities": [{"name": "churn_features", "entity_name": "main.churn.churn_features",
                             "scale_to_zero_enabled": True, "workload_type": "CPU"}],
        "traffic_config": {"routes": [{"served_entity_name": "churn_features",
                                       "traffic_percentage": 100}]}})
    assert config_diff(desired, served) == []
