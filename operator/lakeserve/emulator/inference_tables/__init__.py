"""Inference tables: every answered invocation of an endpoint with ``auto_capture_config`` or an
AI Gateway ``inference_table_config`` enabled, appended to ``<catalog>.<schema>.<prefix>_payload``
(a Delta table in the emulator's catalog layout, ``<data_dir>/catalog/...``)."""
