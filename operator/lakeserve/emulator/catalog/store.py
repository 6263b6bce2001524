"""Catalogs, schemas and tables as directories of local Delta tables, with UC's errors.

Layout (fixed; other areas and tests write into it directly)::

    <data_dir>/catalog/<catalog>/<schema>/<table>/_delta_log/...

A catalog or schema exists when its directory exists; a table when its directory holds a
``_delta_log``. Names are lower case (UC folds identifiers). Catalogs and schemas created through
the API keep their comment/owner in a ``.uc.json`` beside their children; hidden entries are never
listed. This is also the in-process API other areas use to read and append table data.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from lakeserve.emulator.catalog.names import (
    ObjectName,
    SchemaName,
    identifier,
    parse_object_name,
    parse_schema_name,
)
from lakeserve.emulator.catalog.types import SqlType, from_spark_json
from lakeserve.emulator.clock import Clock
from lakeserve.emulator.errors import ApiError, already_exists, invalid

DEFAULT_CATALOG = "main"
DEFAULT_SCHEMA = "default"
META_FILE = ".uc.json"
DELTA_LOG = "_delta_log"
WRITE_MODES = ("append", "overwrite")

TABLE_DOES_NOT_EXIST = "TABLE_DOES_NOT_EXIST"
SCHEMA_DOES_NOT_EXIST = "SCHEMA_DOES_NOT_EXIST"
CATALOG_DOES_NOT_EXIST = "CATALOG_DOES_NOT_EXIST"

Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class Column:
    name: str
    type: SqlType
    nullable: bool
    position: int


@dataclass(frozen=True)
class Container:
    """A catalog or schema directory and what is known about it."""

    name: str
    path: Path
    comment: str | None
    owner: str | None
    created_by: str | None
    created_at: float
    object_id: str | None


def table_missing(full_name: str) -> ApiError:
    return ApiError(404, TABLE_DOES_NOT_EXIST, f"Table '{full_name}' does not exist.")


def schema_missing(full_name: str) -> ApiError:
    return ApiError(404, SCHEMA_DOES_NOT_EXIST, f"Schema '{full_name}' does not exist.")


def catalog_missing(name: str) -> ApiError:
    return ApiError(404, CATALOG_DOES_NOT_EXIST, f"Catalog '{name}' does not exist.")


class DeltaCatalog:
    def __init__(self, data_dir: Path, clock: Clock):
        self.root = Path(data_dir) / "catalog"
        self._clock = clock
        self._write_lock = threading.Lock()
        self.ensure_defaults()

    def ensure_defaults(self) -> None:
        (self.root / DEFAULT_CATALOG / DEFAULT_SCHEMA).mkdir(parents=True, exist_ok=True)

    def wipe(self) -> None:
        """Remove every catalog, schema and table; ``main.default`` comes back empty."""
        with self._write_lock:
            shutil.rmtree(self.root, ignore_errors=True)
        self.ensure_defaults()

    # ---- catalogs and schemas ----------------------------------------------------------

    def catalog_exists(self, name: str) -> bool:
        return (self.root / name.lower()).is_dir()

    def schema_exists(self, catalog: str, schema: str) -> bool:
        return (self.root / catalog.lower() / schema.lower()).is_dir()

    def require_schema(self, name: SchemaName) -> None:
        if not self.catalog_exists(name.catalog):
            raise catalog_missing(name.catalog)
        if not self.schema_exists(name.catalog, name.schema):
            raise schema_missing(name.full)

    def catalogs(self) -> list[Container]:
        return [self._container(path) for path in _children(self.root)]

    def catalog(self, name: str) -> Container:
        name = identifier(name, "catalog name")
        if not self.catalog_exists(name):
            raise catalog_missing(name)
        return self._container(self.root / name)

    def create_catalog(self, name: str, comment: str | None, principal: str) -> Container:
        name = identifier(name, "catalog name")
        path = self.root / name
        if path.exists():
            raise already_exists(f"Catalog '{name}' already exists.")
        self._make_container(path, comment, principal)
        return self._container(path)

    def schemas(self, catalog: str) -> list[Container]:
        catalog = identifier(catalog, "catalog_name")
        if not self.catalog_exists(catalog):
            raise catalog_missing(catalog)
        return [self._container(path) for path in _children(self.root / catalog)
                if not _is_table_dir(path)]

    def schema(self, full_name: str) -> Container:
        name = parse_schema_name(full_name)
        self.require_schema(name)
        return self._container(self.root / name.catalog / name.schema)

    def create_schema(self, catalog: str, name: str, comment: str | None,
                      principal: str) -> Container:
        schema = SchemaName(identifier(catalog, "catalog_name"), identifier(name, "name"))
        if not self.catalog_exists(schema.catalog):
            raise catalog_missing(schema.catalog)
        path = self.root / schema.catalog / schema.schema
        if path.exists():
            raise already_exists(f"Schema '{schema.full}' already exists.")
        self._make_container(path, comment, principal)
        return self._container(path)

    # ---- tables: metadata --------------------------------------------------------------

    def table_path(self, full_name: str | ObjectName) -> Path:
        name = _object(full_name)
        return self.root / name.catalog / name.schema / name.name

    def table_exists(self, full_name: str | ObjectName) -> bool:
        return _is_table_dir(self.table_path(full_name))

    def require_table(self, full_name: str | ObjectName) -> ObjectName:
        """The parsed name of an existing table; 404s name the first missing level."""
        name = _object(full_name)
        if not self.table_exists(name):
            self.require_schema(name.schema_name)
            raise table_missing(name.full)
        return name

    def tables(self, catalog: str, schema: str) -> list[ObjectName]:
        name = SchemaName(identifier(catalog, "catalog_name"), identifier(schema, "schema_name"))
        self.require_schema(name)
        return [ObjectName(name.catalog, name.schema, path.name)
                for path in _children(self.root / name.catalog / name.schema)
                if _is_table_dir(path)]

    def version(self, full_name: str | ObjectName) -> int | None:
        """The table's current Delta version (from the log directory, no table load), or None."""
        log = self.table_path(full_name) / DELTA_LOG
        latest = None
        with contextlib.suppress(OSError):
            for entry in os.scandir(log):
                stem, dot, ext = entry.name.partition(".")
                if ext == "json" and stem.isdigit():
                    latest = max(latest or 0, int(stem))
        return latest

    def commit_time(self, full_name: str | ObjectName, version: int) -> float | None:
        """When ``version`` was committed (seconds), from its commitInfo or the file's mtime."""
        path = self.table_path(full_name) / DELTA_LOG / f"{version:020d}.json"
        try:
            with open(path, encoding="utf-8") as log:
                for line in log:
                    info = json.loads(line).get("commitInfo")
                    if info and "timestamp" in info:
                        return info["timestamp"] / 1000
            return path.stat().st_mtime
        except (OSError, ValueError):
            return None

    def columns(self, full_name: str | ObjectName) -> list[Column]:
        name = self.require_table(full_name)
        schema = json.loads(self._delta(name).schema().to_json())
        return [Column(field["name"], from_spark_json(field["type"]),
                       field.get("nullable", True), position)
                for position, field in enumerate(schema.get("fields", []))]

    def table_metadata(self, full_name: str | ObjectName) -> dict[str, Any]:
        """Delta metadata: table id, creation time (seconds) and configuration."""
        name = self.require_table(full_name)
        metadata = self._delta(name).metadata()
        created = metadata.created_time / 1000 if metadata.created_time else None
        return {"id": metadata.id, "created_at": created,
                "configuration": dict(metadata.configuration or {})}

    def change_data_feed(self, full_name: str | ObjectName) -> bool:
        configuration = self.table_metadata(full_name)["configuration"]
        return configuration.get("delta.enableChangeDataFeed", "false").lower() == "true"

    # ---- tables: data --------------------------------------------------------------------

    def read_table(self, full_name: str | ObjectName, version: int | None = None) -> pa.Table:
        """The table (at ``version``, default the latest) as a pyarrow Table."""
        name = self.require_table(full_name)
        return self._delta(name, version).to_pyarrow_table()

    def read_rows(self, full_name: str | ObjectName, version: int | None = None) -> Rows:
        return self.read_table(full_name, version).to_pylist()

    def row_count(self, full_name: str | ObjectName, version: int | None = None) -> int:
        name = self.require_table(full_name)
        return self._delta(name, version).to_pyarrow_dataset().count_rows()

    def write(self, full_name: str | ObjectName, data: Rows | pa.Table, mode: str = "append",
              schema: dict[str, SqlType] | None = None,
              properties: dict[str, str] | None = None) -> int:
        """Write rows; creates the table (and its catalog/schema directories) when missing.

        ``append`` casts rows to the table's schema; ``overwrite`` replaces data and schema.
        ``properties`` (e.g. ``delta.enableChangeDataFeed``) are set when the table is created.
        Returns the new Delta version.
        """
        if mode not in WRITE_MODES:
            raise invalid(f"Invalid mode '{mode}': expected one of {', '.join(WRITE_MODES)}")
        name = _object(full_name)
        path = self.table_path(name)
        with self._write_lock:
            exists = _is_table_dir(path)
            table = self._arrow(name, data, schema, exists and mode == "append")
            path.parent.mkdir(parents=True, exist_ok=True)
            options: dict[str, Any] = {"schema_mode": "overwrite"} \
                if mode == "overwrite" and exists else {}
            if properties and not exists:
                options["configuration"] = properties
            try:
                write_deltalake(str(path), table, mode=mode, **options)
            except Exception as exc:  # deltalake raises several unrelated types
                raise invalid(f"Cannot write to table '{name.full}': {exc}") from None
        return self.version(name) or 0

    def append(self, full_name: str | ObjectName, rows: Rows | pa.Table) -> int:
        """Append rows (creating the table on first use); returns the new Delta version."""
        return self.write(full_name, rows, "append")

    def delete_table(self, full_name: str | ObjectName) -> None:
        name = self.require_table(full_name)
        with self._write_lock:
            shutil.rmtree(self.table_path(name), ignore_errors=True)

    # ---- helpers -----------------------------------------------------------------------

    def _delta(self, name: ObjectName, version: int | None = None) -> DeltaTable:
        try:
            return DeltaTable(str(self.table_path(name)), version=version)
        except Exception as exc:  # a version that no longer exists, a broken log
            raise invalid(f"Cannot read table '{name.full}'"
                          f"{f' at version {version}' if version is not None else ''}: {exc}") \
                from None

    def _arrow(self, name: ObjectName, data: Rows | pa.Table, schema: dict[str, SqlType] | None,
               cast_to_existing: bool) -> pa.Table:
        if isinstance(data, pa.Table):
            return data
        if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
            raise invalid("rows must be a list of objects")
        if cast_to_existing:
            existing = pa.schema(self._delta(name).schema().to_arrow())
            unknown = sorted({key for row in data for key in row} - set(existing.names))
            if unknown:
                raise invalid(f"Column(s) {', '.join(unknown)} do not exist in table "
                              f"'{name.full}'; its columns are: {', '.join(existing.names)}")
            return _from_rows(data, existing)
        if not data and not schema:
            raise invalid("Cannot create a table from no rows without a schema")
        arrow_schema = _schema_for(data, schema)
        return _from_rows(data, arrow_schema)

    def _container(self, path: Path) -> Container:
        meta: dict[str, Any] = {}
        with contextlib.suppress(OSError, ValueError):
            meta = json.loads((path / META_FILE).read_text())
        try:
            created = path.stat().st_mtime
        except OSError:
            created = self._clock.now()
        return Container(name=path.name, path=path, comment=meta.get("comment"),
                         owner=meta.get("owner"), created_by=meta.get("created_by"),
                         created_at=meta.get("created_at", created), object_id=meta.get("id"))

    def _make_container(self, path: Path, comment: str | None, principal: str) -> None:
        path.mkdir(parents=True)
        meta = {"comment": comment, "owner": principal, "created_by": principal,
                "created_at": self._clock.now(), "id": str(uuid.uuid4())}
        (path / META_FILE).write_text(json.dumps(meta))


def _object(full_name: str | ObjectName) -> ObjectName:
    return full_name if isinstance(full_name, ObjectName) else parse_object_name(full_name)


def _children(path: Path) -> Iterable[Path]:
    try:
        entries = sorted(os.scandir(path), key=lambda e: e.name)
    except OSError:
        return []
    return [Path(e.path) for e in entries if e.is_dir() and not e.name.startswith(".")]


def _is_table_dir(path: Path) -> bool:
    return (path / DELTA_LOG).is_dir()


def _schema_for(rows: Rows, declared: dict[str, SqlType] | None) -> pa.Schema:
    """Declared types first, then pyarrow's inference; all-null columns become strings."""
    declared = declared or {}
    names: list[str] = []
    for row in rows:
        names += [key for key in row if key not in names]
    names += [key for key in declared if key not in names]
    fields = []
    for column in names:
        if column in declared:
            fields.append(pa.field(column, declared[column].arrow()))
            continue
        try:
            kind = pa.array([row.get(column) for row in rows]).type
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise invalid(f"Column '{column}' mixes value types: {exc}") from None
        fields.append(pa.field(column, pa.string() if pa.types.is_null(kind) else kind))
    return pa.schema(fields)


def _from_rows(rows: Rows, schema: pa.Schema) -> pa.Table:
    try:
        return pa.Table.from_pylist(rows, schema=schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
        raise invalid(f"Rows do not fit the table's schema: {exc}") from None

