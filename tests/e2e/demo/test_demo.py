"""`lakeserve demo` end to end: the notebook's scenario on this machine, checked."""

from __future__ import annotations

import io
import math
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow.models import infer_signature

from lakeserve.demo.main import Printer, run
from lakeserve.demo.scenario import FEATURES, MODEL, ONLINE_ENDPOINT
from lakeserve.emulator import featurespec

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600),
              pytest.mark.emulator_only("runs the demo on a local workspace; reads its call log")]

PROBE_ENDPOINT = "feature-probe"


class FeatureProbe(mlflow.pyfunc.PythonModel):
    """Answers with the features it was given, so a test can see what serving computed."""

    def predict(self, context, model_input, params=None):
        return model_input[["TotalCharges", "tenure", "m_charges_avrg"]].to_dict("records")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """Run the demo, then look around before it cleans up."""
    checks = {}
    output = io.StringIO()

    def inspect(env, scenario):
        checks["registration"] = _registration_calls(env)
        checks["split"] = _single_requests(env, scenario)
        checks["table"] = scenario.inference_table()
        checks["probe"] = _probe(env, scenario)
        checks["unknown"] = scenario.query_online(["0000-NOPE"])

    result = run(Path(tmp_path_factory.mktemp("demo")), Printer(output), inspect=inspect)
    return result, checks, output.getvalue()


def _registration_calls(env):
    """How the demo's models got into the registry, from the workspace's call log."""
    calls = env.emulator.control("GET", "/_emulator/calls")["counts"]
    return {key: count for key, count in calls.items()
            if "/registry" in key or "/unity-catalog/model-versions" in key
            or "/mlflow/runs/create" in key}


def _single_requests(env, scenario, count=200):
    """200 one-record requests: which served model answered each."""
    models = []
    for row in scenario.ab_rows(count):
        response = env.workspace.serving_endpoints.query(name="churn-ab", dataframe_records=[row])
        models.append(response.served_model_name)
    return models


def _probe(env, scenario):
    """Serve a model that echoes its features, logged with the demo's own feature spec."""
    trainer = scenario.trainer()
    spec = featurespec.OnDemand("m_charges_avrg", scenario.function_name(),
                                {"TotalCharges": "TotalCharges", "tenure": "tenure"})
    lookups = [featurespec.Lookup(c, FEATURES, ("customerID",), c)
               for c in ("TotalCharges", "tenure")]
    sample = pd.DataFrame({"TotalCharges": [100.0], "tenure": [2.0], "m_charges_avrg": [50.0]})
    signature = infer_signature(sample, FeatureProbe().predict(None, sample))
    version = trainer.log_with_feature_spec(FeatureProbe(), MODEL, "probe", lookups, [spec],
                                            signature)
    env.apply({"apiVersion": "lakeserve.dev/v1alpha1", "kind": "ServingEndpoint",
               "metadata": {"name": PROBE_ENDPOINT},
               "spec": {"config": {"servedEntities": [
                   {"entityName": MODEL, "entityVersion": str(version.version)}]}}})
    env.wait_ready([("ServingEndpoint", PROBE_ENDPOINT)])
    ids = scenario.customer_ids(50)
    answer = env.workspace.serving_endpoints.query(
        name=PROBE_ENDPOINT, dataframe_records=[{"customerID": i} for i in ids + ["0000-NOPE"]])
    env.delete("servingendpoint", PROBE_ENDPOINT)
    features = scenario.data.features.set_index("customerID")
    *known, unknown = answer.predictions
    return [(features.loc[i, "TotalCharges"], features.loc[i, "tenure"], p)
            for i, p in zip(ids, known)], unknown


def test_models_are_trained_and_registered_through_databricks_mlflow_clients(demo):
    result, checks, _ = demo
    calls = checks["registration"]
    assert calls["POST /api/2.0/mlflow/unity-catalog/model-versions/create"] == 3
    assert calls["POST /api/2.0/mlflow/unity-catalog/model-versions/finalize"] == 3
    assert calls["POST /api/2.0/mlflow/runs/create"] == 3
    assert [(m.alias, m.version) for m in result.models] == \
        [("champion", 1), ("challenger", 2), ("online", 3)]


def test_both_models_get_a_fair_share_of_requests(demo):
    _, checks, _ = demo
    models = checks["split"]
    assert len(models) == 200 and set(models) == {"champion", "challenger"}
    share = models.count("champion")
    # 50/50 over 200 requests: mean 100, sd ~7.1; 4 sd either way
    assert abs(share - 100) <= 4 * math.sqrt(200 * 0.25)


def test_notebook_batches_are_counted_per_served_model(demo):
    result, _, output = demo
    assert len(result.ab.predictions) == 1000 and len(result.ab.requests) == 10
    assert set(result.ab.table()["model_served"]) <= {"champion", "challenger"}
    assert "model_served" in output and "prediction" in output


def test_inference_table_has_one_row_per_request(demo):
    result, checks, _ = demo
    name, rows, path = checks["table"]
    assert name == "main.churn.churn_ab_payload"
    assert rows == len(result.ab.requests) + len(checks["split"])
    assert Path(path).is_dir()


def test_online_endpoint_answers_from_ids_alone(demo):
    result, _, output = demo
    assert len(result.online_predictions) == 1000
    assert set(result.online_predictions) <= {"Yes", "No"}
    assert ONLINE_ENDPOINT in output


def test_feature_function_output_is_total_charges_over_tenure(demo):
    _, checks, _ = demo
    known, _ = checks["probe"]
    assert len(known) == 50
    for total, tenure, features in known:
        assert features["TotalCharges"] == pytest.approx(total)
        assert features["m_charges_avrg"] == pytest.approx(total / tenure)


def test_unknown_id_gives_nan_features_not_an_error(demo):
    _, checks, _ = demo
    (prediction,) = checks["unknown"]
    assert prediction in ("Yes", "No"), "the online model still answers"
    _, unknown = checks["probe"]
    assert all(value is None or math.isnan(value) for value in unknown.values()), unknown


def test_feature_serving_answers_features_by_customer_id(demo):
    result, _, output = demo
    served = result.features
    *known, unknown = served.index
    expected = demo_features(demo)
    for customer in known:
        row = served.loc[customer]
        assert row["tenure"] == pytest.approx(expected.loc[customer, "tenure"])
        assert row["m_charges_avrg"] == pytest.approx(
            expected.loc[customer, "TotalCharges"] / expected.loc[customer, "tenure"])
    assert "customerID" not in served.columns, "excludeColumns leaves the key out"
    assert served.loc[unknown].isna().all(), "an unknown customer gets nulls"
    assert "Feature Serving" in output


def demo_features(demo):
    from lakeserve.demo.data import generate

    return generate().features.set_index("customerID")


def test_output_reads_at_a_glance(demo):
    _, _, output = demo
    for step in ("[1/7]", "[4/7]", "[5/7]", "[6/7]", "[7/7]"):
        assert step in output
    assert "Ready" in output and "main.churn.churn_ab_payload" in output
