"""Unity Catalog names: ``catalog``, ``catalog.schema``, ``catalog.schema.object``.

UC stores identifiers in lower case and matches them case-insensitively, so every name is folded to
lower case here; the on-disk layout uses the folded names.
"""

from __future__ import annotations

from dataclasses import dataclass

from lakeserve.emulator.errors import invalid

MAX_IDENTIFIER = 255
_FORBIDDEN = set("./\\") | {chr(c) for c in range(32)}


@dataclass(frozen=True)
class SchemaName:
    catalog: str
    schema: str

    @property
    def full(self) -> str:
        return f"{self.catalog}.{self.schema}"


@dataclass(frozen=True)
class ObjectName:
    """A three-level name: a table, a function, an online table."""

    catalog: str
    schema: str
    name: str

    @property
    def full(self) -> str:
        return f"{self.catalog}.{self.schema}.{self.name}"

    @property
    def schema_name(self) -> SchemaName:
        return SchemaName(self.catalog, self.schema)


def identifier(text: str, what: str = "name") -> str:
    """One identifier, folded to lower case; raises INVALID_PARAMETER_VALUE when unusable."""
    if not isinstance(text, str) or not text.strip():
        raise invalid(f"Invalid {what}: it must be a non-empty string")
    if len(text) > MAX_IDENTIFIER:
        raise invalid(f"Invalid {what} '{text[:40]}...': longer than {MAX_IDENTIFIER} characters")
    bad = sorted({c for c in text if c in _FORBIDDEN or c == " "})
    if bad or text.startswith("."):
        shown = ", ".join(repr(c) for c in bad) or "a leading '.'"
        raise invalid(f"Invalid {what} '{text}': it must not contain {shown}")
    return text.lower()


def parse_schema_name(text: str, field: str = "full_name") -> SchemaName:
    parts = text.split(".") if isinstance(text, str) else []
    if len(parts) != 2:
        raise invalid(f"Invalid {field} '{text}': expected catalog_name.schema_name")
    return SchemaName(identifier(parts[0], "catalog name"), identifier(parts[1], "schema name"))


def parse_object_name(text: str, field: str = "full_name") -> ObjectName:
    parts = text.split(".") if isinstance(text, str) else []
    if len(parts) != 3 or not all(p.strip() for p in parts):
        raise invalid(f"Invalid {field} '{text}': expected the three-level name "
                      "catalog_name.schema_name.name")
    return ObjectName(identifier(parts[0], "catalog name"), identifier(parts[1], "schema name"),
                      identifier(parts[2], "name"))


def quoted(name: ObjectName | SchemaName) -> str:
    """The name as Databricks SQL error messages print it: `a`.`b`.`c`."""
    parts = [name.catalog, name.schema] + ([name.name] if isinstance(name, ObjectName) else [])
    return ".".join(f"`{part}`" for part in parts)
