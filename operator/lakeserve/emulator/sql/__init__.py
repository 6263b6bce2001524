"""SQL warehouses and the Statement Execution API.

``parser`` reads the statements the local workspace runs (``CREATE [OR REPLACE] FUNCTION ...
LANGUAGE PYTHON``, ``DROP FUNCTION``), ``execute`` applies them to Unity Catalog functions,
``statements`` holds their time-driven lifecycle, ``warehouses`` the one always-running warehouse.
"""
