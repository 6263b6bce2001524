"""The state machine waits for a revision's deployment (its models loading) past the delay, and
ends UPDATE_FAILED / DEPLOYMENT_FAILED when a model cannot be loaded."""

from __future__ import annotations

import pytest

from lakeserve.emulator.serving.service import ServingService
from lakeserve.emulator.serving.validation import NormalizedConfig

USER = "someone@example.com"


class Loading:
    """A deployment whose outcome the test decides."""

    def __init__(self) -> None:
        self.result: dict[str, str] | None = None
        self.config: NormalizedConfig | None = None

    def outcome(self) -> dict[str, str] | None:
        return self.result


@pytest.fixture
def deployments() -> list[Loading]:
    return []


@pytest.fixture
def service(ctx, deployments) -> ServingService:
    versions = {("main.default.model", "1"): "READY", ("main.default.model", "2"): "READY"}

    def deploy(config: NormalizedConfig) -> Loading:
        loading = Loading()
        loading.config = config
        deployments.append(loading)
        return loading

    return ServingService(ctx, lambda name, version: versions.get((name, version)), deploy)


def served(version: str) -> dict:
    return {"name": "model", "entity_name": "main.default.model", "entity_version": version}


def state(service: ServingService) -> tuple[str, str]:
    answer = service.get("ep")["state"]
    return answer["ready"], answer["config_update"]


def test_each_submitted_config_is_deployed_with_its_entities_and_routes(service, deployments):
    service.create({"name": "ep", "config": {"served_entities": [served("1")]}}, USER, "h")
    (deployment,) = deployments
    assert [e.entity_version for e in deployment.config.entities] == ["1"]
    assert [r.traffic_percentage for r in deployment.config.routes] == [100]


def test_creation_waits_for_the_models_after_the_delay(service, deployments, clock):
    service.create({"name": "ep", "config": {"served_entities": [served("1")]}}, USER, "h")
    clock.advance(60)
    assert state(service) == ("NOT_READY", "IN_PROGRESS")
    deployments[0].result = {}
    assert state(service) == ("READY", "NOT_UPDATING")


def test_a_model_that_cannot_load_fails_the_creation(service, deployments, clock):
    service.create({"name": "ep", "config": {"served_entities": [served("1")]}}, USER, "h")
    deployments[0].result = {"model": "Model server failed to load the model: no MLmodel"}
    clock.advance(10)
    answer = service.get("ep")
    assert state(service) == ("NOT_READY", "UPDATE_FAILED")
    (entity,) = answer["pending_config"]["served_entities"]
    assert entity["state"] == {"deployment": "DEPLOYMENT_FAILED", "deployment_state_message":
                               "Model server failed to load the model: no MLmodel"}


def test_a_failed_update_keeps_the_old_models_serving(service, deployments, clock):
    service.create({"name": "ep", "config": {"served_entities": [served("1")]}}, USER, "h")
    deployments[0].result = {}
    clock.advance(10)
    service.update_config("ep", {"served_entities": [served("2")]}, USER)
    deployments[1].result = {"model": "cannot load"}
    clock.advance(5)
    answer = service.get("ep")
    assert state(service) == ("READY", "UPDATE_FAILED")
    assert answer["config"]["served_entities"][0]["entity_version"] == "1"
    assert service.endpoint("ep").active.deployment is deployments[0]
