"""With a data dir the whole workspace survives a restart of the emulator process: endpoints
(serving, and one mid-update), Lakebase instances, synced tables with their online rows and
pipelines, functions, statements, primary keys, feature specs and the endpoint serving one,
settings and test knobs, OAuth tokens; a reset clears it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.service.catalog import PrimaryKeyConstraint, TableConstraint
from databricks.sdk.service.database import (
    DatabaseInstance,
    DatabaseInstanceState,
    NewPipelineSpec,
    SyncedDatabaseTable,
    SyncedTableSchedulingPolicy,
    SyncedTableSpec,
    SyncedTableState,
)
from databricks.sdk.service.serving import (
    AiGatewayConfig,
    AiGatewayUsageTrackingConfig,
    EmailNotifications,
    EndpointCoreConfigInput,
    EndpointStateConfigUpdate,
    EndpointStateReady,
    EndpointTag,
    ServedEntityInput,
)
from databricks.sdk.service.ml import (
    FeatureFunction,
    FeatureFunctionInputBinding,
    FeatureLookup,
    Features,
    FeatureSpec,
)
from databricks.sdk.service.sql import ExecuteStatementRequestOnWaitTimeout, StatementState

from lakeserve.emulator.persistence import STATE_FILE
from lakeserve.emulator.process import EmulatorProcess
from lakeserve.emulator.sql.warehouses import WAREHOUSE_ID

from ..churn_model import churn_features, log_churn_model
from ..conftest import FAST_SETTINGS, OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, wait_for, \
    workspace_client

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

MODEL = "main.default.churn_model"
SOURCE = "main.default.features"
ONLINE = "main.default.features_online"
INSTANCE = "feature-store"
FUNCTION = "main.default.monthly_charges_avrg"
SERVING, UPDATING, FEATURES = "churn", "churn-updating", "churn-features"
SPEC = "main.default.churn_features"
ROWS = [{"customerID": "7590-VHVEG", "TotalCharges": 29.85, "tenure": 1.0},
        {"customerID": "5575-GNVDE", "TotalCharges": 1889.5, "tenure": 34.0}]
CREATE_FUNCTION = f"""CREATE FUNCTION {FUNCTION} (TotalCharges DOUBLE, tenure DOUBLE)
RETURNS DOUBLE LANGUAGE PYTHON AS $$
return TotalCharges / tenure
$$"""
BATCH = churn_features(5, seed=3).to_dict(orient="records")


@pytest.fixture
def restartable(tmp_path: Path) -> Iterator[EmulatorProcess]:
    with EmulatorProcess(data_dir=tmp_path / "workspace", settings=FAST_SETTINGS,
                         client_id=OAUTH_CLIENT_ID, client_secret=OAUTH_CLIENT_SECRET) as process:
        yield process


def pat_client(emulator: EmulatorProcess) -> WorkspaceClient:
    return workspace_client(emulator.host, token=emulator.token, auth_type="pat")


def register_versions(emulator: EmulatorProcess, count: int) -> list[str]:
    """Log the churn model once and register it ``count`` times; returns the version numbers."""
    import mlflow

    uri = log_churn_model(emulator.registry_uri, emulator.data_dir / "mlflow-artifacts")
    client = mlflow.MlflowClient(emulator.registry_uri, emulator.registry_uri)
    client.create_registered_model(MODEL)
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(emulator.registry_uri)  # models:/m-... resolves on the global URI
    try:
        return [str(client.create_model_version(MODEL, source=uri).version)
                for _ in range(count)]
    finally:
        mlflow.set_tracking_uri(previous)


def config(name: str, version: str) -> EndpointCoreConfigInput:
    return EndpointCoreConfigInput(name=name, served_entities=[ServedEntityInput(
        name="main", entity_name=MODEL, entity_version=version, workload_size="Small",
        scale_to_zero_enabled=True)])


def ready(w: WorkspaceClient, name: str):
    def probe():
        endpoint = w.serving_endpoints.get(name)
        return endpoint if endpoint.state.ready == EndpointStateReady.READY and \
            endpoint.state.config_update == EndpointStateConfigUpdate.NOT_UPDATING else None
    return wait_for(probe, timeout=90, interval=0.1)


def populate(emulator: EmulatorProcess, w: WorkspaceClient) -> dict[str, str]:
    """One of everything; returns the ids the workspace chose."""
    first, second = register_versions(emulator, 2)
    w.serving_endpoints.create(name=SERVING, config=config(SERVING, first), tags=[
        EndpointTag(key="team", value="churn")], ai_gateway=AiGatewayConfig(
        usage_tracking_config=AiGatewayUsageTrackingConfig(enabled=True)))
    w.serving_endpoints.create(name=UPDATING, config=config(UPDATING, first))
    ready(w, SERVING)
    ready(w, UPDATING)
    w.serving_endpoints.update_notifications(SERVING, email_notifications=EmailNotifications(
        on_update_failure=["ml-team@example.com"]))
    emulator.control("PUT", "/_emulator/settings", {"serving_update_seconds": 600})
    w.serving_endpoints.update_config(UPDATING, served_entities=config(UPDATING, second)
                                      .served_entities)
    emulator.control("POST", "/_emulator/serving/deployment-failures",
                     {"entity_name": MODEL, "entity_version": "99"})
    emulator.control("POST", "/_emulator/catalog/tables", {"name": SOURCE, "rows": ROWS})
    w.database.create_database_instance(DatabaseInstance(name=INSTANCE, capacity="CU_1"))
    w.database.wait_get_database_instance_database_available(INSTANCE)
    table = w.database.create_synced_database_table(SyncedDatabaseTable(
        name=ONLINE, database_instance_name=INSTANCE, logical_database_name="databricks_postgres",
        spec=SyncedTableSpec(source_table_full_name=SOURCE, primary_key_columns=["customerID"],
                             scheduling_policy=SyncedTableSchedulingPolicy.TRIGGERED,
                             new_pipeline_spec=NewPipelineSpec())))
    wait_for(lambda: w.database.get_synced_database_table(ONLINE).data_synchronization_status
             .detailed_state == SyncedTableState.SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE)
    emulator.control("POST", "/_emulator/lakebase/pipeline-failures", {"table": ONLINE})
    statement = w.statement_execution.execute_statement(
        statement=CREATE_FUNCTION, warehouse_id=WAREHOUSE_ID, wait_timeout="5s",
        on_wait_timeout=ExecuteStatementRequestOnWaitTimeout.CONTINUE)
    assert statement.status.state == StatementState.SUCCEEDED
    serve_feature_spec(w)
    return {"pipeline": table.data_synchronization_status.pipeline_id,
            "statement": statement.statement_id}


def serve_feature_spec(w: WorkspaceClient) -> None:
    """The source table as a feature table, a feature spec on it, an endpoint serving that."""
    w.table_constraints.create(SOURCE, TableConstraint(primary_key_constraint=PrimaryKeyConstraint(
        name="pk", child_columns=["customerID"])))
    bindings = [FeatureFunctionInputBinding(parameter=p, bound_feature=p)
                for p in ("TotalCharges", "tenure")]
    w.feature_engineering.create_feature_spec(FeatureSpec(name=SPEC, features=[
        Features(feature_lookup=FeatureLookup(table=SOURCE, lookup_keys=["customerID"])),
        Features(feature_function=FeatureFunction(udf=FUNCTION, input_bindings=bindings))]))
    w.serving_endpoints.create(name=FEATURES, config=EndpointCoreConfigInput(
        name=FEATURES, served_entities=[ServedEntityInput(
            entity_name=SPEC, workload_size="Small", scale_to_zero_enabled=True)]))
    ready(w, FEATURES)


def observe(emulator: EmulatorProcess, w: WorkspaceClient, ids: dict[str, str]) -> dict[str, Any]:
    """Everything a client can read back, as JSON."""
    return {
        "endpoints": {e.name: w.serving_endpoints.get(e.name).as_dict()
                      for e in w.serving_endpoints.list()},
        "predictions": w.serving_endpoints.query(SERVING, dataframe_records=BATCH).predictions,
        "instance": w.database.get_database_instance(INSTANCE).as_dict(),
        "synced_table": w.database.get_synced_database_table(ONLINE).as_dict(),
        "pipeline": w.pipelines.get(ids["pipeline"]).as_dict(),
        "updates": w.pipelines.list_updates(ids["pipeline"]).as_dict(),
        "online_rows": emulator.control("POST", "/_emulator/lakebase/lookup", {
            "table": ONLINE, "keys": [{"customerID": r["customerID"]} for r in ROWS]})["rows"],
        "function": w.functions.get(FUNCTION).as_dict(),
        "primary_key": w.tables.get(SOURCE).table_constraints[0].as_dict(),
        "feature_spec": w.feature_engineering.get_feature_spec(SPEC).as_dict(),
        "features": w.serving_endpoints.query(FEATURES, dataframe_records=[
            {"customerID": r["customerID"]} for r in ROWS]).outputs,
        "statement": w.statement_execution.get_statement(ids["statement"]).as_dict(),
        "settings": emulator.control("GET", "/_emulator/settings"),
        "deployment_failures": emulator.control("GET", "/_emulator/serving/deployment-failures"),
        "pipeline_failures": emulator.control("GET", "/_emulator/lakebase/pipeline-failures"),
    }


def test_one_of_everything_reads_back_the_same_after_a_restart(restartable):
    w = pat_client(restartable)
    ids = populate(restartable, w)
    before = observe(restartable, w, ids)
    assert before["endpoints"][UPDATING]["state"]["config_update"] == "IN_PROGRESS"
    assert before["online_rows"] == ROWS

    restartable.restart()

    assert observe(restartable, w, ids) == before
    assert (restartable.data_dir / STATE_FILE).exists()


def test_a_restarted_update_finishes_and_serves_its_new_models(restartable):
    w = pat_client(restartable)
    ids = populate(restartable, w)
    restartable.restart()

    restartable.control("PUT", "/_emulator/settings", {"serving_update_seconds": 0.3})
    endpoint = ready(w, UPDATING)
    assert endpoint.config.served_entities[0].entity_version == "2"
    assert endpoint.pending_config is None
    answer = w.serving_endpoints.query(UPDATING, dataframe_records=BATCH)
    assert answer.predictions == observe(restartable, w, ids)["predictions"], \
        "the pending config's model was loaded again after the restart"


def test_a_crash_keeps_every_answered_change(restartable):
    w = pat_client(restartable)
    restartable.control("POST", "/_emulator/registry/model-versions", {"name": MODEL})
    restartable.control("PUT", "/_emulator/settings", {"user_name": "someone@example.com"})
    w.serving_endpoints.create(name=SERVING, config=config(SERVING, "1"))
    ready(w, SERVING)

    restartable.restart(crash=True)  # SIGKILL: no chance to save on the way out

    endpoint = w.serving_endpoints.get(SERVING)
    assert (endpoint.state.ready, endpoint.state.config_update) == (
        EndpointStateReady.READY, EndpointStateConfigUpdate.NOT_UPDATING)
    assert restartable.control("GET", "/_emulator/settings")["user_name"] == \
        "someone@example.com"


def test_oauth_clients_stay_signed_in_and_call_numbers_go_on(restartable):
    w = workspace_client(restartable.host, client_id=OAUTH_CLIENT_ID,
                         client_secret=OAUTH_CLIENT_SECRET, auth_type="oauth-m2m")
    assert list(w.serving_endpoints.list()) == []
    last_seq = restartable.control("GET", "/_emulator/calls")["last_seq"]

    restartable.restart()

    assert list(w.serving_endpoints.list()) == []  # the token from before the restart
    calls = restartable.control("GET", f"/_emulator/calls?since={last_seq}")
    assert calls["counts"] == {"GET /api/2.0/serving-endpoints": 1}, "no new token was needed"
    assert calls["calls"][0]["seq"] == last_seq + 1


def test_reset_clears_the_persisted_workspace(restartable):
    w = pat_client(restartable)
    restartable.control("POST", "/_emulator/registry/model-versions", {"name": MODEL})
    w.serving_endpoints.create(name=SERVING, config=config(SERVING, "1"))
    restartable.control("PUT", "/_emulator/settings", {"user_name": "someone@example.com"})

    restartable.control("POST", "/_emulator/reset", {})
    restartable.restart()

    assert list(w.serving_endpoints.list()) == []
    assert restartable.control("GET", "/_emulator/settings")["user_name"] != \
        "someone@example.com"
