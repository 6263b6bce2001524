"""The local Databricks-compatible workspace (the emulator).

A FastAPI app that answers the Databricks REST paths lakeserve uses, with Databricks' error JSON,
Bearer auth, state machines with configurable delays and test knobs under ``/_emulator/``.

Layout: shared machinery at the top (``app`` factory, ``errors``, ``wire`` body parsing, ``auth``,
``gateway`` middleware with call log and faults, ``settings``, ``ratelimit``, ``persistence`` of
every area's state under ``--data-dir``), one package per API area (``serving``, ``registry``,
``files``, ``tracking``, ``invocations``, ``lakebase``, ``sql``, ``functions``, ...), each with its
public ``routes`` and its ``control`` knobs; ``protojson`` reads and writes MLflow's protobuf JSON.
``process`` runs the emulator as a subprocess (and restarts it).

This package imports only itself, the databricks-sdk, mlflow, fastapi/uvicorn and the standard
library, never other ``lakeserve`` modules; no operator code imports it. Importing the package
itself is cheap (``process`` needs no web framework).
"""
