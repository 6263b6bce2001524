"""Unity Catalog functions: Python UDFs defined by SQL (``CREATE FUNCTION``, see ``sql``) or the
Functions REST API, listed/read/deleted through ``/api/2.1/unity-catalog/functions`` and callable
in-process (``store.FunctionStore.call``) by the invocation path."""
