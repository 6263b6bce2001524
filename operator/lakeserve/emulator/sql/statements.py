"""The Statement Execution API's statements: submitted, running for a while, then finished.

A statement is PENDING for the first tenth of ``statement_seconds``, RUNNING for the rest,
and takes effect (function created or dropped) when the time is up (a cold serverless warehouse
is a long ``statement_seconds``); ``statement_retention_seconds`` after it finished, its id is
gone (404) -- evaluated lazily on every
read, and before any read of the function store, so the effect is visible however it is observed.
Due statements are settled together in submission order, which is the order they finish in.
SQL failures are a FAILED state with ``status.error`` (the HTTP answer stays 200); only a request
that cannot be accepted at all (no statement, unknown warehouse, bad ``wait_timeout``) is an HTTP
error.

The last ``MAX_KEPT`` statements are kept, across a restart too (``--data-dir``): a workspace
restart is not an expiry, so an id from before it still reads back. Older ids answer 404 like the
expired ids of a real workspace.
"""

from __future__ import annotations

import re
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from databricks.sdk.service.sql import (
    ExecuteStatementRequestOnWaitTimeout,
    Format,
    ResultData,
    ResultManifest,
    ResultSchema,
    ServiceError,
    ServiceErrorCode,
    StatementResponse,
    StatementState,
    StatementStatus,
)

from lakeserve.emulator.context import EmulatorContext
from lakeserve.emulator.errors import invalid, not_found
from lakeserve.emulator.sql.errors import SqlError
from lakeserve.emulator.sql.execute import Executor
from lakeserve.emulator.sql.parser import Statement, parse_statement
from lakeserve.emulator.sql.warehouses import Warehouses

CONTINUE = ExecuteStatementRequestOnWaitTimeout.CONTINUE
CANCEL = ExecuteStatementRequestOnWaitTimeout.CANCEL
PENDING_SHARE = 0.1  # of statement_seconds spent PENDING (queued on the warehouse)
DEFAULT_WAIT_SECONDS = 10  # the server default when wait_timeout is not sent
MAX_KEPT = 10_000
_WAIT = re.compile(r"(\d+)s")
_TERMINAL = (StatementState.SUCCEEDED, StatementState.FAILED, StatementState.CANCELED,
             StatementState.CLOSED)


@dataclass
class Submission:
    statement_id: str
    parsed: Statement | SqlError
    catalog: str | None
    schema: str | None
    principal: str
    submitted_at: float
    state: StatementState = StatementState.PENDING
    error: SqlError | None = None
    finished_at: float | None = None


@dataclass(frozen=True)
class Wait:
    seconds: float
    on_timeout: ExecuteStatementRequestOnWaitTimeout


class StatementService:
    def __init__(self, ctx: EmulatorContext, warehouses: Warehouses, executor: Executor):
        self._ctx = ctx
        self._warehouses = warehouses
        self._executor = executor
        self._statements: dict[str, Submission] = {}
        self._lock = threading.RLock()
        self._settling = threading.local()

    def submit(self, body: dict[str, Any], principal: str) -> tuple[str, Wait]:
        text, warehouse = body.get("statement"), body.get("warehouse_id")
        if not isinstance(text, str) or not text.strip():
            raise invalid("Missing required field: statement")
        if not isinstance(warehouse, str) or not warehouse:
            raise invalid("Missing required field: warehouse_id")
        self._warehouses.require(warehouse)
        wait = _wait(body)
        for field in ("catalog", "schema"):
            if body.get(field) is not None and not isinstance(body[field], str):
                raise invalid(f"{field} must be a string")
        _check_format(body)
        try:
            parsed: Statement | SqlError = parse_statement(text)
        except SqlError as exc:
            parsed = exc
        submission = Submission(statement_id=str(uuid.uuid4()), parsed=parsed,
                                catalog=body.get("catalog"), schema=body.get("schema"),
                                principal=principal, submitted_at=self._ctx.clock.now())
        with self._lock:
            self._statements[submission.statement_id] = submission
            self._forget_old()
        return submission.statement_id, wait

    def remaining(self, statement_id: str) -> float:
        """Seconds until the statement finishes (0 when it has)."""
        with self._lock:
            submission = self._settled(statement_id)
            if submission.state in _TERMINAL:
                return 0.0
            return max(0.0, self._ends_at(submission) - self._ctx.clock.now())

    def response(self, statement_id: str) -> dict[str, Any]:
        with self._lock:
            return _render(self._settled(statement_id)).as_dict()

    def cancel(self, statement_id: str) -> None:
        with self._lock:
            submission = self._settled(statement_id)
            if submission.state not in _TERMINAL:
                submission.state = StatementState.CANCELED
                submission.finished_at = self._ctx.clock.now()

    def settle_all(self) -> None:
        if getattr(self._settling, "active", False):
            return  # a statement being run reads the function store: no re-entry
        with self._lock:
            for submission in list(self._statements.values()):
                self._settle(submission)

    def reset(self, options: dict[str, Any] | None = None) -> None:
        with self._lock:
            self._statements.clear()

    def snapshot(self) -> list[Submission]:
        """Every kept statement, in submission order (the order they take effect in)."""
        with self._lock:
            return list(self._statements.values())

    def restore(self, submissions: list[Submission]) -> None:
        with self._lock:
            self._statements = {s.statement_id: s for s in submissions}

    # ---- lifecycle ---------------------------------------------------------------------

    def _settled(self, statement_id: str) -> Submission:
        submission = self._statements.get(statement_id)
        if submission is None:
            raise not_found(f"Statement '{statement_id}' does not exist.")
        self.settle_all()  # in submission order, so effects apply in the order they finish
        if self._expired(submission):
            raise not_found(f"Statement '{statement_id}' does not exist.")
        return submission

    def _expired(self, submission: Submission) -> bool:
        retention = self._ctx.settings.statement_retention_seconds
        return submission.finished_at is not None and \
            self._ctx.clock.now() >= submission.finished_at + retention

    def _settle(self, submission: Submission) -> None:
        if submission.state in _TERMINAL:
            return
        now = self._ctx.clock.now()
        if now < self._ends_at(submission):
            elapsed = now - submission.submitted_at
            queued = self._ctx.settings.statement_seconds * PENDING_SHARE
            submission.state = StatementState.PENDING if elapsed < queued \
                else StatementState.RUNNING
            return
        self._run(submission)

    def _run(self, submission: Submission) -> None:
        self._ctx.persistence.mark_changed()
        self._settling.active = True
        try:
            if isinstance(submission.parsed, SqlError):
                raise submission.parsed
            self._executor.run(submission.parsed, submission.catalog, submission.schema,
                               submission.principal)
            submission.state = StatementState.SUCCEEDED
        except SqlError as exc:
            submission.state, submission.error = StatementState.FAILED, exc
        finally:
            self._settling.active = False
            submission.finished_at = self._ends_at(submission)

    def _ends_at(self, submission: Submission) -> float:
        return submission.submitted_at + self._ctx.settings.statement_seconds

    def _forget_old(self) -> None:
        while len(self._statements) > MAX_KEPT:
            self._statements.pop(next(iter(self._statements)))


def _wait(body: dict[str, Any]) -> Wait:
    text = body.get("wait_timeout")
    seconds = DEFAULT_WAIT_SECONDS
    if text is not None:
        match = _WAIT.fullmatch(text) if isinstance(text, str) else None
        seconds = int(match.group(1)) if match else -1
        if seconds != 0 and not 5 <= seconds <= 50:
            raise invalid(f"Invalid wait_timeout '{text}': it must be 0s (asynchronous) or "
                          "between 5s and 50s")
    on_timeout = body.get("on_wait_timeout", CONTINUE.value)
    if on_timeout not in (CONTINUE.value, CANCEL.value):
        raise invalid(f"Invalid on_wait_timeout '{on_timeout}': expected CONTINUE or CANCEL")
    return Wait(float(seconds), ExecuteStatementRequestOnWaitTimeout(on_timeout))


def _check_format(body: dict[str, Any]) -> None:
    value = body.get("format")
    if value is not None and value not in {f.value for f in Format}:
        raise invalid(f"Invalid format '{value}': expected one of "
                      f"{', '.join(f.value for f in Format)}")
    if value == Format.ARROW_STREAM.value and body.get("disposition", "INLINE") == "INLINE":
        raise invalid("format ARROW_STREAM requires disposition EXTERNAL_LINKS")


def _render(submission: Submission) -> StatementResponse:
    error = submission.error
    status = StatementStatus(state=submission.state)
    if error is not None:
        status.error = ServiceError(error_code=ServiceErrorCode.BAD_REQUEST, message=error.text)
        status.sql_state = error.sql_state
    response = StatementResponse(statement_id=submission.statement_id, status=status)
    if submission.state is StatementState.SUCCEEDED:
        response.manifest = ResultManifest(format=Format.JSON_ARRAY,
                                           schema=ResultSchema(column_count=0, columns=[]),
                                           total_chunk_count=0, total_row_count=0,
                                           truncated=False)
        response.result = ResultData(row_count=0, row_offset=0)
    return response
