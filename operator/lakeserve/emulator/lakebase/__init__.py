"""The feature side of the workspace: Lakebase database instances, synced tables and their sync
pipelines, legacy online tables (read/delete only) and the embedded online store.

``engine.SyncEngine`` owns tables, pipelines and the store and is the in-process API of the
invocation path (``lookup``, ``find_online_table``); ``lifecycle`` is the pure state machine;
``synced``/``legacy``/``instances`` hold each API's request rules; ``render`` builds the SDK
dataclasses; ``routes`` and ``control`` serve them.
"""
