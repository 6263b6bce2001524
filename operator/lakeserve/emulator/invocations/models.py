"""MLflow models of registry versions, resolved and loaded once per (model, version, source).

A version's ``source`` (``models:/m-...``, ``models:/<name>/<version>``, ``runs:/...``, a
``file://`` URI or a path) is resolved through an MLflow client on the emulator's own registry
(MLflow would resolve ``models:/`` URIs on its global tracking URI), then loaded as a pyfunc model.
Loading is blocking and slow (seconds): callers run :meth:`ModelStore.get` in a worker thread.
Concurrent callers for the same model wait for one load; failures are remembered too (a version's
source never changes), until :meth:`clear`.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlflow import MlflowClient

from lakeserve.emulator import featurespec
from lakeserve.emulator.featurespec import FeatureSpec

MODELS_SCHEME = "models:/"
RUNS_SCHEME = "runs:/"


class ModelLoadError(Exception):
    """The version's source is not a loadable MLflow model."""


@dataclass
class LoadedModel:
    entity_name: str
    entity_version: str
    uri: str  # "" when the version was registered without artifacts
    pyfunc: Any = None  # mlflow.pyfunc.PyFuncModel; None when there is nothing to load
    input_schema: Any = None  # mlflow.types.Schema or None (no signature)
    load_seconds: float = 0.0
    feature_spec: FeatureSpec | None = None  # logged with feature lookups (see featurespec)

    @property
    def has_artifacts(self) -> bool:
        return self.pyfunc is not None


@dataclass
class _Entry:
    lock: threading.Lock = field(default_factory=threading.Lock)
    model: LoadedModel | None = None
    error: ModelLoadError | None = None


Loader = Callable[[str], Any]  # a resolved URI -> a pyfunc model


class ModelStore:
    def __init__(self, registry_uri: str, loader: Loader | None = None):
        self.registry_uri = registry_uri
        self._loader = loader or self._load_pyfunc
        self._client: MlflowClient | None = None
        self._entries: dict[tuple[str, str, str], _Entry] = {}
        self._lock = threading.Lock()

    def get(self, entity_name: str, entity_version: str) -> LoadedModel:
        """The loaded model of a registry version (blocking); raises :class:`ModelLoadError`."""
        uri = self.resolve(entity_name, entity_version)
        key = (entity_name, str(entity_version), uri)
        with self._lock:
            entry = self._entries.setdefault(key, _Entry())
        with entry.lock:  # one load per key; later callers find the result
            if entry.model is None and entry.error is None:
                self._fill(entry, entity_name, str(entity_version), uri)
        if entry.error is not None:
            raise entry.error
        assert entry.model is not None
        return entry.model

    def resolve(self, entity_name: str, entity_version: str) -> str:
        """Where the version's artifacts are ("" when it has none)."""
        try:
            return self._registry().get_model_version_download_uri(entity_name,
                                                                   str(entity_version)) or ""
        except Exception as exc:  # noqa: BLE001 - any registry failure fails the deployment
            raise ModelLoadError(f"Could not look up model version {entity_version} of "
                                 f"'{entity_name}' in the registry: {exc}") from None

    def loaded(self) -> list[dict[str, Any]]:
        with self._lock:
            items = list(self._entries.items())
        return [{"entity_name": name, "entity_version": version, "uri": uri,
                 "state": _state(entry), "error": str(entry.error) if entry.error else None,
                 "load_seconds": entry.model.load_seconds if entry.model else None}
                for (name, version, uri), entry in items]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _fill(self, entry: _Entry, name: str, version: str, uri: str) -> None:
        if not uri:
            entry.model = LoadedModel(name, version, uri)
            return
        started = time.monotonic()
        try:
            pyfunc = self._loader(uri)
            schema = pyfunc.metadata.get_input_schema() if getattr(pyfunc, "metadata", None) \
                else None
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - whatever the flavor raises
            entry.error = ModelLoadError(f"{type(exc).__name__}: {exc}")
            return
        entry.model = LoadedModel(name, version, uri, pyfunc, schema,
                                  time.monotonic() - started, self._feature_spec(uri))

    def _feature_spec(self, uri: str) -> FeatureSpec | None:
        """The model's feature spec, if it was logged with one (only that file is fetched)."""
        import mlflow.artifacts

        location = self.artifact_uri(uri).rstrip("/") + "/" + featurespec.FILE_NAME
        try:
            path = mlflow.artifacts.download_artifacts(artifact_uri=location,
                                                       tracking_uri=self.registry_uri)
        except Exception:  # noqa: BLE001 - no such file: a plain model
            return None
        return featurespec.load(Path(path).parent)

    def _registry(self) -> MlflowClient:
        if self._client is None:
            self._client = MlflowClient(tracking_uri=self.registry_uri,
                                        registry_uri=self.registry_uri)
        return self._client

    def _load_pyfunc(self, uri: str) -> Any:
        import mlflow.artifacts
        import mlflow.pyfunc

        uri = self.artifact_uri(uri)
        if uri.startswith(RUNS_SCHEME):
            uri = mlflow.artifacts.download_artifacts(artifact_uri=uri,
                                                      tracking_uri=self.registry_uri)
        return mlflow.pyfunc.load_model(uri)

    def artifact_uri(self, uri: str) -> str:
        """``models:/`` URIs resolved on this registry (MLflow would use its global one)."""
        for _ in range(5):  # a version's source may name another version
            if not uri.startswith(MODELS_SCHEME):
                return uri
            reference = uri[len(MODELS_SCHEME):].strip("/")
            if reference.startswith("m-"):  # a logged model: models:/m-<id>
                return self._registry().get_logged_model(reference).artifact_location
            name, _, version = reference.rpartition("/")
            uri = self._registry().get_model_version_download_uri(name, version)
        raise ModelLoadError(f"Too many levels of models:/ URIs, last '{uri}'")


def _state(entry: _Entry) -> str:
    if entry.error is not None:
        return "FAILED"
    if entry.model is None:
        return "LOADING"
    return "LOADED" if entry.model.has_artifacts else "NO_ARTIFACTS"
