"""Statements run for ``statement_seconds`` and take effect when done; SQL failures are a state."""

from __future__ import annotations

import pytest

from lakeserve.emulator.catalog.constraints import Constraints
from lakeserve.emulator.catalog.store import DeltaCatalog
from lakeserve.emulator.errors import ApiError
from lakeserve.emulator.functions.store import FunctionStore
from lakeserve.emulator.sql.execute import Executor
from lakeserve.emulator.sql.statements import CANCEL, CONTINUE, StatementService
from lakeserve.emulator.sql.warehouses import WAREHOUSE_ID, Warehouses

USER = "someone@example.com"
CREATE = """CREATE OR REPLACE FUNCTION main.default.avg_charges(TotalCharges DOUBLE, tenure DOUBLE)
RETURNS DOUBLE LANGUAGE PYTHON AS $$
return TotalCharges / tenure
$$"""


@pytest.fixture
def functions(ctx) -> FunctionStore:
    return FunctionStore(DeltaCatalog(ctx.data_dir, ctx.clock), ctx.clock)


@pytest.fixture
def service(ctx, functions) -> StatementService:
    ctx.settings.statement_seconds = 2.0
    catalog = DeltaCatalog(ctx.data_dir, ctx.clock)
    service = StatementService(ctx, Warehouses(lambda: USER),
                                  Executor(catalog, functions, Constraints(catalog)))
    functions.add_settler(service.settle_all)
    return service


def submit(service, statement, **extra) -> str:
    statement_id, _ = service.submit({"statement": statement, "warehouse_id": WAREHOUSE_ID,
                                      **extra}, USER)
    return statement_id


def state(service, statement_id) -> str:
    return service.response(statement_id)["status"]["state"]


def test_a_statement_is_pending_then_running_then_takes_effect(service, functions, clock):
    statement_id = submit(service, CREATE)
    assert state(service, statement_id) == "PENDING"
    assert functions.find("main.default.avg_charges") is None
    clock.advance(0.15)
    assert state(service, statement_id) == "PENDING"
    clock.advance(0.1)
    assert state(service, statement_id) == "RUNNING"
    clock.advance(1.75)
    done = service.response(statement_id)
    assert done["status"] == {"state": "SUCCEEDED"}
    assert done["manifest"]["total_row_count"] == 0
    assert functions.find("main.default.avg_charges").routine_definition == \
        "return TotalCharges / tenure"


def test_reading_the_function_store_finishes_due_statements(service, functions, clock):
    submit(service, CREATE)
    clock.advance(2.0)
    # nobody asked for the statement: the function read itself settles it
    assert functions.get("main.default.avg_charges").full_data_type == "double"


def test_sql_failures_are_a_failed_state_with_an_error(service, clock):
    statement_id = submit(service, "CREATE FUNCTION f(x INT) RETURNS INT LANGUAGE PYTHON AS "
                                   "$$\nreturn x +\n$$")
    clock.advance(2.0)
    status = service.response(statement_id)["status"]
    assert status["state"] == "FAILED"
    assert status["error"]["error_code"] == "BAD_REQUEST"
    assert status["error"]["message"].startswith("[PYTHON_UDF_BODY_SYNTAX_ERROR]")
    assert "line 1 of the body: return x +" in status["error"]["message"]
    assert "manifest" not in service.response(statement_id)


def test_create_without_replace_on_an_existing_function_fails(service, clock):
    submit(service, CREATE)
    clock.advance(2.0)
    again = submit(service, CREATE.replace("CREATE OR REPLACE", "CREATE"))
    tolerant = submit(service, CREATE.replace("CREATE OR REPLACE", "CREATE")
                      .replace("FUNCTION", "FUNCTION IF NOT EXISTS"))
    clock.advance(2.0)
    error = service.response(again)["status"]["error"]["message"]
    assert error.startswith("[ROUTINE_ALREADY_EXISTS] Cannot create the routine "
                            "`main`.`default`.`avg_charges`")
    assert state(service, tolerant) == "SUCCEEDED"


def test_names_are_completed_from_the_request_and_schemas_must_exist(service, functions, clock):
    created = submit(service, "CREATE FUNCTION f() RETURNS INT LANGUAGE PYTHON AS $$ return 1 $$",
                     catalog="main", schema="default")
    missing = submit(service, "CREATE FUNCTION nowhere.f() RETURNS INT LANGUAGE PYTHON AS $$ "
                              "return 1 $$")
    clock.advance(2.0)
    assert state(service, created) == "SUCCEEDED"
    assert functions.find("main.default.f") is not None
    message = service.response(missing)["status"]["error"]["message"]
    assert message.startswith("[SCHEMA_NOT_FOUND] The schema `main`.`nowhere` cannot be found.")


def test_drop_function_and_drop_if_exists(service, functions, clock):
    submit(service, CREATE)
    clock.advance(2.0)
    dropped = submit(service, "DROP FUNCTION main.default.avg_charges")
    missing = submit(service, "DROP FUNCTION main.default.nothing")
    tolerated = submit(service, "DROP FUNCTION IF EXISTS main.default.nothing")
    clock.advance(2.0)
    assert state(service, dropped) == "SUCCEEDED"
    assert functions.find("main.default.avg_charges") is None
    assert service.response(missing)["status"]["error"]["message"].startswith(
        "[ROUTINE_NOT_FOUND]")
    assert state(service, tolerated) == "SUCCEEDED"


def test_unsupported_statements_fail_with_a_clear_message(service, clock):
    statement_id = submit(service, "SELECT * FROM main.default.features")
    clock.advance(2.0)
    message = service.response(statement_id)["status"]["error"]["message"]
    assert "not supported by the local workspace" in message


def test_cancel_stops_a_running_statement_before_it_takes_effect(service, functions, clock):
    statement_id = submit(service, CREATE)
    service.cancel(statement_id)
    clock.advance(5.0)
    assert state(service, statement_id) == "CANCELED"
    assert functions.find("main.default.avg_charges") is None


def test_remaining_time_drives_the_synchronous_wait(service, clock):
    statement_id = submit(service, CREATE)
    assert service.remaining(statement_id) == 2.0
    clock.advance(1.5)
    assert service.remaining(statement_id) == 0.5
    clock.advance(1.0)
    assert service.remaining(statement_id) == 0.0


@pytest.mark.parametrize("wait, on_timeout, seconds, kind", [
    (None, None, 10.0, CONTINUE), ("0s", None, 0.0, CONTINUE), ("50s", "CANCEL", 50.0, CANCEL),
])
def test_wait_timeout_is_read(service, wait, on_timeout, seconds, kind):
    body = {"statement": CREATE, "warehouse_id": WAREHOUSE_ID}
    body.update({k: v for k, v in {"wait_timeout": wait, "on_wait_timeout": on_timeout}.items()
                 if v is not None})
    _, parsed = service.submit(body, USER)
    assert (parsed.seconds, parsed.on_timeout) == (seconds, kind)


@pytest.mark.parametrize("change, status, fragment", [
    ({"wait_timeout": "4s"}, 400, "between 5s and 50s"),
    ({"wait_timeout": "51s"}, 400, "between 5s and 50s"),
    ({"wait_timeout": "ten"}, 400, "wait_timeout"),
    ({"on_wait_timeout": "LATER"}, 400, "on_wait_timeout"),
    ({"warehouse_id": "nope"}, 404, "Warehouse 'nope' does not exist."),
    ({"statement": ""}, 400, "statement"),
])
def test_requests_that_cannot_be_accepted_are_http_errors(service, change, status, fragment):
    body = {"statement": CREATE, "warehouse_id": WAREHOUSE_ID, **change}
    with pytest.raises(ApiError) as failure:
        service.submit(body, USER)
    assert failure.value.status == status
    assert fragment in failure.value.message


def test_an_unknown_statement_is_not_found(service):
    with pytest.raises(ApiError) as failure:
        service.response("no-such-statement")
    assert failure.value.status == 404


def test_a_finished_statement_is_gone_after_the_retention(service, clock, ctx):
    ctx.settings.statement_retention_seconds = 60
    statement_id = submit(service, CREATE)
    clock.advance(2.0 + 59)
    assert state(service, statement_id) == "SUCCEEDED"
    clock.advance(1)
    with pytest.raises(ApiError) as gone:
        service.response(statement_id)
    assert (gone.value.status, gone.value.error_code) == (404, "RESOURCE_DOES_NOT_EXIST")
