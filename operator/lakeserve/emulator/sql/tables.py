"""Table statements: enough Databricks SQL to make a feature table, fill it and drop it.

::

    CREATE [OR REPLACE] TABLE [IF NOT EXISTS] name (
        column type [NOT NULL] [COMMENT 'text'] [, ...]
        [, [CONSTRAINT name] PRIMARY KEY ( column [, ...] )] )
      [USING DELTA] [COMMENT 'text'] [TBLPROPERTIES ( 'key' = 'value' [, ...] )] [;]
    INSERT INTO [TABLE] name [( column [, ...] )] VALUES ( literal [, ...] ) [, ...] [;]
    DROP TABLE [IF EXISTS] name [;]

Literals are strings, numbers, NULL, TRUE and FALSE. Tables go into the same Delta store the
Unity Catalog API reads; the primary key becomes the table's constraint (as
``table_constraints.create`` makes it). Parsing takes the statement parser's token helpers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lakeserve.emulator.catalog.types import StructField
from lakeserve.emulator.sql.errors import SqlError, not_supported
from lakeserve.emulator.sql.lexer import NUMBER, STRING

if TYPE_CHECKING:
    from lakeserve.emulator.sql.parser import _Parser


# A column definition has exactly a struct field's parts: name, type, nullability, comment.
ColumnDef = StructField


@dataclass(frozen=True)
class PrimaryKey:
    name: str | None
    columns: tuple[str, ...]


@dataclass(frozen=True)
class CreateTable:
    name: tuple[str, ...]
    columns: tuple[ColumnDef, ...]
    primary_key: PrimaryKey | None = None
    properties: dict[str, str] = field(default_factory=dict)
    comment: str | None = None
    or_replace: bool = False
    if_not_exists: bool = False


@dataclass(frozen=True)
class InsertInto:
    name: tuple[str, ...]
    columns: tuple[str, ...] | None
    rows: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class DropTable:
    name: tuple[str, ...]
    if_exists: bool = False


TableStatement = CreateTable | InsertInto | DropTable


# ---- parsing -----------------------------------------------------------------------------

def parse_create_table(parser: _Parser, or_replace: bool) -> CreateTable:
    if_not_exists = parser.if_clause("NOT", "EXISTS")
    if or_replace and if_not_exists:
        raise SqlError("INVALID_SQL_SYNTAX.CREATE_TABLE_WITH_IF_NOT_EXISTS_AND_REPLACE",
                       "Invalid SQL syntax: CREATE OR REPLACE TABLE IF NOT EXISTS is not "
                       "allowed.", "42000")
    name = parser.qualified_name()
    columns, key = _table_specification(parser)
    properties, comment = _table_clauses(parser)
    parser.expect_end()
    return CreateTable(name=name, columns=columns, primary_key=key, properties=properties,
                       comment=comment, or_replace=or_replace, if_not_exists=if_not_exists)


def parse_insert(parser: _Parser) -> InsertInto:
    if parser.token.is_keyword("OVERWRITE"):
        raise not_supported("INSERT OVERWRITE")
    parser.expect("INTO")
    parser.accept("TABLE")
    name = parser.qualified_name()
    columns = None
    if parser.accept_punct("("):
        columns = tuple(_comma_list(parser, parser.identifier))
        parser.expect_punct(")")
    if not parser.token.is_keyword("VALUES"):
        raise not_supported("INSERT from a query (only INSERT ... VALUES)")
    parser.advance()
    rows = [_row(parser)]
    while parser.accept_punct(","):
        rows.append(_row(parser))
    parser.expect_end()
    return InsertInto(name=name, columns=columns, rows=tuple(rows))


def parse_drop_table(parser: _Parser) -> DropTable:
    if_exists = parser.if_clause("EXISTS")
    name = parser.qualified_name()
    parser.expect_end()
    return DropTable(name=name, if_exists=if_exists)


def _table_specification(parser: _Parser) -> tuple[tuple[ColumnDef, ...], PrimaryKey | None]:
    if parser.token.is_keyword("AS"):
        raise not_supported("CREATE TABLE ... AS SELECT")
    parser.expect_punct("(")
    columns: list[ColumnDef] = []
    key = None
    while True:
        if parser.token.is_keyword("CONSTRAINT", "PRIMARY"):
            key = _primary_key(parser)
        else:
            columns.append(_column(parser))
        if not parser.accept_punct(","):
            break
    parser.expect_punct(")")
    return tuple(columns), key


def _column(parser: _Parser) -> ColumnDef:
    name, sql_type = parser.identifier(), parser.type()
    nullable, comment = True, None
    while True:
        if parser.accept("NOT"):
            parser.expect("NULL")
            nullable = False
        elif parser.accept("COMMENT"):
            comment = parser.string()
        elif parser.token.is_keyword("PRIMARY", "CONSTRAINT", "GENERATED", "DEFAULT", "MASK"):
            raise not_supported(f"{parser.token.value.upper()} in a column definition "
                                "(declare the primary key as a table constraint)")
        else:
            return ColumnDef(name, sql_type, nullable, comment)


def _primary_key(parser: _Parser) -> PrimaryKey:
    name = parser.identifier() if parser.accept("CONSTRAINT") else None
    parser.expect("PRIMARY")
    parser.expect("KEY")
    parser.expect_punct("(")
    columns = _comma_list(parser, parser.identifier)
    parser.expect_punct(")")
    while parser.accept("RELY", "NORELY"):
        pass
    return PrimaryKey(name, tuple(columns))


def _table_clauses(parser: _Parser) -> tuple[dict[str, str], str | None]:
    properties: dict[str, str] = {}
    comment = None
    while True:
        if parser.accept("USING"):
            if parser.identifier().upper() != "DELTA":
                raise not_supported("A table that is not a Delta table")
        elif parser.accept("COMMENT"):
            comment = parser.string()
        elif parser.accept("TBLPROPERTIES"):
            properties.update(_properties(parser))
        elif parser.token.is_keyword("PARTITIONED", "CLUSTER", "LOCATION", "OPTIONS", "AS"):
            raise not_supported(f"{parser.token.value.upper()} in CREATE TABLE")
        else:
            return properties, comment


def _properties(parser: _Parser) -> dict[str, str]:
    parser.expect_punct("(")

    def pair() -> tuple[str, str]:
        key = parser.string()
        parser.expect_punct("=")
        return key, _literal_text(parser)
    pairs = dict(_comma_list(parser, pair))
    parser.expect_punct(")")
    return pairs


def _row(parser: _Parser) -> tuple[Any, ...]:
    parser.expect_punct("(")
    values = _comma_list(parser, lambda: _literal(parser))
    parser.expect_punct(")")
    return tuple(values)


def _literal(parser: _Parser) -> Any:
    token = parser.token
    if token.kind == STRING:
        return parser.string()
    negative = parser.accept_punct("-")
    if parser.token.kind == NUMBER:
        text = parser.advance().value
        number = float(text) if "." in text else int(text)
        return -number if negative else number
    if not negative and parser.token.is_keyword("NULL", "TRUE", "FALSE"):
        return {"NULL": None, "TRUE": True, "FALSE": False}[parser.advance().value.upper()]
    raise parser.error(": expected a literal (a string, a number, NULL, TRUE or FALSE)")


def _literal_text(parser: _Parser) -> str:
    value = _literal(parser)
    return str(value).lower() if isinstance(value, bool) else str(value)


def _comma_list(parser: _Parser, item) -> list:
    items = [item()]
    while parser.accept_punct(","):
        items.append(item())
    return items
