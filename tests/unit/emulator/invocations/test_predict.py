"""Scoring one request against a real MLflow pyfunc model with a signature: every input shape,
MLflow's schema enforcement errors, a model that raises, a version without artifacts."""

from __future__ import annotations

import json
import math
from pathlib import Path

import mlflow.pyfunc
import pytest
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, Schema

from lakeserve.emulator.invocations.models import LoadedModel
from lakeserve.emulator.invocations.predict import PREDICT_FAILED, answer


class ChurnRule(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        if (model_input["tenure"] == -99).any():
            raise SystemExit(3)
        if (model_input["tenure"] < 0).any():
            raise ValueError("tenure cannot be negative")
        scores = model_input["monthly"] / (model_input["tenure"] + 1)
        return [("Yes" if score > 5 else "No") if not math.isnan(score) else None
                for score in scores]


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> LoadedModel:
    path = Path(tmp_path_factory.mktemp("model")) / "churn"
    signature = ModelSignature(inputs=Schema([ColSpec("long", "tenure"),
                                              ColSpec("double", "monthly")]))
    mlflow.pyfunc.save_model(str(path), python_model=ChurnRule(), signature=signature)
    pyfunc = mlflow.pyfunc.load_model(str(path))
    return LoadedModel("main.default.churn", "1", path.as_uri(), pyfunc,
                       pyfunc.metadata.get_input_schema())


def score(model: LoadedModel, body) -> tuple[int, dict]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    result = answer(model, "churn-1", raw)
    assert result.seconds >= 0
    return result.status, json.loads(result.content)


@pytest.mark.parametrize("body", [
    {"dataframe_records": [{"tenure": 1, "monthly": 20.0}, {"tenure": 10, "monthly": 20.0}]},
    {"dataframe_split": {"columns": ["tenure", "monthly"], "data": [[1, 20.0], [10, 20.0]]}},
    {"dataframe_split": {"columns": ["monthly", "tenure"], "data": [[20.0, 1], [20.0, 10]],
                         "index": [5, 6]}},
    {"instances": [{"tenure": 1, "monthly": 20.0}, {"tenure": 10, "monthly": 20.0}]},
    {"inputs": {"tenure": [1, 10], "monthly": [20.0, 20.0]}},
])
def test_every_input_shape_scores_the_same(model, body):
    assert score(model, body) == (200, {"predictions": ["Yes", "No"]})


def test_the_parsed_request_comes_back_for_the_inference_table(model):
    result = answer(model, "churn-1", json.dumps(
        {"dataframe_records": [{"tenure": 1, "monthly": 1.0}],
         "client_request_id": "abc"}).encode())
    assert result.status == 200 and result.request.client_request_id == "abc"


def test_integers_for_a_double_column_are_accepted(model):
    assert score(model, {"dataframe_records": [{"tenure": 1, "monthly": 20}]}) == \
        (200, {"predictions": ["Yes"]})


def test_a_missing_column_is_named_with_mlflows_message(model):
    status, error = score(model, {"dataframe_records": [{"tenure": 1}]})
    assert (status, error["error_code"]) == (400, "BAD_REQUEST")
    assert "Failed to enforce schema" in error["message"]
    assert "Model is missing inputs ['monthly']" in error["message"]


def test_a_value_of_the_wrong_type_is_refused(model):
    status, error = score(model, {"dataframe_records": [{"tenure": "long ago", "monthly": 1.0}]})
    assert (status, error["error_code"]) == (400, "BAD_REQUEST")
    assert "tenure" in error["message"]


def test_a_model_that_raises_answers_400_with_its_message(model):
    status, error = score(model, {"dataframe_records": [{"tenure": -1, "monthly": 1.0}]})
    assert (status, error["error_code"]) == (400, "BAD_REQUEST")
    assert error["message"] == f"{PREDICT_FAILED} Error: ValueError: tenure cannot be negative"


def test_a_model_that_exits_is_answered_too(model):
    status, error = score(model, {"dataframe_records": [{"tenure": -99, "monthly": 1.0}]})
    assert (status, error["message"]) == (400, f"{PREDICT_FAILED} Error: SystemExit: 3")


def test_bad_bodies_are_answered_not_raised(model):
    assert score(model, b"{}")[0] == 400
    assert score(model, {"dataframe_records": []})[0] == 400
    assert score(model, b"\x00garbage")[0] == 400


def test_a_version_without_artifacts_cannot_be_queried():
    empty = LoadedModel("main.default.model", "3", "")
    status, error = score(empty, {"dataframe_records": [{"x": 1}]})
    assert (status, error["error_code"]) == (400, "BAD_REQUEST")
    assert error["message"].startswith("Served entity 'churn-1' cannot be queried: model "
                                       "version 3 of 'main.default.model' was registered "
                                       "without model artifacts")
