"""Deploying a submitted serving config: its models load in the background while the endpoint is
IN_PROGRESS; the state machine asks :meth:`ServedConfig.outcome` once the deployment delay has
passed, so an unloadable model ends the update ``UPDATE_FAILED`` / ``DEPLOYMENT_FAILED`` instead of
an endpoint that is READY but cannot answer.

A version registered without artifacts (empty ``source``, as the operator's tests register them)
deploys fine and answers queries with a 400 saying it has no model to run.
"""

from __future__ import annotations

import random
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from databricks.sdk.service.serving import ServedEntityInput

from lakeserve.emulator.invocations.models import LoadedModel, ModelLoadError, ModelStore
from lakeserve.emulator.invocations.routing import RoutingTable
from lakeserve.emulator.serving.validation import NormalizedConfig

LOAD_FAILED = "Model server failed to load the model of served entity '{name}' " \
              "({entity} version {version}): {error}"


@dataclass
class ServedEntity:
    name: str
    entity_name: str
    entity_version: str
    id: str  # served_entity_id in inference tables (one per entity per config revision)
    loading: Future[LoadedModel] | None  # None: an external model (nothing loads here)
    scoring_seconds: float | None = None  # moving average of recent requests; None: none yet

    def observe(self, seconds: float) -> None:
        previous = self.scoring_seconds
        self.scoring_seconds = seconds if previous is None else 0.8 * previous + 0.2 * seconds

    def model(self) -> LoadedModel | None:
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
                failures[entity.name] = LOAD_FAILED.format(
                    name=entity.name, entity=entity.entity_name, version=entity.entity_version,
                    error=error if isinstance(error, ModelLoadError) else repr(error))
        return failures

    def choose(self, rng: random.Random) -> ServedEntity:
        return self.entities[self.routing.choose(rng)]


class Deployer:
    def __init__(self, models: ModelStore, workers: int = 4):
        self.models = models
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
        if not external:
            loading = self._pool.submit(self.models.get, entity.entity_name or "",
                                        entity.entity_version or "")
        return ServedEntity(name=name, entity_name=entity.entity_name or "",
                            entity_version=entity.entity_version or "",
                            id=str(uuid.uuid4()),
                            loading=loading)
