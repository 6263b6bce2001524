"""Running a parsed statement against Unity Catalog: name resolution and the analysis errors.

Names of one or two parts are completed from the request's ``catalog``/``schema`` (defaults
``main``/``default``). Failures raise :class:`SqlError` with Databricks' error classes.
"""

from __future__ import annotations

from lakeserve.emulator.catalog.constraints import Constraints
from lakeserve.emulator.catalog.names import ObjectName, SchemaName, identifier, quoted
from lakeserve.emulator.catalog.store import DeltaCatalog
from lakeserve.emulator.errors import ApiError
from lakeserve.emulator.functions import pybody
from lakeserve.emulator.functions.store import Definition, FunctionStore, Parameter
from lakeserve.emulator.sql.errors import SqlError
from lakeserve.emulator.sql.parser import CreateFunction, DropFunction, Statement
from lakeserve.emulator.sql.table_executor import TableExecutor

DEFAULT_CATALOG = "main"
DEFAULT_SCHEMA = "default"


class Executor:
    def __init__(self, catalog: DeltaCatalog, functions: FunctionStore,
                 constraints: Constraints):
        self._catalog = catalog
        self._functions = functions
        self._tables = TableExecutor(catalog, constraints)

    def run(self, statement: Statement, catalog: str | None, schema: str | None,
            principal: str) -> None:
        if isinstance(statement, (CreateFunction, DropFunction)):
            name = resolve(statement.name, catalog, schema)
            if isinstance(statement, CreateFunction):
                self._create(statement, name, principal)
            else:
                self._drop(statement, name)
            return
        name = resolve(statement.name, catalog, schema, "table name")
        self._require_schema(name)
        self._tables.run(statement, name)

    def _create(self, statement: CreateFunction, name: ObjectName, principal: str) -> None:
        self._require_schema(name)
        if self._functions.peek(name.full) is not None and not statement.or_replace:
            if statement.if_not_exists:
                return
            raise SqlError("ROUTINE_ALREADY_EXISTS",
                           f"Cannot create the routine {quoted(name)} because a routine of that "
                           "name already exists. Choose a different name, drop or replace the "
                           "existing routine, or add the IF NOT EXISTS clause to tolerate a "
                           "pre-existing routine.", "42723")
        params = tuple(Parameter(p.name, p.type, p.comment, p.default) for p in statement.params)
        try:
            pybody.check(statement.body, [p.name for p in params])
        except pybody.BodyError as exc:
            raise SqlError("PYTHON_UDF_BODY_SYNTAX_ERROR",
                           f"The body of Python function {quoted(name)} is not valid Python: "
                           f"{exc}.", "42601") from None
        definition = Definition(name=name, params=params, returns=statement.returns,
                                body=statement.body.strip("\n"),
                                deterministic=statement.deterministic, comment=statement.comment)
        self._functions.define(definition, principal, replace=True)

    def _drop(self, statement: DropFunction, name: ObjectName) -> None:
        if self._functions.peek(name.full) is not None:
            self._functions.drop(name.full)
        elif not statement.if_exists:
            raise SqlError("ROUTINE_NOT_FOUND",
                           f"The routine {quoted(name)} cannot be found. Verify the spelling "
                           "and correctness of the schema and catalog, or use DROP FUNCTION IF "
                           "EXISTS to tolerate a missing routine.", "42883")

    def _require_schema(self, name: ObjectName) -> None:
        try:
            self._catalog.require_schema(name.schema_name)
        except ApiError:
            raise schema_not_found(name.schema_name) from None


def resolve(parts: tuple[str, ...], catalog: str | None, schema: str | None,
            what: str = "function name") -> ObjectName:
    full = (catalog or DEFAULT_CATALOG, schema or DEFAULT_SCHEMA)[:3 - len(parts)] + parts
    try:
        return ObjectName(identifier(full[0], "catalog name"), identifier(full[1], "schema name"),
                          identifier(full[2], what))
    except ApiError as exc:
        raise SqlError("INVALID_IDENTIFIER", exc.message, "42602") from None


def schema_not_found(name: SchemaName) -> SqlError:
    return SqlError("SCHEMA_NOT_FOUND",
                    f"The schema {quoted(name)} cannot be found. Verify the spelling and "
                    "correctness of the schema and catalog, or qualify the name with the "
                    "correct catalog.", "42704")
