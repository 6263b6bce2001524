"""The Unity Catalog model registry, backed by a local MLflow registry in ``<data dir>/mlflow.db``.

Served twice over the same versions and aliases: the UC REST paths the SDK uses
(``/api/2.1/unity-catalog/models``, ``routes``) and the MLflow UC protocol that
``mlflow.set_registry_uri("databricks-uc")`` speaks (``/api/2.0/mlflow/unity-catalog``,
``mlflow_routes``; registration with managed files in ``registration``). UC full names
(``catalog.schema.model``) are stored as MLflow registered-model names unchanged; anyone using
MLflow against the same SQLite file registers versions the UC paths then show.
"""
