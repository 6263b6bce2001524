"""Training and registering the notebook's models with MLflow, exactly as a Databricks notebook
does: tracking URI ``databricks``, registry URI ``databricks-uc``, credentials from
``DATABRICKS_HOST``/``DATABRICKS_TOKEN`` (here: the local workspace's), models logged with a
signature (Unity Catalog requires one) and registered under their three-level names.

Champion and challenger are DecisionTreeClassifiers on the offline features (Part 1). The online
model (Part 2) is trained on features looked up from the feature table plus the on-demand
feature ``m_charges_avrg`` computed by the FeatureFunction's own Python body, and is logged with
a feature spec so serving looks the features up by ``customerID``.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.models import ModelSignature, infer_signature
from mlflow.tracking import MlflowClient
from sklearn.tree import DecisionTreeClassifier

from lakeserve.demo.data import LABEL, PRIMARY_KEY, ChurnData, training_frame
from lakeserve.emulator import featurespec

EXPERIMENT = "/Shared/lakeserve-demo"  # Databricks names experiments by workspace path
# MLflow stores sklearn models with skops, which loads only types it is told to trust.
TRUSTED_TYPES = ["sklearn.tree._tree.Tree"]


@dataclass(frozen=True)
class Registered:
    name: str
    version: int
    alias: str


class Trainer:
    """Logs and registers models in a Databricks workspace (the local one in the demo)."""

    def __init__(self, host: str, token: str, experiment: str = EXPERIMENT):
        self.host = host
        self.token = token
        self.experiment = experiment

    def session(self) -> contextlib.AbstractContextManager[None]:
        return databricks_session(self.host, self.token, self.experiment)

    def train_offline(self, data: ChurnData, model_name: str, alias: str,
                      random_state: int, max_depth: int | None = None) -> Registered:
        """Part 1: a tree on the offline features, like the notebook's fit_and_register_model."""
        X, y = training_frame(data)
        model = DecisionTreeClassifier(random_state=random_state, max_depth=max_depth).fit(X, y)
        with _quiet(), self.session():
            with mlflow.start_run(run_name=f"Train_DecisionTree_{random_state}"):
                info = mlflow.sklearn.log_model(
                    model, name="ml_model", signature=infer_signature(X, model.predict(X)),
                    input_example=X.iloc[[0]], registered_model_name=model_name,
                    skops_trusted_types=TRUSTED_TYPES)
            return self._alias(model_name, info.registered_model_version, alias)

    def log_offline(self, data: ChurnData, random_state: int = 1) -> str:
        """A tree on the offline features, logged but not registered: its ``runs:/`` URI, which
        :meth:`register` turns into any number of versions without training again."""
        X, y = training_frame(data)
        model = DecisionTreeClassifier(random_state=random_state, max_depth=2).fit(X, y)
        with _quiet(), self.session():
            with mlflow.start_run(run_name=f"Train_DecisionTree_{random_state}"):
                info = mlflow.sklearn.log_model(
                    model, name="ml_model", signature=infer_signature(X, model.predict(X)),
                    skops_trusted_types=TRUSTED_TYPES)
        return info.model_uri

    def register(self, model_uri: str, model_name: str, aliases: list[str] = ()) -> int:
        """A new version of ``model_name`` from a logged model, with ``aliases`` pointing at it."""
        with _quiet(), self.session():
            version = int(mlflow.register_model(model_uri, model_name).version)
            for alias in aliases:
                self._alias(model_name, version, alias)
        return version

    def train_online(self, data: ChurnData, model_name: str, alias: str, feature_table: str,
                     function_name: str, function_body: str, function_params: list[str],
                     random_state: int = 20) -> Registered:
        """Part 2: features looked up by customerID plus m_charges_avrg, logged with a spec."""
        compute = python_function(function_body, function_params)
        lookups = [c for c in data.features.columns if c != PRIMARY_KEY]
        X, y = self._online_training_set(data, lookups, compute, function_params)
        model = DecisionTreeClassifier(random_state=random_state).fit(X, y)
        spec_lookups = [featurespec.Lookup(c, feature_table, (PRIMARY_KEY,), c) for c in lookups]
        spec_function = featurespec.OnDemand("m_charges_avrg", function_name,
                                             {p: p for p in function_params})

        def save(path: Path) -> None:
            mlflow.sklearn.save_model(model, path, signature=infer_signature(X, y),
                                      input_example=X.iloc[[0]],
                                      skops_trusted_types=TRUSTED_TYPES)
        return self._register_with_spec(save, model_name, alias, spec_lookups, [spec_function],
                                        f"Train_DecisionTree_online_{random_state}")

    def log_with_feature_spec(self, python_model: mlflow.pyfunc.PythonModel, model_name: str,
                              alias: str, lookups: list[featurespec.Lookup],
                              functions: list[featurespec.OnDemand],
                              signature: ModelSignature) -> Registered:
        """Any pyfunc model, served with feature lookups keyed by customerID."""
        def save(path: Path) -> None:
            mlflow.pyfunc.save_model(path, python_model=python_model, signature=signature)
        return self._register_with_spec(save, model_name, alias, lookups, functions,
                                        f"{alias}_with_feature_spec")

    def _register_with_spec(self, save: Callable[[Path], None], model_name: str, alias: str,
                            lookups: list[featurespec.Lookup],
                            functions: list[featurespec.OnDemand], run_name: str) -> Registered:
        """Save the model, add its feature spec, log it and register it (like fe.log_model)."""
        with tempfile.TemporaryDirectory() as tmp, _quiet(), self.session():
            with mlflow.start_run(run_name=run_name) as run:
                path = Path(tmp) / "model"
                save(path)
                featurespec.write(path, [PRIMARY_KEY], lookups, functions, [PRIMARY_KEY])
                mlflow.log_artifacts(str(path), artifact_path="model")
            version = mlflow.register_model(f"runs:/{run.info.run_id}/model", model_name).version
            return self._alias(model_name, version, alias)

    def _online_training_set(self, data: ChurnData, lookups: list[str],
                             compute: Callable[..., float],
                             params: list[str]) -> tuple[pd.DataFrame, pd.Series]:
        joined = data.response.merge(data.features, on=PRIMARY_KEY, how="inner")
        X = joined[lookups].copy()
        X["m_charges_avrg"] = [compute(**{p: row[p] for p in params})
                               for _, row in joined[params].iterrows()]
        return X, joined[LABEL]

    def _alias(self, model_name: str, version: int | str, alias: str) -> Registered:
        MlflowClient().set_registered_model_alias(model_name, alias, str(version))
        return Registered(model_name, int(version), alias)


@contextlib.contextmanager
def databricks_session(host: str, token: str, experiment: str) -> Iterator[None]:
    """MLflow as in a Databricks notebook, against ``host``; everything restored afterwards."""
    names = ("DATABRICKS_HOST", "DATABRICKS_TOKEN")
    saved = {name: os.environ.get(name) for name in names}
    uris = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    os.environ.update(DATABRICKS_HOST=host, DATABRICKS_TOKEN=token)
    try:
        mlflow.set_tracking_uri("databricks")
        mlflow.set_registry_uri("databricks-uc")
        mlflow.set_experiment(experiment)
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        mlflow.set_tracking_uri(uris[0])
        mlflow.set_registry_uri(uris[1])


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """MLflow prints run links and registration progress; the caller reports its own way."""
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        yield


def python_function(body: str, params: list[str]) -> Callable[..., float]:
    """A FeatureFunction's body as a Python callable, exactly as it is registered."""
    source = f"def _feature({', '.join(params)}):\n" + textwrap.indent(textwrap.dedent(body),
                                                                         "    ")
    namespace: dict = {}
    exec(compile(source, "<feature function>", "exec"), namespace)  # noqa: S102 - our own body
    return namespace["_feature"]
