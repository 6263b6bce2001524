"""The notebook's scenario, step by step, against an Environment.

Part 1: champion and challenger served 50/50 by alias, queried in batches of 100, predictions
counted per served model, requests captured in an inference table. Part 2: a feature function
and an online copy of the feature table, and a model that looks its features up by customerID.
Appendix (Feature Serving): the same features as a feature spec, served on their own and queried
by customerID.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import yaml
from databricks.sdk.service.catalog import PrimaryKeyConstraint, TableConstraint
from databricks.sdk.service.database import DatabaseInstance

from lakeserve.demo.data import PRIMARY_KEY, ChurnData, generate, training_frame
from lakeserve.demo.environment import EXAMPLES, Environment
from lakeserve.demo.training import Registered, Trainer

CATALOG, SCHEMA = "main", "churn"
FEATURES = f"{CATALOG}.{SCHEMA}.features"
RESPONSE = f"{CATALOG}.{SCHEMA}.response"
MODEL = f"{CATALOG}.{SCHEMA}.ml_model"
DATABASE_INSTANCE = "churn-lakebase"
MANIFESTS = ["feature-function.yaml", "online-table.yaml", "serving-endpoint-ab.yaml",
             "serving-endpoint-online.yaml", "feature-spec.yaml",
             "serving-endpoint-features.yaml"]
AB_ENDPOINT, ONLINE_ENDPOINT, FEATURE_ENDPOINT = "churn-ab", "churn-online", "churn-features"


@dataclass
class ABResult:
    """Predictions of the 50/50 endpoint and which served model answered each request."""

    predictions: list[Any] = field(default_factory=list)
    models: list[str] = field(default_factory=list)  # one per prediction
    requests: list[str] = field(default_factory=list)  # one per request

    def table(self) -> pd.DataFrame:
        frame = pd.DataFrame({"model_served": self.models, "prediction": self.predictions})
        return frame.groupby(["model_served", "prediction"]).size().reset_index(name="count")


@dataclass
class DemoResult:
    models: list[Registered]
    ab: ABResult
    online_predictions: list[Any]
    features: pd.DataFrame
    inference_table: str
    inference_rows: int
    inference_path: str


class Scenario:
    def __init__(self, env: Environment, say, customers: int = 2000):
        self.env = env
        self.say = say
        self.data: ChurnData = generate(customers)
        self.function = yaml.safe_load((EXAMPLES / "feature-function.yaml").read_text())["spec"]

    # ---- set-up --------------------------------------------------------------------------

    def seed_tables(self) -> None:
        emulator = self.env.emulator
        for name, frame in ((FEATURES, self.data.features), (RESPONSE, self.data.response)):
            rows = json.loads(frame.to_json(orient="records"))
            emulator.control("POST", "/_emulator/catalog/tables",
                             {"name": name, "rows": rows, "mode": "overwrite"})
        # What makes it a feature table (the notebook's ALTER TABLE ... ADD CONSTRAINT).
        self.env.workspace.table_constraints.create(FEATURES, TableConstraint(
            primary_key_constraint=PrimaryKeyConstraint(name="features_pk",
                                                        child_columns=[PRIMARY_KEY])))
        self.say(f"Delta tables {FEATURES} ({len(self.data.features)} rows, "
                 f"{len(self.data.features.columns) - 1} features, primary key {PRIMARY_KEY}) "
                 f"and {RESPONSE}")

    def create_database_instance(self) -> None:
        w = self.env.workspace
        w.database.create_database_instance(DatabaseInstance(name=DATABASE_INSTANCE,
                                                             capacity="CU_1"))
        deadline = time.monotonic() + 60
        while w.database.get_database_instance(DATABASE_INSTANCE).state.value != "AVAILABLE":
            if time.monotonic() > deadline:
                raise TimeoutError(f"database instance {DATABASE_INSTANCE} is not AVAILABLE")
            time.sleep(0.5)
        self.say(f"Lakebase database instance {DATABASE_INSTANCE} (for the online table)")

    def trainer(self) -> Trainer:
        return Trainer(self.env.emulator.host, self.env.emulator.token)

    def function_name(self) -> str:
        return f"{self.function['catalog']}.{self.function['schema']}.{self.function['name']}"

    def train(self) -> list[Registered]:
        trainer = self.trainer()
        params = [p["name"] for p in self.function["parameters"]]
        function_name = self.function_name()
        models = [
            trainer.train_offline(self.data, MODEL, "champion", random_state=42),
            trainer.train_offline(self.data, MODEL, "challenger", random_state=10, max_depth=5),
            trainer.train_online(self.data, MODEL, "online", FEATURES, function_name,
                                 self.function["body"], params),
        ]
        for model in models:
            self.say(f"{model.name} version {model.version} @{model.alias}")
        return models

    # ---- manifests -----------------------------------------------------------------------

    def apply_examples(self) -> list[tuple[str, str]]:
        objects = []
        for file in MANIFESTS:
            manifest = yaml.safe_load((EXAMPLES / file).read_text())
            self.env.apply(EXAMPLES / file)
            objects.append((manifest["kind"], manifest["metadata"]["name"]))
            self.say(f"kubectl apply -f examples/{file}")
        return objects

    # ---- queries -------------------------------------------------------------------------

    def ab_rows(self, records: int) -> list[dict[str, Any]]:
        """The notebook's sample: feature records without the id (X_train_pdf.iloc[:n])."""
        X, _ = training_frame(self.data)
        return json.loads(X.iloc[:records].to_json(orient="records"))

    def query_ab(self, records: int = 1000, batch_size: int = 100) -> ABResult:
        """The notebook's loop: batches of 100, served model name per prediction."""
        rows = self.ab_rows(records)
        result = ABResult()
        for start in range(0, len(rows), batch_size):
            response = self.env.workspace.serving_endpoints.query(
                name=AB_ENDPOINT, dataframe_records=rows[start:start + batch_size])
            result.predictions.extend(response.predictions)
            result.models.extend([response.served_model_name] * len(response.predictions))
            result.requests.append(response.served_model_name)
        return result

    def query_online(self, ids: list[str]) -> list[Any]:
        response = self.env.workspace.serving_endpoints.query(
            name=ONLINE_ENDPOINT, dataframe_records=[{PRIMARY_KEY: i} for i in ids])
        return response.predictions

    def query_features(self, ids: list[str]) -> pd.DataFrame:
        """The appendix: features of these customers from the feature serving endpoint."""
        response = self.env.workspace.serving_endpoints.query(
            name=FEATURE_ENDPOINT, dataframe_records=[{PRIMARY_KEY: i} for i in ids])
        return pd.DataFrame(response.outputs, index=pd.Index(ids, name=PRIMARY_KEY))

    def customer_ids(self, count: int = 1000) -> list[str]:
        return list(self.data.features[PRIMARY_KEY].iloc[:count])

    def inference_table(self) -> tuple[str, int, str]:
        emulator = self.env.emulator
        emulator.control("POST", "/_emulator/inference-tables/flush")
        spec = yaml.safe_load((EXAMPLES / "serving-endpoint-ab.yaml").read_text())["spec"]
        capture = spec["config"]["autoCaptureConfig"]
        name = f"{capture['catalogName']}.{capture['schemaName']}.{capture['tableNamePrefix']}" \
               f"_payload"
        tables = emulator.control("GET", "/_emulator/inference-tables")
        rows = _rows_of(tables, name)
        path = emulator.data_dir / "catalog" / capture["catalogName"] / capture["schemaName"] / \
            f"{capture['tableNamePrefix']}_payload"
        return name, rows, str(path)

    # ---- clean-up ------------------------------------------------------------------------

    def delete_examples(self) -> None:
        for file in reversed(MANIFESTS):
            manifest = yaml.safe_load((EXAMPLES / file).read_text())
            self.env.delete(manifest["kind"].lower(), manifest["metadata"]["name"])


def _rows_of(listing: Any, name: str) -> int:
    """Row count of one table in the emulator's inference-table listing."""
    tables = listing.get("tables", listing) if isinstance(listing, dict) else listing
    for table in tables:
        if table.get("name") == name or table.get("table") == name:
            return int(table.get("rows", table.get("row_count", 0)))
    return 0
