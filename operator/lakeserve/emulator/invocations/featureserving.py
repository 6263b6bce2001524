"""One request to a feature serving endpoint: a feature spec served on its own, no model.

Records carry the lookup keys (and any request column a function takes); the answer is
``{"outputs": [...]}``, one object per record in request order, holding the spec's columns
(request columns, looked-up features, function outputs) minus ``exclude_columns`` -- the SDK's
``QueryEndpointResponse.outputs`` ("the outputs of the feature serving endpoint"). A key with no
online row gets the lookup's default value, or null; it never fails the batch.
"""

from __future__ import annotations

from typing import Any

from mlflow.pyfunc.scoring_server import infer_and_parse_data

from lakeserve.emulator.invocations.deployment import ServedFeatures
from lakeserve.emulator.invocations.features import FeatureServing
from lakeserve.emulator.invocations.jsonable import jsonable
from lakeserve.emulator.invocations.payload import InvocationRequest, bad_request
from lakeserve.emulator.invocations.predict import Answer, respond

RECORD_FIELDS = ("dataframe_records", "dataframe_split")


def answer_features(served: ServedFeatures, served_entity: str, body: bytes,
                    features: FeatureServing) -> Answer:
    def outputs(request: InvocationRequest) -> dict[str, Any]:
        if request.input_field not in RECORD_FIELDS:
            raise bad_request(f"Served entity '{served_entity}' serves the feature spec "
                              f"'{served.entity_name}': send the lookup keys as "
                              f"{' or '.join(RECORD_FIELDS)}, not {request.input_field}")
        frame = infer_and_parse_data(request.data, None)
        return {"outputs": jsonable(features.model_input(served.spec, frame))}
    return respond(body, outputs)
