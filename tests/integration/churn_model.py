"""A small real model for the invocation tests: a DecisionTreeClassifier on churn-like data, logged
with MLflow (signature and input example) into the emulator's tracking store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

FEATURES = ["tenure", "monthly_charges", "contract_months", "senior_citizen"]


def churn_features(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "tenure": rng.integers(0, 73, rows).astype("int64"),
        "monthly_charges": rng.uniform(18.0, 120.0, rows).round(2),
        "contract_months": rng.choice([1, 12, 24], rows).astype("int64"),
        "senior_citizen": rng.integers(0, 2, rows).astype("int64"),
    })[FEATURES]


def log_churn_model(tracking_uri: str, artifacts: Path) -> str:
    """Train and log the model; returns its ``models:/m-...`` URI."""
    import mlflow
    from mlflow.models import infer_signature
    from sklearn.tree import DecisionTreeClassifier

    features = churn_features(2000, seed=1)
    churned = ((features.tenure < 12) & (features.contract_months == 1)) \
        | (features.monthly_charges > 100)
    model = DecisionTreeClassifier(max_depth=4, random_state=0).fit(features, churned.astype(int))
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(tracking_uri)
    try:
        experiment = mlflow.create_experiment("churn-integration",
                                              artifact_location=artifacts.as_uri())
        with mlflow.start_run(experiment_id=experiment):
            info = mlflow.sklearn.log_model(
                model, name="model", signature=infer_signature(features, model.predict(features)),
                input_example=features.head(3), skops_trusted_types=["sklearn.tree._tree.Tree"])
    finally:
        mlflow.set_tracking_uri(previous)
    return info.model_uri
