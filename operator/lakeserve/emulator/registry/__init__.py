"""The Unity Catalog model registry, backed by a local MLflow registry in ``<data dir>/mlflow.db``.

Anyone using MLflow against the same SQLite file (``sqlite:///<data dir>/mlflow.db``) registers
versions the UC paths then show. UC full names (``catalog.schema.model``) are stored as MLflow
registered-model names unchanged.
"""
