"""MLflow pointed at the emulator the way a user's code is: DATABRICKS_HOST/TOKEN and the
``databricks`` / ``databricks-uc`` URIs; everything restored afterwards."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import mlflow
import pandas as pd
from mlflow.models import infer_signature
from mlflow.tracking._model_registry.registry import ModelRegistryStoreRegistry
from sklearn.tree import DecisionTreeClassifier

TRUSTED_TYPES = ["sklearn.tree._tree.Tree"]


@contextlib.contextmanager
def against_workspace(host: str, token: str, **env: str) -> Iterator[str]:
    """Yields a fresh experiment path; MLflow talks only to the workspace meanwhile."""
    saved = {k: v for k, v in os.environ.items() if k.startswith(("DATABRICKS_", "MLFLOW_"))}
    tracking, registry = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    for key in saved:
        del os.environ[key]
    os.environ.update(DATABRICKS_HOST=host, DATABRICKS_TOKEN=token, **env)
    _forget_registry_stores()
    try:
        mlflow.set_tracking_uri("databricks")
        mlflow.set_registry_uri("databricks-uc")
        yield f"/Users/emulator-user@lakeserve.dev/{uuid.uuid4().hex[:8]}"
    finally:
        for key in [k for k in os.environ if k.startswith(("DATABRICKS_", "MLFLOW_"))]:
            del os.environ[key]
        os.environ.update(saved)
        mlflow.set_tracking_uri(tracking)
        mlflow.set_registry_uri(registry)
        _forget_registry_stores()


def _forget_registry_stores() -> None:
    """MLflow keeps one registry store per URI for the process, chosen by the environment when it
    was made (MLFLOW_ENABLE_UC_NATIVE_MODEL_REGISTRY): start afresh, as a new process would."""
    ModelRegistryStoreRegistry._get_store_with_resolved_uri.cache_clear()


def churn_frame() -> tuple[pd.DataFrame, pd.Series]:
    X = pd.DataFrame({"tenure": [1.0, 5.0, 30.0, 60.0, 2.0, 45.0],
                      "charges": [90.0, 80.0, 40.0, 20.0, 99.0, 30.0]})
    return X, pd.Series(["Yes", "Yes", "No", "No", "Yes", "No"])


def log_tree(model_name: str | None, signature: bool = True):
    """Train and log a tree in the active experiment; returns (model, ModelInfo)."""
    X, y = churn_frame()
    model = DecisionTreeClassifier(random_state=0).fit(X, y)
    extra = {"signature": infer_signature(X, model.predict(X))} if signature else {}
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(model, name="model", registered_model_name=model_name,
                                        skops_trusted_types=TRUSTED_TYPES, **extra)
    return model, info
