"""A serving endpoint serving a feature spec (no model): lookups from the online store the
synced table fills, on-demand functions, defaults for keys that are not there."""

from __future__ import annotations

import json

import pytest
import requests
from databricks.sdk.errors import NotFound
from databricks.sdk.service.database import (
    DatabaseInstance,
    NewPipelineSpec,
    SyncedDatabaseTable,
    SyncedTableSchedulingPolicy,
    SyncedTableSpec,
)
from databricks.sdk.service.ml import DefaultValue
from databricks.sdk.service.serving import EndpointCoreConfigInput, ServedEntityInput

from ..conftest import wait_for
from .test_feature_specs import ROWS, SPEC, TABLE, feature_table, notebook_spec  # noqa: F401

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

ENDPOINT = "churn-features"


@pytest.fixture
def online_features(workspace, feature_table):  # noqa: F811
    workspace.database.create_database_instance(DatabaseInstance(name="fs", capacity="CU_1"))
    workspace.database.create_synced_database_table(SyncedDatabaseTable(
        name=f"{TABLE}_online", database_instance_name="fs",
        logical_database_name="databricks_postgres",
        spec=SyncedTableSpec(source_table_full_name=TABLE, primary_key_columns=["customerID"],
                             scheduling_policy=SyncedTableSchedulingPolicy.TRIGGERED,
                             new_pipeline_spec=NewPipelineSpec())))
    wait_for(lambda: workspace.database.get_synced_database_table(f"{TABLE}_online")
             .data_synchronization_status.last_sync)
    defaults = [DefaultValue(feature="tenure", default_value="1")]
    workspace.feature_engineering.create_feature_spec(notebook_spec(default_values=defaults))
    return SPEC


def serve(workspace, entity_name: str) -> None:
    workspace.serving_endpoints.create(name=ENDPOINT, config=EndpointCoreConfigInput(
        name=ENDPOINT, served_entities=[ServedEntityInput(
            entity_name=entity_name, workload_size="Small", scale_to_zero_enabled=True)]))
    wait_for(lambda: workspace.serving_endpoints.get(ENDPOINT).state.ready.value == "READY")


def test_lookup_keys_in_features_out_and_a_missing_key_gets_the_default(workspace,
                                                                         online_features):
    serve(workspace, online_features)
    entity = workspace.serving_endpoints.get(ENDPOINT).config.served_entities[0]
    assert (entity.name, entity.entity_name, entity.entity_version) == \
        ("churn_features", SPEC, None)
    answer = workspace.serving_endpoints.query(name=ENDPOINT, dataframe_records=[
        {"customerID": "5575-GNVDE"}, {"customerID": "0000-NOONE"}])
    assert answer.served_model_name == "churn_features"
    assert answer.predictions is None
    assert answer.outputs == [
        {"TotalCharges": 1889.5, "tenure": 34.0, "m_charges_avrg": 1889.5 / 34.0},
        {"TotalCharges": None, "tenure": 1.0, "m_charges_avrg": None}]


def test_requests_without_keys_or_records_are_refused(workspace, emulator, online_features):
    serve(workspace, online_features)
    url = f"{emulator.host}/serving-endpoints/{ENDPOINT}/invocations"
    headers = {"Authorization": f"Bearer {emulator.token}"}
    for body, message in (({"dataframe_records": [{"id": 1}]}, "Missing lookup key columns"),
                          ({"inputs": [[1]]}, "send the lookup keys as dataframe_records")):
        answer = requests.post(url, data=json.dumps(body), headers=headers, timeout=10)
        assert answer.status_code == 400 and message in answer.json()["message"]


def test_an_entity_without_a_version_must_name_a_feature_spec(workspace, feature_table):  # noqa: F811
    with pytest.raises(NotFound, match="no feature spec .* of that name exists"):
        serve(workspace, "main.default.not_a_spec")
