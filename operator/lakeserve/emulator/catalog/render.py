"""Catalog directories and Delta tables -> UC response dataclasses."""

from __future__ import annotations

from databricks.sdk.service.catalog import (
    CatalogInfo,
    CatalogType,
    ColumnInfo,
    DataSourceFormat,
    SchemaInfo,
    TableConstraint,
    TableInfo,
    TableType,
)

from lakeserve.emulator.catalog.names import ObjectName
from lakeserve.emulator.catalog.store import Column, Container, DeltaCatalog
from lakeserve.emulator.clock import millis
from lakeserve.emulator.context import METASTORE_ID


def catalog_info(container: Container, default_owner: str) -> CatalogInfo:
    owner = container.owner or default_owner
    created = millis(container.created_at)
    return CatalogInfo(
        name=container.name, full_name=container.name, owner=owner, comment=container.comment,
        catalog_type=CatalogType.MANAGED_CATALOG, metastore_id=METASTORE_ID,
        storage_root=container.path.as_uri(), created_at=created,
        created_by=container.created_by or owner, updated_at=created,
        updated_by=container.created_by or owner)


def schema_info(catalog: str, container: Container, default_owner: str) -> SchemaInfo:
    owner = container.owner or default_owner
    created = millis(container.created_at)
    return SchemaInfo(
        name=container.name, catalog_name=catalog, full_name=f"{catalog}.{container.name}",
        owner=owner, comment=container.comment, catalog_type=CatalogType.MANAGED_CATALOG,
        metastore_id=METASTORE_ID, schema_id=container.object_id,
        storage_root=container.path.as_uri(), created_at=created,
        created_by=container.created_by or owner, updated_at=created,
        updated_by=container.created_by or owner)


def column_info(column: Column) -> ColumnInfo:
    sql_type = column.type
    return ColumnInfo(
        name=column.name, type_text=sql_type.text, type_name=sql_type.type_name,
        type_json=sql_type.field_json(column.name, column.nullable), position=column.position,
        nullable=column.nullable, type_precision=sql_type.precision,
        type_scale=sql_type.scale)


def table_info(catalog: DeltaCatalog, name: ObjectName, owner: str,
               omit_columns: bool = False,
               constraints: list[TableConstraint] | None = None) -> TableInfo:
    metadata = catalog.table_metadata(name)
    version = catalog.version(name)
    committed = catalog.commit_time(name, version) if version is not None else None
    created = metadata["created_at"] or committed
    columns = None if omit_columns else [column_info(c) for c in catalog.columns(name)]
    return TableInfo(
        name=name.name, catalog_name=name.catalog, schema_name=name.schema, full_name=name.full,
        table_type=TableType.MANAGED, data_source_format=DataSourceFormat.DELTA,
        columns=columns, storage_location=catalog.table_path(name).as_uri(), owner=owner,
        table_id=metadata["id"], metastore_id=METASTORE_ID,
        properties=metadata["configuration"] or None, table_constraints=constraints or None,
        created_at=millis(created) if created else None, created_by=owner,
        updated_at=millis(committed) if committed else None, updated_by=owner)
