"""Unity Catalog three-level names (``catalog.schema.model``), folded to lower case: UC matches
names case-insensitively and stores them in lower case."""

from __future__ import annotations

from dataclasses import dataclass

from lakeserve.emulator.errors import invalid


@dataclass(frozen=True)
class ModelName:
    catalog: str
    schema: str
    model: str

    @property
    def full(self) -> str:
        return f"{self.catalog}.{self.schema}.{self.model}"


def split_full_name(full_name: str) -> ModelName | None:
    """The three parts of a UC name, or None when it is not one (e.g. a workspace-registry name)."""
    parts = full_name.split(".")
    if len(parts) != 3 or not all(parts):
        return None
    return ModelName(*(part.lower() for part in parts))


def parse_full_name(full_name: str, field: str = "full_name") -> ModelName:
    name = split_full_name(full_name)
    if name is None:
        raise invalid(f"Invalid {field} '{full_name}': expected the three-level name "
                      "catalog_name.schema_name.model_name")
    return name


def parse_version(text: str | int) -> int:
    try:
        version = int(text)
    except (TypeError, ValueError):
        version = 0
    if version < 1:
        raise invalid(f"Invalid version '{text}': expected a positive integer")
    return version
