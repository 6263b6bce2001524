"""Serving endpoints through the real SDK: the state machine, conflicts, failures, deletion."""

from __future__ import annotations

import pytest
from databricks.sdk.errors import ResourceConflict, ResourceDoesNotExist
from databricks.sdk.service.serving import (
    EndpointCoreConfigInput,
    EndpointStateConfigUpdate,
    EndpointStateReady,
    ServedEntityInput,
    ServedModelStateDeployment,
    ServingEndpointDetailed,
)

from ..conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

MODEL = "main.default.model"


def entity(version: int, name: str = "model") -> ServedEntityInput:
    return ServedEntityInput(name=name, entity_name=MODEL, entity_version=str(version),
                             workload_size="Small", scale_to_zero_enabled=True)


def create(workspace, name: str, version: int) -> ServingEndpointDetailed:
    return workspace.serving_endpoints.create(
        name=name, config=EndpointCoreConfigInput(name=name, served_entities=[entity(version)])
    ).response


def settled(workspace, name: str):
    def probe():
        endpoint = workspace.serving_endpoints.get(name)
        return endpoint if endpoint.state.config_update != EndpointStateConfigUpdate.IN_PROGRESS \
            else None
    return wait_for(probe)


def test_create_goes_from_in_progress_to_ready(workspace, model_version):
    version = model_version()
    created = create(workspace, "lifecycle", version)
    assert created.state.ready == EndpointStateReady.NOT_READY
    assert created.state.config_update == EndpointStateConfigUpdate.IN_PROGRESS
    assert created.config is None and created.pending_config.config_version == 1

    ready = settled(workspace, "lifecycle")
    assert ready.state.ready == EndpointStateReady.READY
    assert ready.state.config_update == EndpointStateConfigUpdate.NOT_UPDATING
    assert ready.pending_config is None
    (served,) = ready.config.served_entities
    assert served.state.deployment == ServedModelStateDeployment.DEPLOYMENT_READY
    assert ready.config.served_models[0].model_version == str(version)
    assert [e.name for e in workspace.serving_endpoints.list()] == ["lifecycle"]


def test_update_while_in_progress_is_a_conflict(workspace, emulator, model_version):
    model_version()
    second = model_version()
    create(workspace, "busy", 1)
    settled(workspace, "busy")
    emulator.control("PUT", "/_emulator/settings", {"serving_update_seconds": 60})

    pending = workspace.serving_endpoints.update_config(
        name="busy", served_entities=[entity(second)]).response
    assert pending.state.config_update == EndpointStateConfigUpdate.IN_PROGRESS
    assert pending.config.served_entities[0].entity_version == "1"  # the old config serves
    with pytest.raises(ResourceConflict):
        workspace.serving_endpoints.update_config(name="busy", served_entities=[entity(1)])

    emulator.control("PUT", "/_emulator/settings", {"serving_update_seconds": 0})
    done = settled(workspace, "busy")
    assert done.config.config_version == 2
    assert done.config.served_entities[0].entity_version == str(second)


def test_failed_deployment_keeps_the_old_config_serving(workspace, emulator, model_version):
    model_version()
    broken = model_version()
    create(workspace, "fragile", 1)
    settled(workspace, "fragile")
    emulator.control("POST", "/_emulator/serving/deployment-failures",
                     {"entity_name": MODEL, "entity_version": str(broken),
                      "message": "Container failed: ImportError: No module named 'xgboost'"})

    workspace.serving_endpoints.update_config(name="fragile", served_entities=[entity(broken)])
    failed = settled(workspace, "fragile")
    assert failed.state.config_update == EndpointStateConfigUpdate.UPDATE_FAILED
    assert failed.state.ready == EndpointStateReady.READY
    assert failed.config.served_entities[0].entity_version == "1"
    (pending,) = failed.pending_config.served_entities
    assert pending.state.deployment == ServedModelStateDeployment.DEPLOYMENT_FAILED
    assert "xgboost" in pending.state.deployment_state_message

    # Databricks accepts a new update after a failure.
    workspace.serving_endpoints.update_config(name="fragile", served_entities=[entity(1)])
    recovered = settled(workspace, "fragile")
    assert recovered.state.config_update == EndpointStateConfigUpdate.NOT_UPDATING
    assert recovered.config.config_version == 3


def test_delete_removes_the_endpoint_at_once(workspace, model_version):
    create(workspace, "short-lived", model_version())
    workspace.serving_endpoints.delete("short-lived")
    with pytest.raises(ResourceDoesNotExist):
        workspace.serving_endpoints.get("short-lived")
    with pytest.raises(ResourceDoesNotExist):
        workspace.serving_endpoints.delete("short-lived")
