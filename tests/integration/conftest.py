"""Integration fixtures: one emulator process per session over loopback, reset before each test,
and the real databricks-sdk ``WorkspaceClient`` pointed at it with short timeouts."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.config import Config

from lakeserve.emulator.process import EmulatorProcess

T = TypeVar("T")

OAUTH_CLIENT_ID = "integration-client"
OAUTH_CLIENT_SECRET = "integration-secret-value"

# Quick transitions; tests that need a long IN_PROGRESS window set their own delays.
FAST_SETTINGS = {"serving_create_seconds": 0.3, "serving_update_seconds": 0.3,
                 "database_instance_seconds": 0.2, "synced_table_provision_seconds": 0.2,
                 "synced_table_snapshot_seconds": 0.2, "pipeline_update_seconds": 0.3,
                 "statement_seconds": 0.1}


@pytest.fixture(scope="session")
def emulator_process() -> Iterator[EmulatorProcess]:
    with EmulatorProcess(client_id=OAUTH_CLIENT_ID, client_secret=OAUTH_CLIENT_SECRET) as process:
        yield process


@pytest.fixture
def emulator(emulator_process: EmulatorProcess) -> EmulatorProcess:
    """The session's emulator with everything reset, registry and Delta tables included."""
    emulator_process.control("POST", "/_emulator/reset", {"registry": True, "catalog": True})
    emulator_process.control("PUT", "/_emulator/settings", FAST_SETTINGS)
    return emulator_process


def workspace_client(host: str, **credentials: Any) -> WorkspaceClient:
    """A client that fails fast: short HTTP timeout and a small retry budget."""
    config = Config(host=host, http_timeout_seconds=10, retry_timeout_seconds=15, **credentials)
    return WorkspaceClient(config=config)


@pytest.fixture
def workspace(emulator: EmulatorProcess) -> WorkspaceClient:
    return workspace_client(emulator.host, token=emulator.token, auth_type="pat")


def wait_for(probe: Callable[[], T | None], timeout: float = 20.0, interval: float = 0.05) -> T:
    """Poll until ``probe`` returns something truthy; fail with the last value at the deadline."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s; last value: {last!r}")


class Calls:
    """Reads the emulator's call log from a cursor, so a test sees only its own calls."""

    def __init__(self, emulator: EmulatorProcess):
        self._emulator = emulator
        self._since = emulator.control("GET", "/_emulator/calls")["last_seq"]

    def get(self) -> dict[str, Any]:
        return self._emulator.control("GET", f"/_emulator/calls?since={self._since}")

    def statuses(self, method: str, path: str) -> list[int]:
        return [call["status"] for call in self.get()["calls"]
                if call["method"] == method and call["path"] == path]


@pytest.fixture
def calls(emulator: EmulatorProcess) -> Calls:
    return Calls(emulator)


@pytest.fixture
def model_version(emulator: EmulatorProcess) -> Callable[..., int]:
    """Register a READY version through the control path; returns its number."""
    def register(name: str = "main.default.model", aliases: list[str] | None = None,
                 source: str | None = None) -> int:
        answer = emulator.control("POST", "/_emulator/registry/model-versions",
                                  {"name": name, "aliases": aliases or [], "source": source})
        return answer["version"]
    return register


@pytest.fixture(scope="session")
def churn_model_uri(emulator_process: EmulatorProcess) -> str:
    """A real sklearn model logged once per session into the emulator's tracking store (artifacts
    under its data dir); resets delete registered versions, not logged models."""
    from .churn_model import log_churn_model

    return log_churn_model(emulator_process.registry_uri,
                           emulator_process.data_dir / "mlflow-artifacts")


@pytest.fixture
def sklearn_version(emulator: EmulatorProcess, churn_model_uri: str) -> Callable[..., int]:
    """Register the logged model as a new version with MLflow's own client; returns its number."""
    import mlflow
    from mlflow.exceptions import MlflowException

    client = mlflow.MlflowClient(tracking_uri=emulator.registry_uri,
                                 registry_uri=emulator.registry_uri)

    def register(name: str = "main.default.churn_model", source: str | None = None) -> int:
        try:
            client.create_registered_model(name)
        except MlflowException:
            pass  # registered by an earlier call
        # MLflow resolves a models:/m-... source with the global tracking URI, not the client's.
        previous = mlflow.get_tracking_uri()
        mlflow.set_tracking_uri(emulator.registry_uri)
        try:
            return int(client.create_model_version(name, source=source or churn_model_uri).version)
        finally:
            mlflow.set_tracking_uri(previous)
    return register
