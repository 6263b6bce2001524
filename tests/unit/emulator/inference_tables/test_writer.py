"""Buffered appends to Delta tables: flushed on demand, in the background and on close; a table
that cannot take the rows does not stop the others."""

from __future__ import annotations

import shutil
import threading
import time

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from lakeserve.emulator.inference_tables.rows import LoggedCall, PayloadTable, build_row
from lakeserve.emulator.inference_tables.writer import InferenceTableWriter

TABLE = PayloadTable("main", "ml", "churn")
OTHER = PayloadTable("main", "ml", "other")


def row(request_id: str) -> dict:
    return build_row(LoggedCall(
        request_id=request_id, client_request_id=None, arrived_at=time.time(), status_code=200,
        execution_ms=1, request=b"{}", response=b"{}", endpoint_name="ep",
        served_entity_name="a", served_entity_id="id", entity_name="m", entity_version="1",
        requester=None))


def ids(writer: InferenceTableWriter, table: PayloadTable = TABLE) -> list[str]:
    path = table.path(writer.data_dir)
    if not (path / "_delta_log").exists():
        return []
    return sorted(DeltaTable(str(path)).to_pyarrow_table()["databricks_request_id"].to_pylist())


def wait_for(probe, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        threading.Event().wait(0.02)
    raise AssertionError("condition not met")


@pytest.fixture
def writer(tmp_path):
    writer = InferenceTableWriter(tmp_path, lambda: 3600.0)  # background flushes only on demand
    yield writer
    writer.close()


def test_rows_wait_in_memory_until_flushed(writer):
    writer.append(TABLE, row("r1"))
    writer.append(TABLE, row("r2"))
    assert ids(writer) == []
    assert writer.tables()[0] | {"path": None} == {
        "name": "main.ml.churn_payload", "path": None, "rows": 0, "pending": 2, "dropped": 0}
    writer.flush()
    assert ids(writer) == ["r1", "r2"]
    assert writer.tables()[0]["rows"] == 2 and writer.tables()[0]["pending"] == 0


def test_the_background_thread_flushes_on_its_interval(tmp_path):
    writer = InferenceTableWriter(tmp_path, lambda: 0.05)
    try:
        writer.append(TABLE, row("r1"))
        assert wait_for(lambda: ids(writer)) == ["r1"]
    finally:
        writer.close()


def test_a_full_buffer_is_flushed_without_waiting_for_the_interval(tmp_path):
    writer = InferenceTableWriter(tmp_path, lambda: 3600.0, max_rows=3)
    try:
        for index in range(3):
            writer.append(TABLE, row(f"r{index}"))
        assert wait_for(lambda: len(ids(writer)) == 3)
    finally:
        writer.close()


def test_close_writes_what_is_left(tmp_path):
    writer = InferenceTableWriter(tmp_path, lambda: 3600.0)
    writer.append(TABLE, row("last"))
    writer.close()
    assert ids(writer) == ["last"]


def test_discard_drops_buffered_rows(writer):
    writer.append(TABLE, row("gone"))
    writer.discard()
    writer.flush()
    assert ids(writer) == []


def test_a_table_that_refuses_rows_counts_them_dropped_and_others_still_flush(writer):
    path = OTHER.path(writer.data_dir)
    write_deltalake(str(path), pa.table({"unrelated": [1]}))  # another schema at that path
    writer.append(OTHER, row("refused"))
    writer.append(TABLE, row("kept"))
    writer.flush()
    assert ids(writer) == ["kept"]
    by_name = {table["name"]: table for table in writer.tables()}
    assert by_name["main.ml.other_payload"]["dropped"] == 1
    assert by_name["main.ml.churn_payload"]["rows"] == 1


def test_a_table_deleted_behind_the_writers_back_is_no_longer_listed(writer):
    writer.append(TABLE, row("r1"))
    writer.flush()
    shutil.rmtree(TABLE.path(writer.data_dir))
    assert writer.tables() == []
    writer.append(TABLE, row("r2"))
    assert [(t["name"], t["pending"]) for t in writer.tables()] == [("main.ml.churn_payload", 1)]
    writer.flush()
    assert ids(writer) == ["r2"]
