"""Serving endpoints through a snapshot and a restore (as a restart does): records, tags, AI
gateway and knobs come back; state machines go on from their stored timestamps; what serves or is
being deployed is deployed again."""

from __future__ import annotations

import pytest

from lakeserve.emulator.persistence import codec
from lakeserve.emulator.serving.service import ServingService
from lakeserve.emulator.serving.validation import NormalizedConfig

USER = "someone@example.com"
VERSIONS = {("main.default.model", v): "READY" for v in ("1", "2")}


class Loaded:
    def __init__(self, config: NormalizedConfig):
        self.config = config

    def outcome(self) -> dict[str, str]:
        return {}


@pytest.fixture
def deployed() -> list[NormalizedConfig]:
    return []


def make_service(ctx, deployed) -> ServingService:
    def deploy(config: NormalizedConfig) -> Loaded:
        deployed.append(config)
        return Loaded(config)
    return ServingService(ctx, lambda name, version: VERSIONS.get((name, version)), deploy)


def restarted(ctx, service, deployed) -> ServingService:
    """A new service that took over ``service``'s state through the codec."""
    fresh = make_service(ctx, deployed)
    fresh.restore(codec.loads(codec.dumps(service.snapshot())))
    return fresh


def body(name: str = "ep", version: str = "1") -> dict:
    return {"name": name, "config": {"served_entities": [
        {"entity_name": "main.default.model", "entity_version": version,
         "workload_size": "Small", "scale_to_zero_enabled": True}]},
        "tags": [{"key": "team", "value": "ml"}],
        "ai_gateway": {"usage_tracking_config": {"enabled": True}}}


def states(response: dict) -> tuple[str, str]:
    return response["state"]["ready"], response["state"]["config_update"]


def test_an_endpoint_reads_back_the_same(ctx, clock, deployed):
    service = make_service(ctx, deployed)
    service.create(body(), USER, "http://emulator")
    clock.advance(10)
    service.update_notifications("ep", {"email_notifications": {"on_update_failure": ["a@b.c"]}})
    service.failures.add("main.default.model", "2", "boom")
    before = service.get("ep")

    fresh = restarted(ctx, service, deployed)

    assert fresh.get("ep") == before
    assert fresh.failures.as_list() == service.failures.as_list()


def test_a_creation_in_progress_finishes_when_its_stored_delay_is_up(ctx, clock, deployed):
    service = make_service(ctx, deployed)
    service.create(body(), USER, "http://emulator")  # create delay: 10 s
    clock.advance(4)
    fresh = restarted(ctx, service, deployed)
    clock.advance(5.9)
    assert states(fresh.get("ep")) == ("NOT_READY", "IN_PROGRESS")
    clock.advance(0.1)
    assert states(fresh.get("ep")) == ("READY", "NOT_UPDATING")


def test_the_serving_and_the_pending_revision_are_deployed_again(ctx, clock, deployed):
    service = make_service(ctx, deployed)
    service.create(body(), USER, "http://emulator")
    clock.advance(10)
    service.get("ep")
    service.update_config("ep", body(version="2")["config"], USER)
    deployed.clear()

    fresh = restarted(ctx, service, deployed)

    assert [c.entities[0].entity_version for c in deployed] == ["1", "2"]
    endpoint = fresh.endpoint("ep")
    assert endpoint.active.deployment.config is deployed[0]
    assert endpoint.pending.deployment.config is deployed[1]


def test_a_failed_update_is_not_deployed_again(ctx, clock, deployed):
    service = make_service(ctx, deployed)
    service.create(body(), USER, "http://emulator")
    clock.advance(10)
    service.failures.add("main.default.model", "2", "boom")
    service.update_config("ep", body(version="2")["config"], USER)
    clock.advance(5)
    assert states(service.get("ep")) == ("READY", "UPDATE_FAILED")
    deployed.clear()

    restarted(ctx, service, deployed)

    assert [c.entities[0].entity_version for c in deployed] == ["1"]


def test_a_transition_on_a_read_asks_for_a_save(ctx, clock, deployed):
    service = make_service(ctx, deployed)
    service.create(body(), USER, "http://emulator")
    ctx.persistence.save()
    service.get("ep")
    assert not ctx.persistence.changed, "nothing moved"
    clock.advance(10)
    service.get("ep")
    assert ctx.persistence.changed, "READY happened during a read"
