"""SQL data types as Unity Catalog reports them, built from SQL text or from a Delta schema.

One model serves columns (``ColumnInfo``) and function parameters (``FunctionParameterInfo``):
``text`` is the lower-case ``type_text``/``full_data_type`` (``int``, ``decimal(10,2)``,
``array<string>``), ``type_name`` the ``ColumnTypeName`` and ``spark_json`` the Spark type JSON
that ``type_json`` embeds.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from databricks.sdk.service.catalog import ColumnTypeName

# canonical name -> (Spark JSON name, ColumnTypeName, Arrow type)
_SCALARS: dict[str, tuple[str, ColumnTypeName, pa.DataType]] = {
    "STRING": ("string", ColumnTypeName.STRING, pa.string()),
    "INT": ("integer", ColumnTypeName.INT, pa.int32()),
    "BIGINT": ("long", ColumnTypeName.LONG, pa.int64()),
    "SMALLINT": ("short", ColumnTypeName.SHORT, pa.int16()),
    "TINYINT": ("byte", ColumnTypeName.BYTE, pa.int8()),
    "DOUBLE": ("double", ColumnTypeName.DOUBLE, pa.float64()),
    "FLOAT": ("float", ColumnTypeName.FLOAT, pa.float32()),
    "BOOLEAN": ("boolean", ColumnTypeName.BOOLEAN, pa.bool_()),
    "DATE": ("date", ColumnTypeName.DATE, pa.date32()),
    "TIMESTAMP": ("timestamp", ColumnTypeName.TIMESTAMP, pa.timestamp("us", tz="UTC")),
    "TIMESTAMP_NTZ": ("timestamp_ntz", ColumnTypeName.TIMESTAMP_NTZ, pa.timestamp("us")),
    "BINARY": ("binary", ColumnTypeName.BINARY, pa.binary()),
    "VARIANT": ("variant", ColumnTypeName.VARIANT, pa.string()),
    "VOID": ("void", ColumnTypeName.NULL, pa.null()),
}
SYNONYMS = {"INTEGER": "INT", "LONG": "BIGINT", "SHORT": "SMALLINT", "BYTE": "TINYINT",
            "REAL": "FLOAT", "DEC": "DECIMAL", "NUMERIC": "DECIMAL", "BOOL": "BOOLEAN"}
_BY_SPARK_NAME = {spark: name for name, (spark, _, _) in _SCALARS.items()}
_SPARK_DECIMAL = re.compile(r"decimal\((\d+),\s*(\d+)\)")
SIZED = {"CHAR", "VARCHAR"}
PARAMETERIZED = {"DECIMAL"} | SIZED
COMPLEX = {"ARRAY", "MAP", "STRUCT"}
KNOWN = set(_SCALARS) | PARAMETERIZED | COMPLEX


@dataclass(frozen=True)
class StructField:
    name: str
    type: SqlType
    nullable: bool = True
    comment: str | None = None


@dataclass(frozen=True)
class SqlType:
    name: str                                  # canonical upper-case name
    params: tuple[int, ...] = ()               # DECIMAL(p, s), VARCHAR(n)
    children: tuple[SqlType, ...] = ()         # ARRAY element; MAP key and value
    fields: tuple[StructField, ...] = ()       # STRUCT fields

    @property
    def text(self) -> str:
        base = self.name.lower()
        if self.name == "ARRAY":
            return f"array<{self.children[0].text}>"
        if self.name == "MAP":
            return f"map<{self.children[0].text},{self.children[1].text}>"
        if self.name == "STRUCT":
            return "struct<" + ",".join(f"{f.name}:{f.type.text}" for f in self.fields) + ">"
        if self.params:
            return f"{base}({','.join(str(p) for p in self.params)})"
        return base

    @property
    def type_name(self) -> ColumnTypeName:
        if self.name in _SCALARS:
            return _SCALARS[self.name][1]
        return {"DECIMAL": ColumnTypeName.DECIMAL, "CHAR": ColumnTypeName.CHAR,
                "VARCHAR": ColumnTypeName.STRING, "ARRAY": ColumnTypeName.ARRAY,
                "MAP": ColumnTypeName.MAP, "STRUCT": ColumnTypeName.STRUCT}[self.name]

    @property
    def precision(self) -> int | None:
        return self.params[0] if self.name == "DECIMAL" else None

    @property
    def scale(self) -> int | None:
        return self.params[1] if self.name == "DECIMAL" else None

    def spark_json(self) -> Any:
        if self.name in _SCALARS:
            return _SCALARS[self.name][0]
        if self.name == "DECIMAL":
            return f"decimal({self.params[0]},{self.params[1]})"
        if self.name in SIZED:
            return "string"
        if self.name == "ARRAY":
            return {"type": "array", "elementType": self.children[0].spark_json(),
                    "containsNull": True}
        if self.name == "MAP":
            return {"type": "map", "keyType": self.children[0].spark_json(),
                    "valueType": self.children[1].spark_json(), "valueContainsNull": True}
        return {"type": "struct", "fields": [
            {"name": f.name, "type": f.type.spark_json(), "nullable": f.nullable,
             "metadata": {"comment": f.comment} if f.comment else {}} for f in self.fields]}

    def field_json(self, name: str, nullable: bool = True) -> str:
        """The ``type_json`` of a column or parameter called ``name`` with this type."""
        return json.dumps({"name": name, "type": self.spark_json(), "nullable": nullable,
                           "metadata": {}}, separators=(",", ":"))

    def arrow(self) -> pa.DataType:
        if self.name in _SCALARS:
            return _SCALARS[self.name][2]
        if self.name == "DECIMAL":
            return pa.decimal128(self.params[0], self.params[1])
        if self.name in SIZED:
            return pa.string()
        if self.name == "ARRAY":
            return pa.list_(self.children[0].arrow())
        if self.name == "MAP":
            return pa.map_(self.children[0].arrow(), self.children[1].arrow())
        return pa.struct([pa.field(f.name, f.type.arrow(), f.nullable) for f in self.fields])


def scalar(name: str) -> SqlType:
    canonical = SYNONYMS.get(name.upper(), name.upper())
    if canonical == "DECIMAL":
        return SqlType("DECIMAL", (10, 0))
    if canonical not in _SCALARS:
        raise ValueError(f"not a scalar type: {name}")
    return SqlType(canonical)


def from_spark_json(value: Any) -> SqlType:
    """A Delta/Spark schema type (``"long"``, ``"decimal(10,2)"``, ``{"type": "array", ...}``)."""
    if isinstance(value, str):
        if value in _BY_SPARK_NAME:
            return SqlType(_BY_SPARK_NAME[value])
        match = _SPARK_DECIMAL.fullmatch(value)
        if match:
            return SqlType("DECIMAL", (int(match.group(1)), int(match.group(2))))
        return SqlType(value.upper())
    kind = value.get("type")
    if kind == "array":
        return SqlType("ARRAY", children=(from_spark_json(value["elementType"]),))
    if kind == "map":
        return SqlType("MAP", children=(from_spark_json(value["keyType"]),
                                        from_spark_json(value["valueType"])))
    return SqlType("STRUCT", fields=tuple(
        StructField(f["name"], from_spark_json(f["type"]), f.get("nullable", True),
                    (f.get("metadata") or {}).get("comment"))
        for f in value.get("fields", [])))


def coerce(value: Any, sql_type: SqlType) -> Any:
    """A Python value as a Python UDF receives an argument of ``sql_type`` (scalars only)."""
    if value is None:
        return None
    name = sql_type.name
    if name in ("DOUBLE", "FLOAT"):
        return float(value)
    if name in ("INT", "BIGINT", "SMALLINT", "TINYINT"):
        return int(value)
    if name in ("STRING", "VARCHAR", "CHAR"):
        return value if isinstance(value, str) else str(value)
    if name == "BOOLEAN" and isinstance(value, str):
        return value.strip().lower() == "true"
    return value
