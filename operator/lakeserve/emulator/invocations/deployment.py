"""Deploying a submitted serving config: its models load in the background while the endpoint is
IN_PROGRESS; the state machine asks :meth:`ServedConfig.outcome` once the deployment delay has
passed, so an unloadable model ends the update ``UPDATE_FAILED`` / ``DEPLOYMENT_FAILED`` instead of
an endpoint that is READY but cannot answer.

A version registered without artifacts (empty ``source``, as the operator's tests register them)
deploys fine and answers queries with a 400 saying it has no model to run. An entity without a
version serves a feature spec: deploying it resolves the spec against the catalog as it is then
(a spec whose table or function is gone fails the deployment).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from databricks.sdk.service.serving import ServedEntityInput

from lakeserve.emulator.errors import ApiError
from lakeserve.emulator.featurespec import FeatureSpec
from lakeserve.emulator.invocations.models import LoadedModel, ModelLoadError, ModelStore
from lakeserve.emulator.invocations.routing import RoutingTable
from lakeserve.emulator.serving.validation import NormalizedConfig

LOAD_FAILED = "Model server failed to load the model of served entity '{name}' " \
              "({entity} version {version}): {error}"
SPEC_FAILED = "Feature server failed to load the feature spec of served entity '{name}' " \
              "({entity}): {error}"

# A feature spec's name -> what serving it computes; raises ApiError when it cannot be served.
FeaturePlans = Callable[[str], FeatureSpec]


@dataclass(frozen=True)
class ServedFeatures:
    """A feature spec as deployed: answers with features instead of predictions."""

    entity_name: str
    spec: FeatureSpec


@dataclass
class ServedEntity:
    name: str
    entity_name: str
    entity_version: str
    id: str  # served_entity_id in inference tables (one per entity per config revision)
    loading: Future[LoadedModel | ServedFeatures] | None  # None: an external model
    scoring_seconds: float | None = None  # moving average of recent requests; None: none yet

    def observe(self, seconds: float) -> None:
        previous = self.scoring_seconds
        self.scoring_seconds = seconds if previous is None else 0.8 * previous + 0.2 * seconds

    def model(self) -> LoadedModel | ServedFeatures | None:
        """The loaded model; only called once the deployment has succeeded."""
        return self.loading.result() if self.loading is not None else None


class ServedConfig:
    """The data plane of one config revision: served entities, their models, the routing table."""

    def __init__(self, entities: list[ServedEntity], routing: RoutingTable, external: bool):
        self.entities = {entity.name: entity for entity in entities}
        self.routing = routing
        self.external = external

    def outcome(self) -> dict[str, str] | None:
        loads = [e for e in self.entities.values() if e.loading is not None]
        if not all(entity.loading.done() for entity in loads):
            return None
        failures = {}
        for entity in loads:
            error = entity.loading.exception()
            if error is not None:
                failures[entity.name] = _failure(entity, error)
        return failures

    def choose(self, rng: random.Random) -> ServedEntity:
        return self.entities[self.routing.choose(rng)]


def _failure(entity: ServedEntity, error: BaseException) -> str:
    shown = error if isinstance(error, ModelLoadError) else repr(error)
    if not entity.entity_version:
        return SPEC_FAILED.format(name=entity.name, entity=entity.entity_name, error=shown)
    return LOAD_FAILED.format(name=entity.name, entity=entity.entity_name,
                              version=entity.entity_version, error=shown)


class Deployer:
    def __init__(self, models: ModelStore, workers: int = 4,
                 feature_plans: FeaturePlans | None = None):
        self.models = models
        self._feature_plans = feature_plans
        self._pool = ThreadPoolExecutor(max_workers=workers,
                                        thread_name_prefix="lakeserve-model-load")

    def deploy(self, config: NormalizedConfig) -> ServedConfig:
        """Start loading the config's models (returns at once)."""
        entities = [self._entity(entity, config.external) for entity in config.entities]
        return ServedConfig(entities, RoutingTable.from_routes(config.routes), config.external)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _entity(self, entity: ServedEntityInput, external: bool) -> ServedEntity:
        name = entity.name or ""
        loading = None
        if not external and not entity.entity_version:
            loading = self._pool.submit(self._features, entity.entity_name or "")
        elif not external:
            loading = self._pool.submit(self.models.get, entity.entity_name or "",
                                        entity.entity_version or "")
        return ServedEntity(name=name, entity_name=entity.entity_name or "",
                            entity_version=entity.entity_version or "",
                            id=str(uuid.uuid4()),
                            loading=loading)

    def _features(self, name: str) -> ServedFeatures:
        if self._feature_plans is None:
            raise ModelLoadError("this workspace serves no feature specs")
        try:
            return ServedFeatures(name, self._feature_plans(name))
        except ApiError as error:
            raise ModelLoadError(error.message) from None
