"""Which payload tables an endpoint logs to, and the row of one call."""

from __future__ import annotations

import datetime
from pathlib import Path

import pyarrow as pa
from databricks.sdk.service.serving import (
    AiGatewayConfig,
    AiGatewayInferenceTableConfig,
    AutoCaptureConfigInput,
)

from lakeserve.emulator.inference_tables.rows import (
    MAX_LOGGED_BYTES,
    SCHEMA,
    LoggedCall,
    PayloadTable,
    build_row,
    payload_tables,
    to_arrow,
)


def capture(enabled: bool | None = True, prefix: str | None = "churn") -> AutoCaptureConfigInput:
    return AutoCaptureConfigInput(catalog_name="Main", schema_name="ml", table_name_prefix=prefix,
                                  enabled=enabled)


def gateway(prefix: str | None = None, enabled: bool = True) -> AiGatewayConfig:
    return AiGatewayConfig(inference_table_config=AiGatewayInferenceTableConfig(
        catalog_name="main", schema_name="ml", table_name_prefix=prefix, enabled=enabled))


def call(**changes) -> LoggedCall:
    values = dict(request_id="req-1", client_request_id="client-1", arrived_at=1_700_000_000.25,
                  status_code=200, execution_ms=3, request=b'{"dataframe_records":[{"a":1}]}',
                  response=b'{"predictions":[0]}', endpoint_name="churn-ep",
                  served_entity_name="champion", served_entity_id="id-1",
                  entity_name="main.ml.churn", entity_version="2", requester="me@example.com")
    return LoggedCall(**{**values, **changes})


def test_the_auto_capture_table_lives_in_the_catalog_layout():
    (table,) = payload_tables(capture(), None, "churn-ep")
    assert table.full_name == "main.ml.churn_payload"
    assert table.path(Path("/data")) == Path("/data/catalog/main/ml/churn_payload")


def test_the_prefix_defaults_to_the_endpoint_name_and_is_lower_cased():
    (table,) = payload_tables(capture(prefix=None), None, "Churn_EP")
    assert table.full_name == "main.ml.churn_ep_payload"


def test_disabled_or_incomplete_configs_log_nothing():
    assert payload_tables(capture(enabled=False), None, "ep") == ()
    assert payload_tables(None, gateway(enabled=False), "ep") == ()
    assert payload_tables(AutoCaptureConfigInput(enabled=True), None, "ep") == ()
    assert payload_tables(None, AiGatewayConfig(), "ep") == ()


def test_gateway_and_auto_capture_tables_are_each_logged_once():
    assert [t.full_name for t in payload_tables(capture(), gateway("gw"), "ep")] == \
        ["main.ml.churn_payload", "main.ml.gw_payload"]
    assert len(payload_tables(capture(prefix="same"), gateway("same"), "ep")) == 1


def test_a_row_has_databricks_columns():
    row = build_row(call())
    assert row == {
        "databricks_request_id": "req-1", "client_request_id": "client-1",
        "date": datetime.date(2023, 11, 14), "timestamp_ms": 1_700_000_000_250,
        "status_code": 200, "sampling_fraction": 1.0, "execution_time_ms": 3,
        "request": '{"dataframe_records":[{"a":1}]}', "response": '{"predictions":[0]}',
        "served_entity_id": "id-1", "served_model_name": "champion",
        "requester": "me@example.com",
        "request_metadata": {"endpoint_name": "churn-ep", "model_name": "main.ml.churn",
                             "model_version": "2", "served_entity_name": "champion"}}
    table = to_arrow([row])
    assert table.schema == SCHEMA and table.num_rows == 1
    assert table.schema.field("request_metadata").type == pa.map_(pa.string(), pa.string())


def test_payloads_over_one_mib_are_not_logged():
    big = b"x" * (MAX_LOGGED_BYTES + 1)
    assert build_row(call(request=big)) is None
    assert build_row(call(response=big)) is None
    assert build_row(call(request=b"x" * MAX_LOGGED_BYTES)) is not None


def test_payload_table_names():
    assert PayloadTable("C", "S", "Ep-1").table == "ep-1_payload"
