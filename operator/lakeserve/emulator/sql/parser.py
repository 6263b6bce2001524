"""The statements the local workspace runs, parsed into plain records.

::

    CREATE [OR REPLACE] FUNCTION [IF NOT EXISTS] name ( [param [, ...]] )
      RETURNS type
      { LANGUAGE PYTHON | [NOT] DETERMINISTIC | COMMENT 'text' | CONTAINS SQL
        | READS SQL DATA | NO SQL | SQL SECURITY DEFINER } ...
      AS $$ body $$ [;]
    param := name type [NOT NULL] [DEFAULT literal] [COMMENT 'text']
    DROP FUNCTION [IF EXISTS] name [;]

and the table statements of :mod:`lakeserve.emulator.sql.tables` (CREATE TABLE, INSERT INTO
... VALUES, DROP TABLE).
``name`` has one to three parts, each bare or in backquotes. Adjacent string literals concatenate
(Spark's rule). Anything else is refused as not supported. Names are kept as written; resolving
them against the session's catalog/schema happens at execution.
"""

from __future__ import annotations

from dataclasses import dataclass

from lakeserve.emulator.catalog.types import (
    COMPLEX,
    KNOWN,
    PARAMETERIZED,
    SIZED,
    SYNONYMS,
    SqlType,
    StructField,
    scalar,
)
from lakeserve.emulator.sql.errors import SqlError, line_pos, not_supported, syntax_error
from lakeserve.emulator.sql.lexer import (
    BODY,
    END,
    IDENT,
    NUMBER,
    PUNCT,
    QUOTED_IDENT,
    STRING,
    Token,
    tokenize,
)
from lakeserve.emulator.sql.tables import (
    TableStatement,
    parse_create_table,
    parse_drop_table,
    parse_insert,
)

_CHARACTERISTICS = ("LANGUAGE", "DETERMINISTIC", "NOT", "COMMENT", "CONTAINS", "READS", "NO",
                    "MODIFIES", "SQL")


@dataclass(frozen=True)
class Param:
    name: str
    type: SqlType
    comment: str | None = None
    default: str | None = None


@dataclass(frozen=True)
class CreateFunction:
    name: tuple[str, ...]
    params: tuple[Param, ...]
    returns: SqlType
    body: str
    or_replace: bool = False
    if_not_exists: bool = False
    deterministic: bool = True
    comment: str | None = None
    data_access: str = "NO_SQL"


@dataclass(frozen=True)
class DropFunction:
    name: tuple[str, ...]
    if_exists: bool = False


Statement = CreateFunction | DropFunction | TableStatement


def parse_statement(text: str) -> Statement:
    """One statement; raises :class:`SqlError` for syntax errors and unsupported statements."""
    if not isinstance(text, str) or not text.strip():
        raise SqlError("PARSE_EMPTY_STATEMENT",
                       "Syntax error, unexpected empty statement.", "42617")
    return _Parser(text).statement()


def parse_type(text: str) -> SqlType:
    """A SQL type such as ``DOUBLE`` or ``array<decimal(10,2)>``; raises ValueError."""
    try:
        parser = _Parser(text)
        sql_type = parser.type()
        parser.expect_end()
        return sql_type
    except SqlError as exc:
        raise ValueError(f"'{text}' is not a SQL type: {exc.message}") from None


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0

    # ---- token helpers -----------------------------------------------------------------

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.token
        if token.kind != END:
            self.index += 1
        return token

    def accept(self, *words: str) -> bool:
        if self.token.is_keyword(*words):
            self.advance()
            return True
        return False

    def accept_punct(self, char: str) -> bool:
        if self.token.kind == PUNCT and self.token.value == char:
            self.advance()
            return True
        return False

    def expect(self, word: str) -> None:
        if not self.accept(word):
            raise self.error(f": expected {word}")

    def expect_punct(self, char: str) -> None:
        if not self.accept_punct(char):
            raise self.error(f": expected '{char}'")

    def expect_end(self) -> None:
        self.accept_punct(";")
        if self.token.kind != END:
            raise self.error(": only one statement can be run at a time")

    def error(self, hint: str = "") -> SqlError:
        return syntax_error(self.text, self.token.pos, self.token.shown, hint)

    # ---- statements --------------------------------------------------------------------

    def statement(self) -> Statement:
        first = self.token
        if self.accept("CREATE"):
            return self.create()
        if self.accept("DROP"):
            return self.drop()
        if self.accept("INSERT"):
            return parse_insert(self)
        if first.kind == IDENT:
            raise not_supported(f"A {first.value.upper()} statement")
        raise self.error()

    def create(self) -> Statement:
        or_replace = False
        if self.accept("OR"):
            self.expect("REPLACE")
            or_replace = True
        if self.accept("TABLE"):
            return parse_create_table(self, or_replace)
        if self.token.is_keyword("TEMPORARY", "TEMP"):
            raise not_supported("CREATE TEMPORARY FUNCTION")
        if not self.token.is_keyword("FUNCTION"):
            what = self.token.value.upper() if self.token.kind == IDENT else "this"
            raise not_supported(f"CREATE {what}")
        self.advance()
        if_not_exists = self.if_clause("NOT", "EXISTS")
        if or_replace and if_not_exists:
            raise SqlError("INVALID_SQL_SYNTAX.CREATE_ROUTINE_WITH_IF_NOT_EXISTS_AND_REPLACE",
                           "Invalid SQL syntax: Cannot create a routine with both IF NOT EXISTS "
                           "and REPLACE specified.", "42000")
        name = self.qualified_name()
        params = self.params()
        self.refuse_sql_body()
        self.expect("RETURNS")
        if self.token.is_keyword("TABLE"):
            raise not_supported("A table function (RETURNS TABLE)")
        returns = self.type()
        traits = self.characteristics()
        self.refuse_sql_body()
        body = self.body()
        self.expect_end()
        if traits.get("language") != "PYTHON":
            language = traits.get("language") or "SQL"
            raise not_supported(f"A LANGUAGE {language} function")
        return CreateFunction(name=name, params=params, returns=returns, body=body,
                              or_replace=or_replace, if_not_exists=if_not_exists,
                              deterministic=traits.get("deterministic", True),
                              comment=traits.get("comment"),
                              data_access=traits.get("data_access", "NO_SQL"))

    def drop(self) -> Statement:
        if self.accept("TABLE"):
            return parse_drop_table(self)
        if self.token.is_keyword("TEMPORARY", "TEMP"):
            raise not_supported("DROP TEMPORARY FUNCTION")
        if not self.token.is_keyword("FUNCTION"):
            what = self.token.value.upper() if self.token.kind == IDENT else "this"
            raise not_supported(f"DROP {what}")
        self.advance()
        if_exists = self.if_clause("EXISTS")
        name = self.qualified_name()
        self.expect_end()
        return DropFunction(name=name, if_exists=if_exists)

    def refuse_sql_body(self) -> None:
        if self.token.is_keyword("RETURN"):
            raise not_supported("A SQL function (RETURN <expression>)")

    def if_clause(self, *words: str) -> bool:
        if not self.accept("IF"):
            return False
        for word in words:
            self.expect(word)
        return True

    # ---- pieces ------------------------------------------------------------------------

    def identifier(self) -> str:
        token = self.token
        if token.kind not in (IDENT, QUOTED_IDENT) or (token.kind == QUOTED_IDENT
                                                        and not token.value):
            raise self.error(": expected an identifier")
        self.advance()
        return token.value

    def qualified_name(self) -> tuple[str, ...]:
        start = self.token.pos
        parts = [self.identifier()]
        while self.accept_punct("."):
            parts.append(self.identifier())
        if len(parts) > 3:
            shown = ".".join(f"`{p}`" for p in parts)
            raise SqlError("IDENTIFIER_TOO_MANY_NAME_PARTS",
                           f"{shown} is not a valid identifier as it has more than 3 name parts.",
                           "42601", position=line_pos(self.text, start))
        return tuple(parts)

    def params(self) -> tuple[Param, ...]:
        self.expect_punct("(")
        params: list[Param] = []
        if not self.accept_punct(")"):
            params.append(self.param())
            while self.accept_punct(","):
                params.append(self.param())
            self.expect_punct(")")
        seen: set[str] = set()
        for param in params:
            if param.name.lower() in seen:
                raise SqlError("DUPLICATE_ROUTINE_PARAMETER_NAMES",
                               f"Found duplicate name(s) in the parameter list of the "
                               f"user-defined routine: `{param.name}`.", "42734")
            seen.add(param.name.lower())
        return tuple(params)

    def param(self) -> Param:
        name = self.identifier()
        sql_type = self.type()
        if self.accept("NOT"):
            self.expect("NULL")
        default = self.literal_text() if self.accept("DEFAULT") else None
        comment = self.string() if self.accept("COMMENT") else None
        return Param(name=name, type=sql_type, comment=comment, default=default)

    def type(self) -> SqlType:
        token = self.token
        if token.kind != IDENT:
            raise self.error(": expected a data type")
        self.advance()
        name = SYNONYMS.get(token.value.upper(), token.value.upper())
        if name not in KNOWN:
            raise SqlError("UNSUPPORTED_DATATYPE", f'Unsupported data type "{token.value}".',
                           "0A000", position=line_pos(self.text, token.pos))
        if name in COMPLEX:
            return self.complex_type(name)
        if name in PARAMETERIZED and self.accept_punct("("):
            numbers = [self.number()]
            while self.accept_punct(","):
                numbers.append(self.number())
            self.expect_punct(")")
            if (name in SIZED and len(numbers) != 1) or (name == "DECIMAL" and len(numbers) > 2):
                raise self.error(f": wrong number of arguments for {name}")
            if name == "DECIMAL" and len(numbers) == 1:
                numbers.append(0)
            return SqlType(name, tuple(numbers))
        if name in SIZED:
            raise self.error(f": {name} needs a length, e.g. {name}(10)")
        return scalar(name)

    def complex_type(self, name: str) -> SqlType:
        self.expect_punct("<")
        if name == "ARRAY":
            children: tuple[SqlType, ...] = (self.type(),)
            fields: tuple[StructField, ...] = ()
        elif name == "MAP":
            key = self.type()
            self.expect_punct(",")
            children, fields = (key, self.type()), ()
        else:
            children, fields = (), self.struct_fields()
        self.expect_punct(">")
        return SqlType(name, children=children, fields=fields)

    def struct_fields(self) -> tuple[StructField, ...]:
        fields: list[StructField] = []
        if self.token.kind == PUNCT and self.token.value == ">":
            return ()
        while True:
            field_name = self.identifier()
            self.accept_punct(":")
            field_type = self.type()
            nullable = True
            if self.accept("NOT"):
                self.expect("NULL")
                nullable = False
            comment = self.string() if self.accept("COMMENT") else None
            fields.append(StructField(field_name, field_type, nullable, comment))
            if not self.accept_punct(","):
                return tuple(fields)

    def number(self) -> int:
        token = self.token
        if token.kind != NUMBER or "." in token.value:
            raise self.error(": expected an integer")
        self.advance()
        return int(token.value)

    def string(self) -> str:
        if self.token.kind != STRING:
            raise self.error(": expected a string literal")
        parts = []
        while self.token.kind == STRING:
            parts.append(self.advance().value)
        return "".join(parts)

    def literal_text(self) -> str:
        token = self.token
        if token.kind == STRING:
            return self.advance().raw
        negative = self.accept_punct("-")
        if token.kind == NUMBER or negative and self.token.kind == NUMBER:
            return ("-" if negative else "") + self.advance().value
        if self.token.is_keyword("NULL", "TRUE", "FALSE"):
            return self.advance().value.upper()
        raise self.error(": DEFAULT takes a literal here")

    def characteristics(self) -> dict[str, object]:
        traits: dict[str, object] = {}
        while self.token.is_keyword(*_CHARACTERISTICS):
            if self.accept("LANGUAGE"):
                traits["language"] = self.identifier().upper()
            elif self.accept("DETERMINISTIC"):
                traits["deterministic"] = True
            elif self.accept("NOT"):
                self.expect("DETERMINISTIC")
                traits["deterministic"] = False
            elif self.accept("COMMENT"):
                traits["comment"] = self.string()
            elif self.accept("CONTAINS"):
                self.expect("SQL")
                traits["data_access"] = "CONTAINS_SQL"
            elif self.accept("READS"):
                self.expect("SQL")
                self.expect("DATA")
                traits["data_access"] = "READS_SQL_DATA"
            elif self.accept("NO"):
                self.expect("SQL")
                traits["data_access"] = "NO_SQL"
            elif self.accept("MODIFIES"):
                raise not_supported("MODIFIES SQL DATA")
            else:
                self.expect("SQL")
                self.expect("SECURITY")
                self.expect("DEFINER")
        return traits

    def body(self) -> str:
        self.expect("AS")
        token = self.token
        if token.kind == BODY:
            self.advance()
            return token.value
        if token.kind == STRING:
            return self.string()
        raise self.error(": expected the function body as $$ ... $$")

