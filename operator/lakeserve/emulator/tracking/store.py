"""The tracking store with Databricks' rules on top of MLflow's SQL store.

Databricks names experiments by absolute workspace paths and has no default experiment ``0``;
experiment artifacts live under ``dbfs:/databricks/mlflow-tracking/<experiment id>``, a logged
model's under ``.../<experiment id>/logged_models/<model id>/artifacts``.
"""

from __future__ import annotations

from mlflow.entities import Experiment, LoggedModel
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

from lakeserve.emulator.errors import invalid, not_found

ARTIFACT_ROOT = "dbfs:/databricks/mlflow-tracking"
TRACKING_ROOT = "/WorkspaceInternal"  # where MLflow's Files API client puts tracking artifacts
DEFAULT_EXPERIMENT_ID = "0"  # MLflow's local default; a Databricks workspace has none


class Tracking:
    def __init__(self, db_uri: str):
        self.store = SqlAlchemyStore(db_uri, ARTIFACT_ROOT)

    def check_experiment_name(self, name: str) -> None:
        """Databricks' answer to a name that is not a workspace path (mlflow/mlflow#8269)."""
        if not name.startswith("/"):
            raise invalid(f"Got an invalid experiment name '{name}'. An experiment name must be "
                          "an absolute path within the Databricks workspace, e.g. "
                          "'/Users/<some-username>/my-experiment'.")

    def create_experiment(self, name: str, tags: list) -> str:
        self.check_experiment_name(name)
        return self.store.create_experiment(name, tags=tags or None)

    def experiment(self, experiment_id: str) -> Experiment:
        if experiment_id == DEFAULT_EXPERIMENT_ID:
            raise not_found(f"Node ID {experiment_id} does not exist.")
        return self.store.get_experiment(experiment_id)

    def experiment_by_name(self, name: str) -> Experiment:
        found = self.store.get_experiment_by_name(name)
        if found is None or found.experiment_id == DEFAULT_EXPERIMENT_ID:
            raise not_found(f"Node {name} does not exist.")
        return found

    def check_run_experiment(self, experiment_id: str) -> None:
        self.experiment(experiment_id or DEFAULT_EXPERIMENT_ID)


def model_proto(model: LoggedModel):
    """The logged model as MLflow's proto, its artifact location in Databricks' form."""
    proto = model.to_proto()
    proto.info.artifact_uri = (f"{ARTIFACT_ROOT}/{model.experiment_id}/logged_models/"
                               f"{model.model_id}/artifacts")
    return proto
