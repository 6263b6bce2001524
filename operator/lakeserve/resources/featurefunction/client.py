"""The only code that talks to Databricks about Unity Catalog Python functions.

With a ``warehouseId`` the function is defined with ``CREATE OR REPLACE FUNCTION ... LANGUAGE
PYTHON`` through the Statement Execution API (what Databricks' own tooling does; the replace is
atomic). A failed statement comes back as HTTP 200 with state FAILED: its message becomes the
Stalled condition. Without a warehouse the Functions REST API is used, where a replace is a
drop and a create. Drift is found by reading the function back.
"""

from __future__ import annotations

from databricks.sdk.errors import NotFound
from databricks.sdk.service.catalog import (
    CreateFunction,
    CreateFunctionParameterStyle,
    CreateFunctionRoutineBody,
    CreateFunctionSecurityType,
    CreateFunctionSqlDataAccess,
    FunctionInfo,
    FunctionParameterInfo,
    FunctionParameterInfos,
)
from databricks.sdk.service.sql import (
    ExecuteStatementRequestOnWaitTimeout,
    StatementResponse,
    StatementState,
)

from lakeserve.api.featurefunction import FeatureFunctionSpec, Parameter
from lakeserve.databricks.errors import SpecError
from lakeserve.databricks.workspace import Workspace
from lakeserve.reconcile import reasons
from lakeserve.resources.base import DeleteState, Event, Managed, Observation, WriteResult
from lakeserve.resources.featurefunction import sql, types

STATEMENT_FAILED = "StatementFailed"
# How long one statement call may wait synchronously before the pass moves on and polls later.
STATEMENT_WAIT = "5s"
_RUNNING = (StatementState.PENDING, StatementState.RUNNING)


class FeatureFunctionClient:
    def __init__(self, workspace: Workspace):
        self._w = workspace.client
        self._statement: StatementResponse | None = None

    def observe(self, obj: Managed[FeatureFunctionSpec]) -> Observation:
        spec = obj.spec
        facts = {"fullName": spec.full_name, "functionId": None, "state": "Absent",
                 "statementId": None}
        pending = self._pending_statement(obj)
        if pending is not None and pending.status.state in _RUNNING:
            return Observation(exists=True, name=spec.full_name, busy=(reasons.UPDATING, "waiting for SQL statement "
                                                  f"{pending.statement_id}"),
                               status={**facts, "state": "Pending",
                                       "statementId": pending.statement_id})
        try:
            info = self._w.functions.get(spec.full_name)
        except NotFound:
            return Observation(exists=False, name=spec.full_name, status=facts, create_status={
                "statementId": None, "appliedHash": sql.definition_hash(spec)})
        facts.update(functionId=info.function_id, state="Defined")
        diff = definition_diff(spec, info)
        observation = Observation(exists=True, name=spec.full_name, diff=diff, ready=not diff,
                                  status=facts)
        if diff:
            facts["state"] = "Pending"
        return observation

    def locate(self, obj: Managed[FeatureFunctionSpec]) -> Observation:
        name = obj.spec.full_name
        try:
            self._w.functions.get(name)
        except NotFound:
            return Observation(exists=False, name=name)
        return Observation(exists=True, name=name)

    def create(self, obj: Managed[FeatureFunctionSpec], observation: Observation) -> WriteResult:
        return self._define(obj, replacing=False)

    def update(self, obj: Managed[FeatureFunctionSpec], observation: Observation) -> WriteResult:
        return self._define(obj, replacing=True, changes=observation.diff)

    def delete(self, obj: Managed[FeatureFunctionSpec]) -> DeleteState:
        try:
            self._w.functions.delete(obj.spec.full_name)
        except NotFound:
            pass
        return DeleteState.GONE

    # ---- defining ------------------------------------------------------------------------

    def _define(self, obj: Managed[FeatureFunctionSpec], replacing: bool,
                changes: list[str] | None = None) -> WriteResult:
        spec = obj.spec
        what = f"replaced {spec.full_name} ({', '.join(changes or [])})" if replacing \
            else f"created {spec.full_name}"
        if spec.warehouse_id:
            response = self._execute(spec)
            if response.status.state in _RUNNING:
                return WriteResult(events=[Event(reasons.UPDATED, f"{what}: statement "
                                                 f"{response.statement_id} running")],
                                   status={"statementId": response.statement_id,
                                           "appliedHash": sql.definition_hash(spec)})
        else:
            if replacing:
                self.delete(obj)
            self._w.functions.create(function_info=create_request(spec))
        return WriteResult(events=[Event(reasons.UPDATED if replacing else reasons.CREATED, what)],
                           status={"statementId": None, "appliedHash": sql.definition_hash(spec)})

    def _execute(self, spec: FeatureFunctionSpec) -> StatementResponse:
        response = self._w.statement_execution.execute_statement(
            statement=sql.create_or_replace(spec), warehouse_id=spec.warehouse_id,
            wait_timeout=STATEMENT_WAIT,
            on_wait_timeout=ExecuteStatementRequestOnWaitTimeout.CONTINUE)
        _raise_if_failed(response)
        return response

    def _pending_statement(self, obj: Managed[FeatureFunctionSpec]) -> StatementResponse | None:
        statement_id = obj.status.get("statementId")
        if not statement_id or obj.status.get("appliedHash") != sql.definition_hash(obj.spec):
            return None  # none running, or it was for an older spec: the diff decides
        try:
            response = self._w.statement_execution.get_statement(statement_id)
        except NotFound:
            return None  # statement ids expire: read the function itself
        _raise_if_failed(response)
        return response


def _raise_if_failed(response: StatementResponse) -> None:
    """FAILED and CANCELED stall; CLOSED is a success whose result was closed (SDK
    ``StatementState`` docstring)."""
    status = response.status
    if status is None or status.state not in (StatementState.FAILED, StatementState.CANCELED):
        return
    error = status.error
    message = (error.message if error and error.message else status.state.value)
    raise SpecError(STATEMENT_FAILED, f"SQL statement {response.statement_id} "
                                      f"{status.state.value}: {message}")


def definition_diff(spec: FeatureFunctionSpec, info: FunctionInfo) -> list[str]:
    """Which parts of the function differ from the spec, in the spec's field names."""
    diff = []
    if sql.normalized_body(info.routine_definition or "") != sql.normalized_body(spec.body):
        diff.append("body")
    observed_params = sorted((info.input_params.parameters if info.input_params else None) or [],
                             key=lambda p: p.position or 0)
    if [(p.name, types.canonical(p.type_text or "")) for p in observed_params] != \
            [(p.name, types.canonical(p.type)) for p in spec.parameters]:
        diff.append("parameters")
    returned = info.full_data_type or (info.data_type.value if info.data_type else "")
    if types.canonical(returned) != types.canonical(spec.returns):
        diff.append("returns")
    if (info.comment or "") != (spec.comment or ""):
        diff.append("comment")
    if info.is_deterministic is not None and info.is_deterministic != spec.deterministic:
        diff.append("deterministic")
    return diff


def _parameter_info(position: int, param: Parameter) -> FunctionParameterInfo:
    precision, scale = types.decimal_params(param.type)
    return FunctionParameterInfo(
        name=param.name, type_text=types.type_text(param.type),
        type_name=types.column_type_name(param.type), type_json=types.type_json(param.name,
                                                                                param.type),
        type_precision=precision, type_scale=scale, position=position, comment=param.comment)


def create_request(spec: FeatureFunctionSpec) -> CreateFunction:
    """The Functions REST body of a Python UDF (used when the spec names no warehouse)."""
    params = [_parameter_info(i, p) for i, p in enumerate(spec.parameters)]
    return CreateFunction(
        name=spec.name, catalog_name=spec.catalog, schema_name=spec.schema_,
        input_params=FunctionParameterInfos(parameters=params),
        data_type=types.column_type_name(spec.returns),
        full_data_type=types.type_text(spec.returns),
        routine_body=CreateFunctionRoutineBody.EXTERNAL,
        routine_definition=sql.normalized_body(spec.body),
        parameter_style=CreateFunctionParameterStyle.S,
        is_deterministic=spec.deterministic,
        sql_data_access=CreateFunctionSqlDataAccess.NO_SQL,
        is_null_call=False,
        security_type=CreateFunctionSecurityType.DEFINER,
        specific_name=spec.name,
        external_language="Python",
        comment=spec.comment,
    )
