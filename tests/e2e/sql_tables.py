"""Delta tables for the e2e tests, made as a notebook makes them: SQL on a warehouse through the
Statement Execution API (CREATE TABLE with a primary key and Change Data Feed, INSERT INTO ...
VALUES, DROP TABLE). Works against any workspace; the local one runs the same statements."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.service.sql import StatementState

SQL_TYPES = {str: "STRING", float: "DOUBLE", int: "BIGINT", bool: "BOOLEAN"}
RUNNING = (StatementState.PENDING, StatementState.RUNNING)


class SqlTables:
    def __init__(self, client: WorkspaceClient, warehouse_id: str, catalog: str, schema: str,
                 prefix: str):
        self.client, self.warehouse_id = client, warehouse_id
        self.catalog, self.schema, self.prefix = catalog, schema, prefix

    def create(self, base: str, rows: list[dict[str, Any]], key: str = "customerID",
               change_data_feed: bool = True) -> str:
        """A new table ``<prefix>_<base>_<random>`` in the run's schema holding ``rows``, with
        ``key`` as its primary key (NOT NULL); returns its full name."""
        name = f"{self.catalog}.{self.schema}.{self.prefix}_{base}_{uuid.uuid4().hex[:8]}"
        columns = [f"`{column}` {SQL_TYPES[type(value)]}{' NOT NULL' if column == key else ''}"
                   for column, value in rows[0].items()]
        properties = " TBLPROPERTIES ('delta.enableChangeDataFeed' = 'true')" \
            if change_data_feed else ""
        self.run(f"CREATE TABLE {name} ({', '.join(columns)}, "
                 f"CONSTRAINT {self.prefix}_pk_{uuid.uuid4().hex[:6]} PRIMARY KEY (`{key}`))"
                 f"{properties}")
        self.insert(name, rows)
        return name

    def insert(self, name: str, rows: list[dict[str, Any]]) -> None:
        columns = ", ".join(f"`{column}`" for column in rows[0])
        values = ", ".join("(" + ", ".join(_literal(v) for v in row.values()) + ")"
                           for row in rows)
        self.run(f"INSERT INTO {name} ({columns}) VALUES {values}")

    def run(self, statement: str) -> None:
        answer = self.client.statement_execution.execute_statement(
            statement=statement, warehouse_id=self.warehouse_id, wait_timeout="50s")
        answer = self._finished(answer)
        if answer.status.state != StatementState.SUCCEEDED:
            error = answer.status.error.message if answer.status.error else answer.status.state
            pytest.fail(f"{statement[:80]}... failed: {error}")

    def _finished(self, answer):
        """The statement's final answer (a cold warehouse may take minutes to start)."""
        from tests.e2e.conftest import wait_for

        if answer.status.state not in RUNNING:
            return answer
        statement_id = answer.statement_id

        def final():
            current = self.client.statement_execution.get_statement(statement_id)
            return current if current.status.state not in RUNNING else None
        return wait_for(final, timeout=300, interval=1, message="the SQL statement to finish")


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"
