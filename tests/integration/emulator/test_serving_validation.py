"""Validation errors reach the SDK as Databricks' error classes, and nothing is created."""

from __future__ import annotations

from typing import Any

import pytest
from databricks.sdk.errors import (
    BadRequest,
    InvalidParameterValue,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

MODEL = "main.default.model"


def served(name: str = "a", version: str = "1", **extra: Any) -> dict[str, Any]:
    return {"name": name, "entity_name": MODEL, "entity_version": version,
            "workload_size": "Small", "scale_to_zero_enabled": True, **extra}


def create_raw(workspace, body: dict[str, Any]) -> dict[str, Any]:
    """POST the body as given (the dataclasses cannot express every wrong request)."""
    return workspace.api_client.do("POST", "/api/2.0/serving-endpoints", body=body)


CASES = [
    ("name with a dot", {"name": "bad.name", "config": {"served_entities": [served()]}},
     InvalidParameterValue, "Endpoint name 'bad.name' is invalid"),
    ("name of 64 characters", {"name": "x" * 64, "config": {"served_entities": [served()]}},
     InvalidParameterValue, "at most 63 characters"),
    ("both served_entities and served_models",
     {"name": "ep", "config": {"served_entities": [served()], "served_models": [
         {"model_name": MODEL, "model_version": "1", "scale_to_zero_enabled": True}]}},
     InvalidParameterValue, "Only one of config.served_entities and config.served_models"),
    ("11 served entities",
     {"name": "ep", "config": {"served_entities": [served(f"e{i}") for i in range(11)]}},
     InvalidParameterValue, "at most 10"),
    ("workload size with provisioned concurrency",
     {"name": "ep", "config": {"served_entities": [served(max_provisioned_concurrency=8)]}},
     InvalidParameterValue, "workload_size cannot be combined"),
    ("traffic not adding up to 100",
     {"name": "ep", "config": {
         "served_entities": [served("a"), served("b")],
         "traffic_config": {"routes": [{"served_entity_name": "a", "traffic_percentage": 60},
                                       {"served_entity_name": "b", "traffic_percentage": 30}]}}},
     InvalidParameterValue, "must add up to 100"),
    ("two entities without traffic config",
     {"name": "ep", "config": {"served_entities": [served("a"), served("b")]}},
     InvalidParameterValue, "config.traffic_config is required"),
    ("route to an unknown entity",
     {"name": "ep", "config": {
         "served_entities": [served("a")],
         "traffic_config": {"routes": [{"served_entity_name": "zz", "traffic_percentage": 100}]}}},
     InvalidParameterValue, "'zz', which is not a served entity"),
    ("31 environment variables",
     {"name": "ep", "config": {"served_entities": [
         served(environment_vars={f"V{i}": "x" for i in range(31)})]}},
     InvalidParameterValue, "at most 30"),
    ("inference tables without a schema",
     {"name": "ep", "ai_gateway": {"inference_table_config": {"catalog_name": "c",
                                                               "enabled": True}},
      "config": {"served_entities": [served()]}},
     InvalidParameterValue, "ai_gateway.inference_table_config.schema_name is required"),
    ("unknown workload type",
     {"name": "ep", "config": {"served_entities": [served(workload_type="TPU")]}},
     InvalidParameterValue, "Invalid value 'TPU'"),
    ("a string where a boolean belongs",
     {"name": "ep", "config": {"served_entities": [served(scale_to_zero_enabled="yes")]}},
     BadRequest, "expected a boolean for field 'config.served_entities[0].scale_to_zero_enabled'"),
    ("model version missing from the registry",
     {"name": "ep", "config": {"served_entities": [served(version="7")]}},
     ResourceDoesNotExist, "Model version 7 of model 'main.default.model' does not exist"),
]


@pytest.mark.parametrize("reason, body, error, message", CASES, ids=[c[0] for c in CASES])
def test_invalid_create_is_refused_and_creates_nothing(workspace, model_version, reason, body,
                                                       error, message):
    model_version()
    with pytest.raises(error) as caught:
        create_raw(workspace, body)
    assert message in str(caught.value), reason
    assert workspace.serving_endpoints.list() == []


def test_duplicate_name_is_resource_already_exists(workspace, model_version):
    model_version()
    body = {"name": "twice", "config": {"served_entities": [served()]}}
    create_raw(workspace, body)
    with pytest.raises(ResourceAlreadyExists, match="Endpoint with name 'twice' already exists"):
        create_raw(workspace, body)


def test_update_of_a_missing_endpoint_is_resource_does_not_exist(workspace, model_version):
    model_version()
    with pytest.raises(ResourceDoesNotExist, match="Endpoint with name 'ghost' does not exist"):
        workspace.api_client.do("PUT", "/api/2.0/serving-endpoints/ghost/config",
                                body={"served_entities": [served()]})


def test_malformed_json_and_unknown_paths(workspace, emulator):
    import httpx

    headers = {"Authorization": f"Bearer {emulator.token}", "Content-Type": "application/json"}
    malformed = httpx.post(f"{emulator.host}/api/2.0/serving-endpoints", content=b"{oops",
                           headers=headers)
    assert (malformed.status_code, malformed.json()["error_code"]) == (400, "MALFORMED_REQUEST")
    unknown = httpx.get(f"{emulator.host}/api/2.0/no-such-api", headers=headers)
    assert (unknown.status_code, unknown.json()["error_code"]) == (404, "ENDPOINT_NOT_FOUND")
