"""MLflow tracking as ``mlflow.set_tracking_uri("databricks")`` uses it: experiments, runs
(params, metrics, tags, inputs, outputs) and MLflow 3 logged models under ``/api/2.0/mlflow/``,
stored in the data dir's MLflow database. Artifact locations have Databricks' form
(``dbfs:/databricks/mlflow-tracking/<experiment>/...``), so MLflow writes run and logged-model
artifacts through the Files API under ``/WorkspaceInternal/Mlflow/Artifacts/``.

Not served: traces, assessments, evaluation datasets, prompts, the AI gateway and the legacy
artifact-credential paths (``/api/2.0/mlflow/artifacts/credentials-for-*``).
"""
