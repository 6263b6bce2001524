"""``POST /serving-endpoints/{name}/invocations``: size check, endpoint lookup, one served entity
per request by traffic split, the model run (in a worker thread unless it is quick), the
``served-model-name`` header, and the call appended to the endpoint's inference tables.

The hot path does no registry query and no model load: the served config's models were loaded
when it was deployed, and its routing table was built then (see ``deployment``).

Errors chosen where Databricks' exact answer is not known (documented guesses):
- endpoint without a serving config (creating, or its creation failed): 400 ``INVALID_STATE``;
- body over 16 MB: 413 ``BAD_REQUEST`` (checked from ``Content-Length``, before any parsing);
- endpoint serving external models: 400 ``BAD_REQUEST`` (the emulator runs MLflow models only);
- version registered without artifacts: 400 ``BAD_REQUEST`` naming the entity and version;
- a route-optimized endpoint queried at the workspace path: 400 ``BAD_REQUEST`` naming its
  ``endpoint_url`` (Databricks documents that such endpoints are queried there).
"""

from __future__ import annotations

import asyncio
import random
import uuid
from concurrent.futures import ThreadPoolExecutor

from starlette.requests import Request
from starlette.responses import Response

from lakeserve.emulator.context import EmulatorContext
from lakeserve.emulator.errors import ApiError, not_found
from lakeserve.emulator.inference_tables.rows import LoggedCall, build_row, payload_tables
from lakeserve.emulator.inference_tables.writer import InferenceTableWriter
from lakeserve.emulator.invocations.deployment import ServedConfig, ServedEntity, ServedFeatures
from lakeserve.emulator.invocations.features import FeatureServing
from lakeserve.emulator.invocations.featureserving import answer_features
from lakeserve.emulator.invocations.payload import bad_request, check_size
from lakeserve.emulator.invocations.predict import Answer, answer
from lakeserve.emulator.serving.model import Endpoint
from lakeserve.emulator.serving.service import ServingService

INVALID_STATE = "INVALID_STATE"
# A request is scored on the event loop when that is cheaper than a thread hop (0.15-1 ms measured,
# see BENCHMARKS.md): a small body and a served entity whose recent requests took under
# INLINE_MAX_SECONDS. Everything else (and every entity until it has answered once) goes to a
# worker thread, so a slow model or a large payload cannot stall the emulator for long.
INLINE_MAX_BYTES = 64 * 1024
INLINE_MAX_SECONDS = 0.010
SERVED_MODEL_HEADER = "served-model-name"
REQUEST_ID_HEADER = "x-request-id"


class InvocationService:
    def __init__(self, ctx: EmulatorContext, serving: ServingService,
                 tables: InferenceTableWriter, workers: int = 4,
                 features: FeatureServing | None = None):
        self._ctx = ctx
        self._features = features
        self._serving = serving
        self._tables = tables
        self._pool = ThreadPoolExecutor(max_workers=workers,
                                        thread_name_prefix="lakeserve-predict")
        self._rng = random.Random()

    def seed(self, seed: int | None) -> None:
        """Make the traffic split repeatable (tests); None draws a fresh seed."""
        self._rng = random.Random(seed)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def invoke(self, name: str, request: Request,
                     endpoint_id: str | None = None) -> Response:
        """``endpoint_id`` is set when the request came to a route-optimized endpoint's URL."""
        arrived = self._ctx.clock.now()
        check_size(request.headers.get("content-length"))
        body = await request.body()
        check_size(len(body))
        endpoint = self._serving.endpoint(name)
        _check_address(endpoint, endpoint_id)
        served = _served_config(endpoint)
        entity = served.choose(self._rng)
        model = entity.model()
        if model is None:
            raise bad_request(f"Endpoint '{name}' serves external models, which the emulator "
                              "does not call; it runs MLflow models from its registry only.")
        respond = answer_features if isinstance(model, ServedFeatures) else answer
        if len(body) <= INLINE_MAX_BYTES and entity.scoring_seconds is not None \
                and entity.scoring_seconds < INLINE_MAX_SECONDS:
            result = respond(model, entity.name, body, self._features)
        else:
            result = await asyncio.get_running_loop().run_in_executor(
                self._pool, respond, model, entity.name, body, self._features)
        entity.observe(result.seconds)
        request_id = str(uuid.uuid4())
        self._log(endpoint, entity, request, body, result, arrived, request_id)
        return Response(result.content, status_code=result.status,
                        media_type="application/json",
                        headers={SERVED_MODEL_HEADER: entity.name,
                                 REQUEST_ID_HEADER: request_id})

    def _log(self, endpoint: Endpoint, entity: ServedEntity, request: Request, body: bytes,
             result: Answer, arrived: float, request_id: str) -> None:
        revision = endpoint.active
        tables = payload_tables(revision.auto_capture if revision else None,
                                endpoint.ai_gateway, endpoint.name)
        if not tables:
            return
        parsed = result.request
        row = build_row(LoggedCall(
            request_id=request_id,
            client_request_id=parsed.client_request_id if parsed else None,
            arrived_at=arrived, status_code=result.status, execution_ms=result.execution_ms,
            request=body, response=result.content, endpoint_name=endpoint.name,
            served_entity_name=entity.name, served_entity_id=entity.id,
            entity_name=entity.entity_name, entity_version=entity.entity_version,
            requester=getattr(request.state, "principal", None)))
        if row is None:  # over 1 MiB: not logged
            return
        for table in tables:
            self._tables.append(table, row)


def _check_address(endpoint: Endpoint, endpoint_id: str | None) -> None:
    if endpoint_id is None and endpoint.route_optimized:
        raise bad_request(f"Endpoint '{endpoint.name}' is route optimized: query it at its "
                          f"endpoint_url {endpoint.endpoint_url}")
    if endpoint_id is not None and (endpoint_id != endpoint.id or not endpoint.route_optimized):
        raise not_found(f"No route-optimized endpoint '{endpoint.name}' with id "
                        f"'{endpoint_id}'.")


def _served_config(endpoint: Endpoint) -> ServedConfig:
    revision = endpoint.active
    served = revision.deployment if revision is not None else None
    if not isinstance(served, ServedConfig):
        raise ApiError(400, INVALID_STATE, _not_ready_message(endpoint))
    return served


def _not_ready_message(endpoint: Endpoint) -> str:
    state = f"ready={endpoint.ready.value}, config_update={endpoint.config_update.value}"
    return (f"Endpoint '{endpoint.name}' is not ready to serve requests ({state}): it has no "
            "served config yet. Wait until the endpoint's state is READY before querying it.")
