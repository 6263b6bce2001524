"""The retired legacy online-tables API, read only when an object asks for it.

Legacy online tables became inaccessible on 2026-01-15; what the retired routes answer is not
documented (a 501 NOT_IMPLEMENTED, a 400 FEATURE_DISABLED, a 404 or a 410 are all plausible), so
every refusal of that kind means "there is no legacy table", never a reason to stall.
"""

from __future__ import annotations

from typing import Any

from databricks.sdk.errors import (
    BadRequest,
    DatabricksError,
    NotFound,
    NotImplemented,
    PermissionDenied,
)
from databricks.sdk.service.catalog import OnlineTable

from lakeserve.api.common import ADOPT_ANNOTATION
from lakeserve.resources.base import Managed

_RETIRED = (NotFound, BadRequest, PermissionDenied, NotImplemented)


def requested(obj: Managed[Any]) -> bool:
    """The object asks for a legacy table to be adopted, or adopted one before."""
    return obj.annotations.get(ADOPT_ANNOTATION) == "true" or bool(obj.status.get("legacy"))


def is_retired_answer(exc: DatabricksError) -> bool:
    """400/403/404/501, or a status the SDK has no class for (410 Gone)."""
    return isinstance(exc, _RETIRED) or type(exc) is DatabricksError


def read(w: Any, name: str) -> OnlineTable | None:
    try:
        return w.online_tables.get(name)
    except DatabricksError as exc:
        if is_retired_answer(exc):
            return None
        raise


def delete(w: Any, name: str) -> None:
    try:
        w.online_tables.delete(name)
    except DatabricksError as exc:
        if not is_retired_answer(exc):
            raise
