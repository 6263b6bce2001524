"""A deployed config: its models load in the background, the outcome is undecided until every load
has finished, failures name the entity, and requests are routed to loaded entities."""

from __future__ import annotations

import random
import threading
from collections import Counter

import pytest
from databricks.sdk.service.serving import ExternalModel, Route, ServedEntityInput

from lakeserve.emulator.invocations.deployment import Deployer
from lakeserve.emulator.invocations.models import LoadedModel, ModelLoadError
from lakeserve.emulator.serving.validation import NormalizedConfig

MODEL = "main.default.churn"


class Store:
    """Stands in for ModelStore: version "bad" fails, every load waits for ``release``."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def get(self, name: str, version: str) -> LoadedModel:
        assert self.release.wait(10)
        if version == "bad":
            raise ModelLoadError("OSError: no MLmodel file")
        return LoadedModel(name, version, f"file:///m/{version}", object())


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def deployer(store):
    deployer = Deployer(store)  # type: ignore[arg-type]
    yield deployer
    store.release.set()
    deployer.shutdown()


def config(*versions: tuple[str, str, int]) -> NormalizedConfig:
    entities = [ServedEntityInput(name=name, entity_name=MODEL, entity_version=version)
                for name, version, _ in versions]
    routes = [Route(served_entity_name=name, served_model_name=name, traffic_percentage=share)
              for name, _, share in versions]
    return NormalizedConfig(entities, routes, None, external=False)


def settled(served) -> dict[str, str]:
    for _ in range(1000):
        outcome = served.outcome()
        if outcome is not None:
            return outcome
        threading.Event().wait(0.01)
    raise AssertionError("the deployment never finished")


def test_the_outcome_waits_for_every_load(deployer, store):
    served = deployer.deploy(config(("a", "1", 50), ("b", "2", 50)))
    assert served.outcome() is None
    store.release.set()
    assert settled(served) == {}
    assert {name: entity.model().entity_version for name, entity in served.entities.items()} \
        == {"a": "1", "b": "2"}


def test_an_unloadable_model_fails_its_entity_only(deployer, store):
    store.release.set()
    served = deployer.deploy(config(("good", "1", 50), ("broken", "bad", 50)))
    assert settled(served) == {"broken": "Model server failed to load the model of served "
                                         "entity 'broken' (main.default.churn version bad): "
                                         "OSError: no MLmodel file"}


def test_requests_follow_the_routes(deployer, store):
    store.release.set()
    served = deployer.deploy(config(("a", "1", 80), ("b", "2", 20)))
    settled(served)
    rng = random.Random(3)
    counts = Counter(served.choose(rng).name for _ in range(5000))
    assert 3800 <= counts["a"] <= 4200 and counts["a"] + counts["b"] == 5000


def test_each_entity_gets_its_own_id(deployer, store):
    store.release.set()
    first = deployer.deploy(config(("a", "1", 100)))
    second = deployer.deploy(config(("a", "1", 100)))
    assert first.entities["a"].id != second.entities["a"].id


def test_external_models_load_nothing(deployer):
    entity = ServedEntityInput(name="gpt", external_model=ExternalModel(
        name="gpt-4o", provider="openai", task="llm/v1/chat"))
    served = deployer.deploy(NormalizedConfig(
        [entity], [Route(served_entity_name="gpt", traffic_percentage=100)], None, external=True))
    assert served.outcome() == {}
    assert served.entities["gpt"].model() is None


def test_scoring_time_is_a_moving_average(deployer, store):
    store.release.set()
    entity = deployer.deploy(config(("a", "1", 100))).entities["a"]
    assert entity.scoring_seconds is None
    entity.observe(0.010)
    entity.observe(0.000)
    assert entity.scoring_seconds == pytest.approx(0.008)
