"""Tunables of a running emulator, read and changed through ``/_emulator/settings``."""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from typing import Any

from lakeserve.emulator.errors import invalid


MLFLOW_UC_ARTIFACTS = ("files_api", "presigned_urls")
FEATURE_SPEC_ECHOES = ("as_sent", "filled")


@dataclass
class WriteLimit:
    # Databricks documents 50 endpoint create/update operations per 5 minutes per workspace.
    limit: int = 50
    window_seconds: float = 300.0


@dataclass
class EmulatorSettings:
    # How long a serving endpoint's creation / config update stays IN_PROGRESS.
    serving_create_seconds: float = 3.0
    serving_update_seconds: float = 3.0
    write_limit: WriteLimit = field(default_factory=WriteLimit)
    # Added to every API request (not /_emulator/), to look like a remote workspace.
    latency_seconds: float = 0.0
    # Who a personal access token belongs to: the creator of what it creates.
    user_name: str = "emulator-user@lakeserve.dev"
    # Lifetime of OAuth access tokens issued by /oidc/v1/token.
    oauth_token_seconds: float = 3600.0
    # Oldest calls are dropped beyond this many log entries.
    call_log_max: int = 100_000
    # How often buffered inference-table rows are appended to their Delta tables.
    inference_table_flush_seconds: float = 0.5
    # Feature side: a database instance's STARTING/UPDATING time; a synced table's pipeline
    # provisioning and initial snapshot; one pipeline update (triggered or continuous pick-up);
    # how long a SQL statement runs before it takes effect.
    database_instance_seconds: float = 1.0
    synced_table_provision_seconds: float = 1.0
    synced_table_snapshot_seconds: float = 1.0
    pipeline_update_seconds: float = 1.0
    statement_seconds: float = 0.2
    # How MLflow's databricks-uc client moves model files: "files_api" (the answer to its
    # is-databricks-sdk-models-artifact-repository-enabled question is true) or "presigned_urls"
    # (false: it asks for temporary credentials, gets DEFAULT_STORAGE and uses presigned URLs).
    mlflow_uc_artifacts: str = "files_api"
    # What GET of a feature spec answers: "as_sent" (the created body) or "filled" (feature_names
    # filled in when omitted, default_values and rename_outputs reordered). Databricks' answer is
    # not documented; operators must not read either as a change.
    feature_spec_echo: str = "as_sent"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def copy(self) -> EmulatorSettings:
        return copy.deepcopy(self)

    def update(self, changes: dict[str, Any]) -> None:
        """Apply a partial update; validates everything before changing anything."""
        candidate = self.copy()
        for key, value in changes.items():
            _apply(candidate, key, value)
        self.__dict__.update(candidate.__dict__)


def _apply(settings: EmulatorSettings, key: str, value: Any) -> None:
    if key == "write_limit":
        settings.write_limit = _write_limit(settings.write_limit, value)
    elif key in ("serving_create_seconds", "serving_update_seconds", "latency_seconds",
                 "database_instance_seconds", "synced_table_provision_seconds",
                 "synced_table_snapshot_seconds", "pipeline_update_seconds",
                 "statement_seconds"):
        setattr(settings, key, _number(key, value, minimum=0))
    elif key == "oauth_token_seconds":
        setattr(settings, key, _number(key, value, minimum=1))
    elif key == "inference_table_flush_seconds":
        setattr(settings, key, _number(key, value, minimum=0.01))
    elif key == "call_log_max":
        setattr(settings, key, int(_number(key, value, minimum=1, integer=True)))
    elif key == "mlflow_uc_artifacts":
        if value not in MLFLOW_UC_ARTIFACTS:
            raise invalid(f"mlflow_uc_artifacts must be one of: {', '.join(MLFLOW_UC_ARTIFACTS)}")
        settings.mlflow_uc_artifacts = value
    elif key == "feature_spec_echo":
        if value not in FEATURE_SPEC_ECHOES:
            raise invalid(f"feature_spec_echo must be one of: {', '.join(FEATURE_SPEC_ECHOES)}")
        settings.feature_spec_echo = value
    elif key == "user_name":
        if not isinstance(value, str) or not value:
            raise invalid("user_name must be a non-empty string")
        settings.user_name = value
    else:
        raise invalid(f"Unknown setting '{key}'")


def _write_limit(current: WriteLimit, value: Any) -> WriteLimit:
    if not isinstance(value, dict):
        raise invalid("write_limit must be an object with limit and window_seconds")
    unknown = set(value) - {"limit", "window_seconds"}
    if unknown:
        raise invalid(f"Unknown write_limit field(s): {', '.join(sorted(unknown))}")
    limit = value.get("limit", current.limit)
    window = value.get("window_seconds", current.window_seconds)
    return WriteLimit(limit=int(_number("write_limit.limit", limit, minimum=0, integer=True)),
                      window_seconds=_number("write_limit.window_seconds", window, minimum=0.001))


def _number(name: str, value: Any, *, minimum: float, integer: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise invalid(f"{name} must be a number")
    if integer and int(value) != value:
        raise invalid(f"{name} must be an integer")
    if value < minimum:
        raise invalid(f"{name} must be at least {minimum}")
    return float(value)
