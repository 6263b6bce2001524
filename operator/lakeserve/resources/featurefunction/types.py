"""SQL type spellings: what the spec says, what Databricks echoes, what the REST API wants."""

from __future__ import annotations

import re

from databricks.sdk.service.catalog import ColumnTypeName

# Synonyms Databricks accepts but echoes under another name.
_CANONICAL = {"INTEGER": "INT", "LONG": "BIGINT", "SHORT": "SMALLINT", "BYTE": "TINYINT"}
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
_COMPLEX = {"DECIMAL": ColumnTypeName.DECIMAL, "ARRAY": ColumnTypeName.ARRAY,
            "MAP": ColumnTypeName.MAP, "STRUCT": ColumnTypeName.STRUCT}


def canonical(sql_type: str) -> str:
    """One spelling per type: upper case, no spaces, synonyms resolved (LONG -> BIGINT)."""
    text = re.sub(r"\s+", "", sql_type).upper()
    return re.sub(r"\b(INTEGER|LONG|SHORT|BYTE)\b", lambda m: _CANONICAL[m.group(1)], text)


def column_type_name(sql_type: str) -> ColumnTypeName:
    text = canonical(sql_type)
    if text in _SCALARS:
        return _SCALARS[text][0]
    head = re.match(r"[A-Z_]+", text).group(0)
    return _COMPLEX[head]


def spark_json_type(sql_type: str) -> str:
    text = canonical(sql_type)
    if text in _SCALARS:
        return _SCALARS[text][1]
    return text.lower()


def type_text(sql_type: str) -> str:
    return canonical(sql_type).lower()
