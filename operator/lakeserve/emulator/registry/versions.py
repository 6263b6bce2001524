"""What Unity Catalog says about a version that MLflow's SQLite registry cannot hold itself.

A version created through the MLflow UC protocol is an MLflow version whose ``source`` is its
managed file location (what serving loads), plus reserved tags: the client's own ``source``
(reported back as UC's ``source``), and its registration status while it is not READY (MLflow's
registry knows READY only). Reserved tags are never shown and cannot be set by clients.
"""

from __future__ import annotations

from mlflow.entities.model_registry import ModelVersion

from lakeserve.emulator.errors import invalid

RESERVED_PREFIX = "lakeserve.dev/"
SOURCE_TAG = RESERVED_PREFIX + "source"
STATUS_TAG = RESERVED_PREFIX + "status"
STATUS_MESSAGE_TAG = RESERVED_PREFIX + "status-message"

PENDING = "PENDING_REGISTRATION"
FAILED = "FAILED_REGISTRATION"
READY = "READY"


def status(version: ModelVersion) -> str:
    return (version.tags or {}).get(STATUS_TAG) or version.status or READY


def status_message(version: ModelVersion) -> str:
    return (version.tags or {}).get(STATUS_MESSAGE_TAG) or version.status_message or ""


def source(version: ModelVersion) -> str:
    """The source the client registered (UC's ``source``)."""
    return (version.tags or {}).get(SOURCE_TAG) or version.source or ""


def storage_location(version: ModelVersion) -> str:
    """Where the version's files are (UC's ``storage_location``; what serving loads)."""
    return version.source or ""


def user_tags(version: ModelVersion) -> dict[str, str]:
    return {k: v for k, v in (version.tags or {}).items() if not k.startswith(RESERVED_PREFIX)}


def check_tag_key(key: str) -> None:
    if key.startswith(RESERVED_PREFIX):
        raise invalid(f"Invalid tag key '{key}': keys starting with '{RESERVED_PREFIX}' are "
                      "reserved by the local workspace")
