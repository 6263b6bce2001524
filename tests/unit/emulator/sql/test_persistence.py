"""Statements and functions through a snapshot and a restore (as a restart does): a statement id
from before reads back the same; one still running takes effect at its stored time."""

from __future__ import annotations

import pytest

from lakeserve.emulator.catalog.constraints import Constraints
from lakeserve.emulator.catalog.store import DeltaCatalog
from lakeserve.emulator.functions.store import FunctionStore
from lakeserve.emulator.persistence import codec
from lakeserve.emulator.sql.execute import Executor
from lakeserve.emulator.sql.statements import StatementService
from lakeserve.emulator.sql.warehouses import WAREHOUSE_ID, Warehouses

USER = "someone@example.com"
NAME = "main.default.avg_charges"
CREATE = f"""CREATE OR REPLACE FUNCTION {NAME}(TotalCharges DOUBLE, tenure DOUBLE)
RETURNS DOUBLE LANGUAGE PYTHON AS $$
return TotalCharges / tenure
$$"""


def stack(ctx) -> tuple[StatementService, FunctionStore]:
    catalog = DeltaCatalog(ctx.data_dir, ctx.clock)
    functions = FunctionStore(catalog, ctx.clock)
    statements = StatementService(ctx, Warehouses(lambda: USER),
                                  Executor(catalog, functions, Constraints(catalog)))
    functions.add_settler(statements.settle_all)
    return statements, functions


def restarted(ctx, statements, functions) -> tuple[StatementService, FunctionStore]:
    fresh_statements, fresh_functions = stack(ctx)
    for old, new in ((statements, fresh_statements), (functions, fresh_functions)):
        new.restore(codec.loads(codec.dumps(old.snapshot())))
    return fresh_statements, fresh_functions


def submit(statements, text) -> str:
    return statements.submit({"statement": text, "warehouse_id": WAREHOUSE_ID}, USER)[0]


@pytest.fixture
def settings(ctx):
    ctx.settings.statement_seconds = 2.0


def test_finished_statements_and_their_functions_read_back_the_same(ctx, clock, settings):
    statements, functions = stack(ctx)
    created, broken = submit(statements, CREATE), submit(statements, "CREATE FUNCTION (")
    clock.advance(2)
    before = (statements.response(created), statements.response(broken), functions.get(NAME))
    assert before[1]["status"]["state"] == "FAILED"

    fresh_statements, fresh_functions = restarted(ctx, statements, functions)

    assert (fresh_statements.response(created), fresh_statements.response(broken),
            fresh_functions.get(NAME)) == before
    assert fresh_functions.call(NAME, TotalCharges=10.0, tenure=4.0) == 2.5


def test_a_running_statement_takes_effect_at_its_stored_time(ctx, clock, settings):
    statements, functions = stack(ctx)
    statement_id = submit(statements, CREATE)
    clock.advance(1)
    fresh_statements, fresh_functions = restarted(ctx, statements, functions)
    assert fresh_statements.response(statement_id)["status"]["state"] == "RUNNING"
    assert fresh_functions.find(NAME) is None
    clock.advance(1)
    assert fresh_functions.find(NAME) is not None
    assert fresh_statements.response(statement_id)["status"]["state"] == "SUCCEEDED"
    assert ctx.persistence.changed, "the statement took effect during a read"
