"""The SQL the local workspace runs: each case says why it matters."""

from __future__ import annotations

import pytest

from lakeserve.emulator.sql.errors import SqlError
from lakeserve.emulator.sql.parser import CreateFunction, DropFunction, parse_statement, parse_type

NOTEBOOK = """CREATE OR REPLACE FUNCTION monthly_charges_avrg (TotalCharges DOUBLE, tenure DOUBLE)
RETURNS DOUBLE
LANGUAGE PYTHON AS
$$
avrg = TotalCharges / tenure
return avrg
$$"""

OPERATOR = """CREATE OR REPLACE FUNCTION `main`.`ml`.`avg_charges`(`TotalCharges` DOUBLE, \
`tenure` DOUBLE COMMENT 'months, can\\'t be 0')
RETURNS DOUBLE
LANGUAGE PYTHON
NOT DETERMINISTIC
COMMENT 'the customer\\'s "average"'
AS $$
return TotalCharges / tenure
$$"""

UNITYCATALOG_AI = """CREATE OR REPLACE FUNCTION `cat`.`sch`.`fn`(x INT COMMENT 'it''s x')
RETURNS INT
LANGUAGE PYTHON
COMMENT "it's"
AS $$
  return x + 1
$$;"""


def created(text: str) -> CreateFunction:
    statement = parse_statement(text)
    assert isinstance(statement, CreateFunction)
    return statement


CREATE_CASES = [
    # (reason, statement, name, [(param, type_text, comment)], returns, deterministic, comment)
    ("the notebook's feature function: one-part name, AS before $$ on another line",
     NOTEBOOK, ("monthly_charges_avrg",),
     [("TotalCharges", "double", None), ("tenure", "double", None)], "double", True, None),
    ("what the operator sends: backquoted three-level name, escaped quotes in comments, "
     "NOT DETERMINISTIC", OPERATOR, ("main", "ml", "avg_charges"),
     [("TotalCharges", "double", None), ("tenure", "double", "months, can't be 0")], "double",
     False, 'the customer\'s "average"'),
    ("unitycatalog-ai's shape: indented body, trailing ';', adjacent literals concatenate as in "
     "Spark, double-quoted comment", UNITYCATALOG_AI, ("cat", "sch", "fn"),
     [("x", "int", "its x")], "int", True, "it's"),
    ("two-part names and synonyms are echoed canonically",
     "create function s.f(a LONG, b INTEGER) returns SHORT language python as $$return a$$",
     ("s", "f"), [("a", "bigint", None), ("b", "int", None)], "smallint", True, None),
    ("complex types nest", "CREATE FUNCTION f(m MAP<STRING, ARRAY<DECIMAL(10,2)>>, "
     "s STRUCT<a: INT, b STRING>) RETURNS ARRAY<STRING> LANGUAGE PYTHON AS $$ return [] $$",
     ("f",), [("m", "map<string,array<decimal(10,2)>>", None),
              ("s", "struct<a:int,b:string>", None)], "array<string>", True, None),
    ("characteristics come in any order; -- comments are skipped",
     "CREATE FUNCTION f() RETURNS STRING -- no params\nCOMMENT 'c' DETERMINISTIC LANGUAGE "
     "PYTHON AS $tag$ return 'a$$b' $tag$", ("f",), [], "string", True, "c"),
]


@pytest.mark.parametrize("reason, text, name, params, returns, deterministic, comment",
                         CREATE_CASES, ids=[case[0][:40] for case in CREATE_CASES])
def test_create_function_is_parsed(reason, text, name, params, returns, deterministic, comment):
    statement = created(text)
    assert statement.name == name
    assert [(p.name, p.type.text, p.comment) for p in statement.params] == params
    assert statement.returns.text == returns
    assert statement.deterministic is deterministic
    assert statement.comment == comment


def test_the_body_is_kept_verbatim_between_the_dollar_quotes():
    assert created(NOTEBOOK).body == "\navrg = TotalCharges / tenure\nreturn avrg\n"
    assert created(UNITYCATALOG_AI).body == "\n  return x + 1\n"


def test_or_replace_and_if_not_exists_are_recorded():
    plain = created("CREATE FUNCTION IF NOT EXISTS f() RETURNS INT LANGUAGE PYTHON AS $$ "
                    "return 1 $$")
    assert (plain.or_replace, plain.if_not_exists) == (False, True)
    assert created(NOTEBOOK).or_replace is True


@pytest.mark.parametrize("reason, text, name, if_exists", [
    ("DROP IF EXISTS tolerates a missing function", "DROP FUNCTION IF EXISTS `a`.`b`.`c`;",
     ("a", "b", "c"), True),
    ("plain DROP", "drop function f", ("f",), False),
])
def test_drop_function_is_parsed(reason, text, name, if_exists):
    assert parse_statement(text) == DropFunction(name=name, if_exists=if_exists)


ERROR_CASES = [
    # (reason, statement, error class, text expected in the message)
    ("RETURNS is required for Python functions",
     "CREATE FUNCTION f(x INT) LANGUAGE PYTHON AS $$ return x $$",
     "PARSE_SYNTAX_ERROR", "at or near 'LANGUAGE': expected RETURNS"),
    ("an unclosed body", "CREATE FUNCTION f() RETURNS INT LANGUAGE PYTHON AS $$ return 1",
     "PARSE_SYNTAX_ERROR", "not closed"),
    ("a query is not something the local workspace runs", "SELECT 1",
     "NOT_SUPPORTED_IN_LOCAL_WORKSPACE", "A SELECT statement is not supported"),
    ("other DDL neither", "CREATE VIEW v AS SELECT 1", "NOT_SUPPORTED_IN_LOCAL_WORKSPACE",
     "CREATE VIEW is not supported"),
    ("a table from a query", "CREATE TABLE t AS SELECT 1", "NOT_SUPPORTED_IN_LOCAL_WORKSPACE",
     "CREATE TABLE ... AS SELECT"),
    ("INSERT from a query", "INSERT INTO t SELECT 1", "NOT_SUPPORTED_IN_LOCAL_WORKSPACE",
     "only INSERT ... VALUES"),
    ("a key declared on the column", "CREATE TABLE t (id STRING NOT NULL PRIMARY KEY)",
     "NOT_SUPPORTED_IN_LOCAL_WORKSPACE", "as a table constraint"),
    ("a value that is not a literal", "INSERT INTO t VALUES (now())", "PARSE_SYNTAX_ERROR",
     "expected a literal"),
    ("OR REPLACE with IF NOT EXISTS for a table",
     "CREATE OR REPLACE TABLE IF NOT EXISTS t (x INT)",
     "INVALID_SQL_SYNTAX.CREATE_TABLE_WITH_IF_NOT_EXISTS_AND_REPLACE", "not allowed"),
    ("SQL-bodied functions are refused clearly",
     "CREATE FUNCTION f(x INT) RETURNS INT RETURN x + 1", "NOT_SUPPORTED_IN_LOCAL_WORKSPACE",
     "RETURN <expression>"),
    ("only Python functions", "CREATE FUNCTION f() RETURNS INT LANGUAGE SCALA AS $$ 1 $$",
     "NOT_SUPPORTED_IN_LOCAL_WORKSPACE", "LANGUAGE SCALA"),
    ("four name parts", "CREATE FUNCTION a.b.c.d() RETURNS INT LANGUAGE PYTHON AS $$ 1 $$",
     "IDENTIFIER_TOO_MANY_NAME_PARTS", "`a`.`b`.`c`.`d`"),
    ("OR REPLACE with IF NOT EXISTS",
     "CREATE OR REPLACE FUNCTION IF NOT EXISTS f() RETURNS INT LANGUAGE PYTHON AS $$ 1 $$",
     "INVALID_SQL_SYNTAX.CREATE_ROUTINE_WITH_IF_NOT_EXISTS_AND_REPLACE", "both"),
    ("unknown types", "CREATE FUNCTION f(x NUMBERISH) RETURNS INT LANGUAGE PYTHON AS $$ 1 $$",
     "UNSUPPORTED_DATATYPE", '"NUMBERISH"'),
    ("duplicate parameters",
     "CREATE FUNCTION f(x INT, X INT) RETURNS INT LANGUAGE PYTHON AS $$ 1 $$",
     "DUPLICATE_ROUTINE_PARAMETER_NAMES", "`X`"),
    ("one statement per request", "DROP FUNCTION f; DROP FUNCTION g", "PARSE_SYNTAX_ERROR",
     "only one statement"),
    ("empty text", "  ", "PARSE_EMPTY_STATEMENT", "empty"),
]


@pytest.mark.parametrize("reason, text, error_class, fragment", ERROR_CASES,
                         ids=[case[0][:40] for case in ERROR_CASES])
def test_bad_statements_fail_with_databricks_error_classes(reason, text, error_class, fragment):
    with pytest.raises(SqlError) as failure:
        parse_statement(text)
    assert failure.value.error_class == error_class
    assert fragment in failure.value.text
    assert failure.value.text.startswith(f"[{error_class}] ")


def test_syntax_errors_carry_the_line_and_position():
    with pytest.raises(SqlError) as failure:
        parse_statement("CREATE FUNCTION f(x INT)\nLANGUAGE PYTHON AS $$ 1 $$")
    assert failure.value.position == (2, 0)
    assert failure.value.text.endswith("SQLSTATE: 42601 (line 2, pos 0)")


@pytest.mark.parametrize("text, canonical", [
    ("double", "double"), ("LONG", "bigint"), ("decimal(5)", "decimal(5,0)"),
    ("VARCHAR(10)", "varchar(10)"), ("array<map<string,int>>", "array<map<string,int>>"),
])
def test_type_text_is_canonical(text, canonical):
    assert parse_type(text).text == canonical


def test_a_non_type_is_refused():
    with pytest.raises(ValueError, match="not a SQL type"):
        parse_type("double trouble")
