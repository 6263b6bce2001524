"""The Files API (``/api/2.0/fs/files``, ``/api/2.0/fs/directories``) and presigned URLs.

Files live on disk under ``<data dir>/files/<path>``, so they persist with the data dir. The
workspace serves the trees MLflow writes to: ``/Models/<catalog>/<schema>/<model>/<version>/``
(Unity Catalog model version files, writable only while the version is being registered) and
``/WorkspaceInternal/Mlflow/Artifacts/`` (experiment, run and logged-model artifacts).
"""
