"""Registry versions -> loaded models: resolved through the registry, loaded once per version
even when asked concurrently, failures remembered, no-artifact versions recognised."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from lakeserve.emulator.invocations.models import ModelLoadError, ModelStore
from lakeserve.emulator.registry.store import ModelRegistry

MODEL = "main.default.churn_model"


class Loader:
    """Counts loads; can hold a load until released."""

    def __init__(self, fail: bool = False, hold: bool = False):
        self.calls: list[str] = []
        self.fail = fail
        self.entered = threading.Event()
        self.release = threading.Event()
        if not hold:
            self.release.set()

    def __call__(self, uri: str) -> object:
        self.calls.append(uri)
        self.entered.set()
        assert self.release.wait(10)
        if self.fail:
            raise OSError(f"no MLmodel file under {uri}")
        return object()


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> ModelRegistry:
    return ModelRegistry(Path(tmp_path_factory.mktemp("registry")), lambda: "owner")


def register(registry: ModelRegistry, source: str | None) -> str:
    return str(registry.register_version(MODEL, source, []).version)


def test_a_version_is_loaded_from_its_source(registry):
    version = register(registry, "file:///models/churn")
    loader = Loader()
    model = ModelStore(registry.uri, loader).get(MODEL, version)
    assert loader.calls == ["file:///models/churn"]
    assert (model.entity_name, model.entity_version, model.uri) == (MODEL, version,
                                                                    "file:///models/churn")
    assert model.has_artifacts and model.input_schema is None


def test_concurrent_first_requests_load_once(registry):
    version = register(registry, "file:///models/concurrent")
    loader = Loader(hold=True)
    store = ModelStore(registry.uri, loader)
    results = []
    threads = [threading.Thread(target=lambda: results.append(store.get(MODEL, version)))
               for _ in range(5)]
    for thread in threads:
        thread.start()
    assert loader.entered.wait(10)
    loader.release.set()
    for thread in threads:
        thread.join(10)
    assert len(loader.calls) == 1
    assert len(results) == 5 and all(result is results[0] for result in results)
    assert store.get(MODEL, version) is results[0]


def test_a_version_without_artifacts_loads_nothing(registry):
    version = register(registry, None)
    loader = Loader()
    model = ModelStore(registry.uri, loader).get(MODEL, version)
    assert loader.calls == [] and not model.has_artifacts and model.uri == ""


def test_a_failed_load_is_remembered_until_cleared(registry):
    version = register(registry, "file:///not/a/model")
    loader = Loader(fail=True)
    store = ModelStore(registry.uri, loader)
    for _ in range(2):
        with pytest.raises(ModelLoadError, match="OSError: no MLmodel file under file:///not"):
            store.get(MODEL, version)
    assert len(loader.calls) == 1
    assert store.loaded()[0]["state"] == "FAILED"
    store.clear()
    with pytest.raises(ModelLoadError):
        store.get(MODEL, version)
    assert len(loader.calls) == 2


def test_a_missing_version_is_a_load_error(registry):
    with pytest.raises(ModelLoadError, match="Could not look up model version 99"):
        ModelStore(registry.uri, Loader()).get(MODEL, "99")


def test_models_uris_resolve_on_this_registry_not_the_global_one(registry):
    store = ModelStore(registry.uri, Loader())
    client = store._registry()
    experiment = client.create_experiment("models-uri")
    logged = client.create_logged_model(experiment_id=experiment, name="churn")
    assert store.artifact_uri(f"models:/{logged.model_id}") == logged.artifact_location
    version = register(registry, "file:///models/by-version")
    assert store.artifact_uri(f"models:/{MODEL}/{version}") == "file:///models/by-version"
    assert store.artifact_uri("file:///elsewhere") == "file:///elsewhere"
