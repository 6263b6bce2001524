"""One scoring request against a loaded model, from raw body to JSON answer. Input parsing and
schema enforcement are MLflow's own, as in the scoring server that Databricks runs for custom
models, so errors carry MLflow's messages. Never raises: every failure (a model calling
``sys.exit`` included) is an error answer."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mlflow.exceptions import MlflowException
from mlflow.pyfunc.scoring_server import infer_and_parse_data

from lakeserve.emulator.errors import INTERNAL_ERROR, ApiError, error_body
from lakeserve.emulator.invocations.features import FeatureServing
from lakeserve.emulator.invocations.jsonable import jsonable
from lakeserve.emulator.invocations.models import LoadedModel
from lakeserve.emulator.invocations.payload import (
    BAD_REQUEST,
    InvocationRequest,
    bad_request,
    parse_request,
)

PREDICT_FAILED = ("Encountered an unexpected error while evaluating the model. Verify that the "
                  "serialized input Dataframe is compatible with the model for inference.")


@dataclass(frozen=True)
class Answer:
    status: int
    content: bytes
    request: InvocationRequest | None  # None when the body could not be parsed
    seconds: float = 0.0  # parsing, the model and encoding its answer

    @property
    def execution_ms(self) -> int:
        return int(self.seconds * 1000)


def answer(model: LoadedModel, served_entity: str, body: bytes,
           features: FeatureServing | None = None) -> Answer:
    def predictions(request: InvocationRequest) -> dict[str, Any]:
        if not model.has_artifacts:
            raise no_artifacts(model, served_entity)
        return {"predictions": jsonable(_predict(model, request, features))}
    return respond(body, predictions)


def respond(body: bytes, compute: Callable[[InvocationRequest], dict[str, Any]]) -> Answer:
    """Parse the body, compute the answer's JSON object, and turn every failure into an error
    answer."""
    started = time.perf_counter()
    request = None
    try:
        request = parse_request(body)
        content = json.dumps(compute(request), separators=(",", ":"), allow_nan=False).encode()
        status = 200
    except ApiError as error:
        status, content = error.status, error.body()
    except MlflowException as error:  # input parsing and schema enforcement
        status, content = 400, error_body(BAD_REQUEST, error.message)
    except Exception as error:  # noqa: BLE001 - e.g. output that is not JSON: still an answer
        status, content = 500, error_body(INTERNAL_ERROR, "Internal error while scoring: "
                                                          f"{type(error).__name__}: {error}")
    return Answer(status, content, request, time.perf_counter() - started)


def no_artifacts(model: LoadedModel, served_entity: str) -> ApiError:
    return bad_request(f"Served entity '{served_entity}' cannot be queried: model version "
                       f"{model.entity_version} of '{model.entity_name}' was registered without "
                       "model artifacts (its source is empty), so there is no model to run. "
                       "Register a version whose source is a logged MLflow model.")


def _predict(model: LoadedModel, request: InvocationRequest,
             features: FeatureServing | None) -> Any:
    data = _model_input(model, request)
    if model.feature_spec is not None and features is not None:
        data = features.model_input(model.feature_spec, data)
    try:
        if request.params:
            return model.pyfunc.predict(data, params=request.params)
        return model.pyfunc.predict(data)
    except MlflowException:
        raise
    except (Exception, SystemExit) as error:  # noqa: BLE001 - the model's own failure
        raise bad_request(f"{PREDICT_FAILED} Error: {type(error).__name__}: {error}") from None


def _model_input(model: LoadedModel, request: InvocationRequest) -> Any:
    metadata = model.pyfunc.metadata
    from_type_hint = getattr(metadata, "_is_signature_from_type_hint", None)
    if from_type_hint is not None and from_type_hint():  # such models take `inputs` as sent
        if request.input_field != "inputs":
            raise bad_request("Request payload must be a dictionary with 'inputs' key when the "
                              "model contains a valid type hint. Found keys in payload: "
                              f"['{request.input_field}'].")
        return request.data["inputs"]
    # A model served with feature lookups gets only the keys: its signature describes the
    # looked-up columns, which are checked once they are assembled.
    schema = None if model.feature_spec is not None else model.input_schema
    return infer_and_parse_data(request.data, schema)
