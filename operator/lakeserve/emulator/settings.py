"""Tunables of a running emulator, read and changed through ``/_emulator/settings``.

Besides delays and limits, a few settings choose between plausible answers of a real workspace
where no source says which one it gives (``FIDELITY_CHOICES``); docs/fidelity.md names the
behaviour each one stands for, and the e2e tests run the affected flow under every value.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from typing import Any

from lakeserve.emulator.errors import invalid


MLFLOW_UC_ARTIFACTS = ("files_api", "presigned_urls")


@dataclass
class WriteLimit:
    # Databricks documents 50 endpoint create/update operations per 5 minutes per workspace.
    limit: int = 50
    window_seconds: float = 300.0


# Setting -> the answers it can choose between (the first is the default).
FIDELITY_CHOICES: dict[str, tuple[str, ...]] = {
    # How the retired legacy online-tables API answers: seeded tables stay readable, or every
    # route is refused like a retired API (501 NOT_IMPLEMENTED, 400 FEATURE_DISABLED, 404, 410).
    "legacy_online_tables": ("available", "not_implemented", "feature_disabled", "not_found",
                             "gone"),
    # How GET returns the AI gateway: the inference table prefix defaulted to the endpoint name,
    # or left out; or also every part that was never set, switched off.
    "ai_gateway_echo": ("prefix_filled", "prefix_omitted", "defaults_filled"),
    # Whether tags, AI gateway, notifications and rate-limit writes are refused (409) while a
    # config update is in progress, as the telemetry-config write is.
    "writes_while_updating": ("refuse", "accept"),
    # Whether a failed config update stays visible in pending_config after UPDATE_FAILED.
    "failed_update_pending_config": ("keep", "clear"),
    # The order GET lists served entities in (Databricks' is not documented).
    "served_entities_order": ("as_sent", "reversed"),
    # When a TRIGGERED/CONTINUOUS synced table's source has no Change Data Feed: the create is
    # refused, or the table is created and its first sync fails.
    "change_data_feed_missing": ("refuse_create", "fail_sync"),
    # How start_update is refused while the pipeline has an active update (the SDK docstring
    # says only that "the request will fail").
    "pipeline_update_running": ("resource_conflict", "invalid_state"),
    # Whether MLflow's UC client is told to move model files through the Files API, or through
    # temporary credentials and presigned URLs (a workspace's answer to
    # is-databricks-sdk-models-artifact-repository-enabled).
    "mlflow_uc_artifacts": MLFLOW_UC_ARTIFACTS,
    # How GET returns a feature spec: the body as sent, or normalized (feature_names filled in,
    # default_values and rename_outputs reordered).
    "feature_spec_echo": ("as_sent", "filled"),
}


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
    # How long a finished statement can still be read; then GET answers 404 (the SDK's
    # get_statement docstring: "After at least 12 hours in terminal state ...").
    statement_retention_seconds: float = 12 * 3600.0
    legacy_online_tables: str = "available"
    ai_gateway_echo: str = "prefix_filled"
    writes_while_updating: str = "refuse"
    failed_update_pending_config: str = "keep"
    served_entities_order: str = "as_sent"
    change_data_feed_missing: str = "refuse_create"
    pipeline_update_running: str = "resource_conflict"
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
                 "statement_seconds", "statement_retention_seconds"):
        setattr(settings, key, _number(key, value, minimum=0))
    elif key == "oauth_token_seconds":
        setattr(settings, key, _number(key, value, minimum=1))
    elif key == "inference_table_flush_seconds":
        setattr(settings, key, _number(key, value, minimum=0.01))
    elif key == "call_log_max":
        setattr(settings, key, int(_number(key, value, minimum=1, integer=True)))
    elif key in FIDELITY_CHOICES:
        setattr(settings, key, _choice(key, value))
    elif key == "user_name":
        if not isinstance(value, str) or not value:
            raise invalid("user_name must be a non-empty string")
        settings.user_name = value
    else:
        raise invalid(f"Unknown setting '{key}'")


def _choice(name: str, value: Any) -> str:
    allowed = FIDELITY_CHOICES[name]
    if value not in allowed:
        raise invalid(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


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
