"""Real inference through the real SDK: a logged sklearn model served by the emulator, traffic
split per request, every input shape, Databricks-style refusals, inference tables in Delta."""

from __future__ import annotations

import json
import math
from collections import Counter

import pytest
from databricks.sdk.errors import BadRequest, DatabricksError, InvalidState, NotFound
from databricks.sdk.service.serving import (
    AiGatewayConfig,
    AiGatewayInferenceTableConfig,
    AutoCaptureConfigInput,
    DataframeSplitInput,
    EndpointCoreConfigInput,
    EndpointStateConfigUpdate,
    Route,
    ServedEntityInput,
    ServedModelStateDeployment,
    TrafficConfig,
)
from deltalake import DeltaTable

from lakeserve.emulator.process import EmulatorProcess

from ..churn_model import FEATURES, churn_features
from ..conftest import wait_for, workspace_client

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

MODEL = "main.default.churn_model"
QUERIES = 240


def entity(name: str, version: int) -> ServedEntityInput:
    return ServedEntityInput(name=name, entity_name=MODEL, entity_version=str(version),
                             workload_size="Small", scale_to_zero_enabled=True)


def create(workspace, name: str, shares: dict[str, tuple[int, int]], **extra) -> None:
    """``shares``: served entity name -> (version, traffic percentage)."""
    workspace.serving_endpoints.create(name=name, config=EndpointCoreConfigInput(
        name=name, served_entities=[entity(n, v) for n, (v, _) in shares.items()],
        traffic_config=TrafficConfig(routes=[Route(served_entity_name=n, traffic_percentage=p)
                                             for n, (_, p) in shares.items()]),
        auto_capture_config=extra.pop("auto_capture", None)), **extra)


def settled(workspace, name: str):
    def probe():
        endpoint = workspace.serving_endpoints.get(name)
        return endpoint if endpoint.state.config_update != EndpointStateConfigUpdate.IN_PROGRESS \
            else None
    return wait_for(probe, timeout=90, interval=0.1)


def ready(workspace, name: str):
    endpoint = settled(workspace, name)
    assert endpoint.state.ready.value == "READY", endpoint.state
    assert endpoint.state.config_update == EndpointStateConfigUpdate.NOT_UPDATING, \
        endpoint.pending_config
    return endpoint


def records(rows: int, seed: int = 5) -> list[dict]:
    return churn_features(rows, seed).to_dict(orient="records")


def payload_rows(emulator, table: str) -> list[dict]:
    listing = emulator.control("POST", "/_emulator/inference-tables/flush")["tables"]
    (entry,) = [t for t in listing if t["name"] == table]
    assert entry["pending"] == 0 and entry["dropped"] == 0
    rows = DeltaTable(entry["path"]).to_pyarrow_table().to_pylist()
    assert entry["rows"] == len(rows)
    return rows


def local_predictions(emulator, version: int, batch: list[dict]) -> list:
    """The registered version's model, loaded and run in this process."""
    import mlflow.pyfunc
    import pandas as pd

    client = mlflow.MlflowClient(emulator.registry_uri, emulator.registry_uri)
    location = client.get_model_version_download_uri(MODEL, str(version))
    return mlflow.pyfunc.load_model(location).predict(pd.DataFrame(batch)).tolist()


def test_a_50_50_endpoint_splits_traffic_and_logs_every_request(workspace, emulator,
                                                                 sklearn_version):
    champion, challenger = sklearn_version(), sklearn_version()
    create(workspace, "churn-ab", {"champion": (champion, 50), "challenger": (challenger, 50)},
           auto_capture=AutoCaptureConfigInput(catalog_name="main", schema_name="default",
                                               table_name_prefix="churn_ab"))
    ready(workspace, "churn-ab")
    data = records(1000)

    answered = Counter()
    for index in range(QUERIES):
        batch = data[(index % 10) * 100:(index % 10 + 1) * 100]
        response = workspace.serving_endpoints.query(
            name="churn-ab", dataframe_records=batch, client_request_id=f"req-{index}")
        assert len(response.predictions) == 100
        assert set(response.predictions) <= {0, 1}
        answered[response.served_model_name] += 1

    assert set(answered) == {"champion", "challenger"}
    tolerance = 4.5 * math.sqrt(QUERIES * 0.25)  # binomial(240, 0.5): 4.5 standard deviations
    assert abs(answered["champion"] - QUERIES / 2) <= tolerance, answered

    rows = payload_rows(emulator, "main.default.churn_ab_payload")
    assert len(rows) == QUERIES
    assert Counter(row["served_model_name"] for row in rows) == answered
    assert {row["client_request_id"] for row in rows} == {f"req-{i}" for i in range(QUERIES)}
    assert len({row["databricks_request_id"] for row in rows}) == QUERIES
    first = next(row for row in rows if row["client_request_id"] == "req-0")
    assert first["status_code"] == 200 and first["sampling_fraction"] == 1.0
    assert json.loads(first["request"])["dataframe_records"] == data[:100]
    assert len(json.loads(first["response"])["predictions"]) == 100
    version = {"champion": champion, "challenger": challenger}[first["served_model_name"]]
    assert dict(first["request_metadata"]) | {"served_entity_name": None} == {
        "endpoint_name": "churn-ab", "model_name": MODEL, "model_version": str(version),
        "served_entity_name": None}
    assert first["timestamp_ms"] > 1_600_000_000_000 and first["execution_time_ms"] >= 0


def test_every_input_shape_gets_the_models_own_predictions(workspace, emulator, sklearn_version):
    version = sklearn_version()
    create(workspace, "churn-shapes", {"only": (version, 100)})
    ready(workspace, "churn-shapes")
    batch = records(20, seed=9)
    expected = local_predictions(emulator, version, batch)
    assert set(expected) == {0, 1}  # the sample exercises both classes
    columns = {name: [row[name] for row in batch] for name in FEATURES}
    shapes = {
        "dataframe_records": {"dataframe_records": batch},
        "dataframe_split": {"dataframe_split": DataframeSplitInput(
            columns=FEATURES, data=[[row[name] for name in FEATURES] for row in batch])},
        "instances": {"instances": batch},
        "inputs": {"inputs": columns},
    }
    for shape, arguments in shapes.items():
        response = workspace.serving_endpoints.query(name="churn-shapes", **arguments)
        assert response.predictions == expected, shape
        assert response.served_model_name == "only"


def test_bad_requests_are_refused_like_databricks_and_the_emulator_stays_up(
        workspace, emulator, sklearn_version):
    create(workspace, "churn-errors", {"only": (sklearn_version(), 100)})
    ready(workspace, "churn-errors")
    query = workspace.serving_endpoints.query

    with pytest.raises(BadRequest, match=r"Model is missing inputs \['monthly_charges', "
                                         r"'contract_months', 'senior_citizen'\]"):
        query(name="churn-errors", dataframe_records=[{"tenure": 3}])
    with pytest.raises(BadRequest, match="tenure"):
        query(name="churn-errors", dataframe_records=[
            {"tenure": "three", "monthly_charges": 1.0, "contract_months": 1,
             "senior_citizen": 0}])
    with pytest.raises(BadRequest, match="exactly one of the input fields"):
        query(name="churn-errors")
    with pytest.raises(BadRequest, match="The input dataframe_records is empty"):
        query(name="churn-errors", dataframe_records=[])
    with pytest.raises(NotFound, match="Endpoint with name 'ghost' does not exist"):
        query(name="ghost", dataframe_records=records(1))
    with pytest.raises(DatabricksError, match="exceeds the limit of 16777216 bytes") as caught:
        query(name="churn-errors", inputs={"text": "x" * (17 * 1024 * 1024)})
    assert caught.value.error_code == "BAD_REQUEST"

    assert emulator.running
    assert emulator.control("GET", "/_emulator/health")["status"] == "ok"
    assert len(query(name="churn-errors", dataframe_records=records(5)).predictions) == 5


def test_an_endpoint_still_creating_is_refused(workspace, emulator, sklearn_version):
    emulator.control("PUT", "/_emulator/settings", {"serving_create_seconds": 120})
    create(workspace, "churn-slow", {"only": (sklearn_version(), 100)})
    with pytest.raises(InvalidState, match="Endpoint 'churn-slow' is not ready to serve "
                                           r"requests \(ready=NOT_READY, "
                                           "config_update=IN_PROGRESS\\)"):
        workspace.serving_endpoints.query(name="churn-slow", dataframe_records=records(1))

    emulator.control("PUT", "/_emulator/settings", {"serving_create_seconds": 0})
    ready(workspace, "churn-slow")
    assert len(workspace.serving_endpoints.query(name="churn-slow",
                                                 dataframe_records=records(3)).predictions) == 3


def test_a_model_that_cannot_load_fails_the_deployment(workspace, emulator, sklearn_version):
    good = sklearn_version()
    junk = emulator.data_dir / "not-a-model"
    junk.mkdir(exist_ok=True)
    (junk / "README").write_text("no MLmodel here")
    broken = sklearn_version(source=junk.as_uri())

    create(workspace, "churn-update", {"good": (good, 100)})
    ready(workspace, "churn-update")
    workspace.serving_endpoints.update_config(name="churn-update",
                                              served_entities=[entity("broken", broken)])
    failed = settled(workspace, "churn-update")
    assert failed.state.config_update == EndpointStateConfigUpdate.UPDATE_FAILED
    assert failed.state.ready.value == "READY"  # the old config keeps serving
    (state,) = [e.state for e in failed.pending_config.served_entities]
    assert state.deployment == ServedModelStateDeployment.DEPLOYMENT_FAILED
    assert "failed to load the model of served entity 'broken'" in \
        state.deployment_state_message
    answer = workspace.serving_endpoints.query(name="churn-update", dataframe_records=records(2))
    assert answer.served_model_name == "good"

    create(workspace, "churn-broken", {"broken": (broken, 100)})
    created = settled(workspace, "churn-broken")
    assert (created.state.ready.value, created.state.config_update) == \
        ("NOT_READY", EndpointStateConfigUpdate.UPDATE_FAILED)
    with pytest.raises(InvalidState, match="config_update=UPDATE_FAILED"):
        workspace.serving_endpoints.query(name="churn-broken", dataframe_records=records(1))


def test_a_version_without_artifacts_deploys_but_cannot_be_queried(workspace, model_version):
    version = model_version("main.default.empty")
    workspace.serving_endpoints.create(name="empty", config=EndpointCoreConfigInput(
        name="empty", served_entities=[ServedEntityInput(
            name="empty-1", entity_name="main.default.empty", entity_version=str(version))]))
    ready(workspace, "empty")
    with pytest.raises(BadRequest, match="Served entity 'empty-1' cannot be queried: model "
                                         "version 1 of 'main.default.empty' was registered "
                                         "without model artifacts"):
        workspace.serving_endpoints.query(name="empty", dataframe_records=[{"x": 1}])


def test_ai_gateway_inference_table_skips_payloads_over_1_mib(workspace, emulator,
                                                              sklearn_version):
    create(workspace, "churn-gw", {"only": (sklearn_version(), 100)},
           ai_gateway=AiGatewayConfig(inference_table_config=AiGatewayInferenceTableConfig(
               catalog_name="main", schema_name="default", table_name_prefix="gw",
               enabled=True)))
    ready(workspace, "churn-gw")
    for index in range(3):
        workspace.serving_endpoints.query(name="churn-gw", dataframe_records=records(10),
                                          client_request_id=f"small-{index}")
    large = records(15_000)
    assert len(json.dumps({"dataframe_records": large})) > 1024 * 1024
    answer = workspace.serving_endpoints.query(name="churn-gw", dataframe_records=large)
    assert len(answer.predictions) == 15_000

    rows = payload_rows(emulator, "main.default.gw_payload")
    assert sorted(row["client_request_id"] for row in rows) == ["small-0", "small-1", "small-2"]


def test_a_seeded_split_repeats(workspace, emulator, sklearn_version):
    create(workspace, "churn-seed", {"a": (sklearn_version(), 30), "b": (sklearn_version(), 70)})
    ready(workspace, "churn-seed")

    def sequence() -> list[str]:
        emulator.control("POST", "/_emulator/invocations/seed", {"seed": 11})
        return [workspace.serving_endpoints.query(name="churn-seed",
                                                  dataframe_records=records(1)).served_model_name
                for _ in range(40)]

    first = sequence()
    assert first == sequence()
    assert set(first) == {"a", "b"}


def test_buffered_rows_reach_the_table_when_the_emulator_stops(tmp_path):
    settings = {"serving_create_seconds": 0, "inference_table_flush_seconds": 3600}
    with EmulatorProcess(data_dir=tmp_path / "workspace", settings=settings) as emulator:
        version = emulator.control("POST", "/_emulator/registry/model-versions",
                                   {"name": "main.default.empty"})["version"]
        workspace = workspace_client(emulator.host, token=emulator.token, auth_type="pat")
        workspace.serving_endpoints.create(name="empty", config=EndpointCoreConfigInput(
            name="empty", served_entities=[ServedEntityInput(
                name="empty-1", entity_name="main.default.empty", entity_version=str(version))],
            auto_capture_config=AutoCaptureConfigInput(catalog_name="main",
                                                       schema_name="default")))
        ready(workspace, "empty")
        with pytest.raises(BadRequest):
            workspace.serving_endpoints.query(name="empty", dataframe_records=[{"x": 1}],
                                              client_request_id="before-stop")
        (table,) = emulator.control("GET", "/_emulator/inference-tables")["tables"]
        assert (table["name"], table["rows"], table["pending"]) == \
            ("main.default.empty_payload", 0, 1)
    rows = DeltaTable(table["path"]).to_pyarrow_table().to_pylist()
    assert [(row["client_request_id"], row["status_code"]) for row in rows] == \
        [("before-stop", 400)]


def test_a_route_optimized_endpoint_answers_at_its_endpoint_url(workspace, emulator,
                                                                 sklearn_version):
    create(workspace, "churn-fast", {"only": (sklearn_version(), 100)}, route_optimized=True)
    endpoint = ready(workspace, "churn-fast")
    assert endpoint.endpoint_url and "/serving-endpoints/" in endpoint.endpoint_url
    assert endpoint.endpoint_url != f"{emulator.host}/serving-endpoints/churn-fast/invocations"
    assert endpoint.data_plane_info.query_info.endpoint_url == endpoint.endpoint_url
    batch = records(3)
    path = endpoint.endpoint_url.removeprefix(emulator.host)
    answer = workspace.api_client.do("POST", path, body={"dataframe_records": batch})
    assert len(answer["predictions"]) == 3
    with pytest.raises(BadRequest, match="route optimized"):
        workspace.serving_endpoints.query(name="churn-fast", dataframe_records=batch)
