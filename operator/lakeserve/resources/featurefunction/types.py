"""SQL type spellings: what the spec says, what Databricks echoes, what the REST API wants.

The Functions REST API takes each parameter's type three ways: SQL text (``type_text``), a
``ColumnTypeName`` and the Spark type JSON of the parameter as a ``StructField`` (``type_json``:
``{"name", "type", "nullable", "metadata"}``, where ``type`` is ``"double"``,
``"decimal(10,2)"`` or an object for ARRAY, MAP and STRUCT, as Spark's ``DataType.jsonValue``
writes it). :func:`parse` reads the SQL text once into a tree that renders all three.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from databricks.sdk.service.catalog import ColumnTypeName

# Synonyms Databricks accepts but echoes under another name.
_CANONICAL = {"INTEGER": "INT", "LONG": "BIGINT", "SHORT": "SMALLINT", "BYTE": "TINYINT",
              "DEC": "DECIMAL", "NUMERIC": "DECIMAL"}
# Canonical SQL name -> (ColumnTypeName, Spark JSON type name)
_SCALARS = {
    "STRING": (ColumnTypeName.STRING, "string"),
    "DOUBLE": (ColumnTypeName.DOUBLE, "double"),
    "FLOAT": (ColumnTypeName.FLOAT, "float"),
    "INT": (ColumnTypeName.INT, "integer"),
    "BIGINT": (ColumnTypeName.LONG, "long"),
    "SMALLINT": (ColumnTypeName.SHORT, "short"),
    "TINYINT": (ColumnTypeName.BYTE, "byte"),
    "BOOLEAN": (ColumnTypeName.BOOLEAN, "boolean"),
    "DATE": (ColumnTypeName.DATE, "date"),
    "TIMESTAMP": (ColumnTypeName.TIMESTAMP, "timestamp"),
    "TIMESTAMP_NTZ": (ColumnTypeName.TIMESTAMP_NTZ, "timestamp_ntz"),
    "BINARY": (ColumnTypeName.BINARY, "binary"),
    "VARIANT": (ColumnTypeName.VARIANT, "variant"),
}
_COMPLEX = {"ARRAY": ColumnTypeName.ARRAY, "MAP": ColumnTypeName.MAP,
            "STRUCT": ColumnTypeName.STRUCT, "DECIMAL": ColumnTypeName.DECIMAL}
# Databricks' default precision and scale of a bare DECIMAL.
DEFAULT_DECIMAL = (10, 0)
_TOKEN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*|`(?:[^`]|``)+`|\d+|[<>(),:])")


@dataclass(frozen=True)
class SqlType:
    name: str                                           # canonical upper-case name
    params: tuple[int, ...] = ()                        # DECIMAL (precision, scale)
    children: tuple[SqlType, ...] = ()                  # ARRAY element; MAP key, value
    fields: tuple[tuple[str, SqlType], ...] = ()        # STRUCT (name, type)

    @property
    def text(self) -> str:
        """Canonical SQL: upper case, no spaces (field names keep their case)."""
        if self.name in ("ARRAY", "MAP"):
            return f"{self.name}<{','.join(c.text for c in self.children)}>"
        if self.name == "STRUCT":
            return "STRUCT<" + ",".join(f"{n}:{t.text}" for n, t in self.fields) + ">"
        if self.params:
            return f"{self.name}({','.join(str(p) for p in self.params)})"
        return self.name

    @property
    def column_type(self) -> ColumnTypeName:
        return _SCALARS[self.name][0] if self.name in _SCALARS else _COMPLEX[self.name]

    def spark_json(self) -> str | dict:
        if self.name in _SCALARS:
            return _SCALARS[self.name][1]
        if self.name == "DECIMAL":
            return f"decimal({self.params[0]},{self.params[1]})"
        if self.name == "ARRAY":
            return {"type": "array", "elementType": self.children[0].spark_json(),
                    "containsNull": True}
        if self.name == "MAP":
            return {"type": "map", "keyType": self.children[0].spark_json(),
                    "valueType": self.children[1].spark_json(), "valueContainsNull": True}
        return {"type": "struct", "fields": [_field_json(n, t) for n, t in self.fields]}


def parse(sql_type: str) -> SqlType:
    """SQL type text -> tree; ValueError when it is not a type Databricks knows."""
    tokens = _TOKEN.findall(sql_type)
    if "".join(tokens) != re.sub(r"\s+", "", sql_type):
        raise ValueError(f"cannot read the type {sql_type!r}")
    parser = _Parser(tokens)
    result = parser.type()
    parser.end()
    return result


def canonical(sql_type: str) -> str:
    """One spelling per type: upper case, no spaces, synonyms resolved (LONG -> BIGINT), a bare
    DECIMAL as DECIMAL(10,0); text that cannot be read is only upper-cased."""
    try:
        return parse(sql_type).text.upper()
    except ValueError:
        return re.sub(r"\s+", "", sql_type).upper()


def sql_text(sql_type: str) -> str:
    """The type as written into SQL: canonical, STRUCT field names in their own case."""
    try:
        return parse(sql_type).text
    except ValueError:
        return canonical(sql_type)


def column_type_name(sql_type: str) -> ColumnTypeName:
    return parse(sql_type).column_type


def type_text(sql_type: str) -> str:
    return parse(sql_type).text.lower()


def type_json(name: str, sql_type: str) -> str:
    """``FunctionParameterInfo.type_json``: the parameter as a Spark StructField."""
    return json.dumps(_field_json(name, parse(sql_type)), separators=(",", ":"))


def decimal_params(sql_type: str) -> tuple[int | None, int | None]:
    """(precision, scale) of a DECIMAL, else (None, None)."""
    parsed = parse(sql_type)
    return parsed.params if parsed.name == "DECIMAL" else (None, None)


def _field_json(name: str, sql_type: SqlType) -> dict:
    return {"name": name, "type": sql_type.spark_json(), "nullable": True, "metadata": {}}


class _Parser:
    def __init__(self, tokens: list[str]):
        self.tokens, self.at = tokens, 0

    def type(self) -> SqlType:
        name = self.word().upper()
        name = _CANONICAL.get(name, name)
        if name in _SCALARS:
            return SqlType(name)
        if name == "DECIMAL":
            return SqlType(name, self.decimal())
        if name == "ARRAY":
            return SqlType(name, children=self.inside(1))
        if name == "MAP":
            return SqlType(name, children=self.inside(2))
        if name == "STRUCT":
            return SqlType(name, fields=self.struct_fields())
        raise ValueError(f"unknown type {name}")

    def decimal(self) -> tuple[int, int]:
        if not self.peek("("):
            return DEFAULT_DECIMAL
        self.expect("(")
        precision = int(self.word())
        scale = 0
        if self.peek(","):
            self.expect(",")
            scale = int(self.word())
        self.expect(")")
        return precision, scale

    def inside(self, count: int) -> tuple[SqlType, ...]:
        self.expect("<")
        children = [self.type()]
        while len(children) < count:
            self.expect(",")
            children.append(self.type())
        self.expect(">")
        return tuple(children)

    def struct_fields(self) -> tuple[tuple[str, SqlType], ...]:
        self.expect("<")
        fields = []
        while True:
            field = self.word().strip("`").replace("``", "`")
            if self.peek(":"):
                self.expect(":")
            fields.append((field, self.type()))
            if not self.peek(","):
                break
            self.expect(",")
        self.expect(">")
        return tuple(fields)

    def word(self) -> str:
        if self.at >= len(self.tokens) or self.tokens[self.at] in "<>(),:":
            raise ValueError("expected a name")
        self.at += 1
        return self.tokens[self.at - 1]

    def peek(self, token: str) -> bool:
        return self.at < len(self.tokens) and self.tokens[self.at] == token

    def expect(self, token: str) -> None:
        if not self.peek(token):
            raise ValueError(f"expected {token!r}")
        self.at += 1

    def end(self) -> None:
        if self.at != len(self.tokens):
            raise ValueError("unexpected text after the type")
