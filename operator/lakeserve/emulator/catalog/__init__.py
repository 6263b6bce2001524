"""Unity Catalog catalogs, schemas and tables, backed by local Delta tables.

``store.DeltaCatalog`` is the in-process API (read a table as Arrow or rows, its Delta version,
append rows); ``routes`` serves ``/api/2.1/unity-catalog/{catalogs,schemas,tables}``; ``control``
writes tables for tests and demos. ``types`` maps SQL and Delta types to UC's type fields.
"""
