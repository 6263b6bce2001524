"""The notebook's MLflow calls, unchanged: train, log with a signature, register in Unity
Catalog, set an alias, load by alias. DATABRICKS_HOST and DATABRICKS_TOKEN decide where they go:
a Databricks workspace or the local one (``lakeserve emulator``).

    python examples/notebook_mlflow.py [catalog.schema.model]
"""

import json
import sys

import mlflow
import pandas as pd
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient
from sklearn.tree import DecisionTreeClassifier

model_name = sys.argv[1] if len(sys.argv) > 1 else "main.churn.ml_model"

mlflow.set_tracking_uri("databricks")  # implicit in a notebook
mlflow.set_registry_uri("databricks-uc")
mlflow.set_experiment("/Shared/churn-notebook")

X = pd.DataFrame({"tenure": [1.0, 3.0, 8.0, 24.0, 36.0, 60.0, 2.0, 48.0],
                  "MonthlyCharges": [95.0, 89.5, 70.2, 55.0, 42.1, 20.0, 99.9, 25.3]})
y = pd.Series(["Yes", "Yes", "Yes", "No", "No", "No", "Yes", "No"])

with mlflow.start_run(run_name="Train_DecisionTree"):
    model = DecisionTreeClassifier(max_depth=3, random_state=42).fit(X, y)
    mlflow.log_param("max_depth", 3)
    mlflow.log_metric("train_accuracy", model.score(X, y))
    info = mlflow.sklearn.log_model(model, name="ml_model",
                                    signature=infer_signature(X, model.predict(X)),
                                    input_example=X.iloc[[0]],
                                    registered_model_name=model_name)

client = MlflowClient()
client.set_registered_model_alias(model_name, "champion", info.registered_model_version)
champion = client.get_model_version_by_alias(name=model_name, alias="champion").version

loaded = mlflow.pyfunc.load_model(f"models:/{model_name}@champion")
records = X.iloc[:4].to_dict(orient="records")
print(json.dumps({"model": model_name, "version": champion, "records": records,
                  "predictions": [str(p) for p in loaded.predict(pd.DataFrame(records))]}))
