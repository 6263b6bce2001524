"""A small vocabulary for what went wrong talking to Databricks, and what to do about it.

The SDK raises a zoo of exceptions (``DatabricksError`` subclasses by status and error code, a
builtin ``TimeoutError`` when its retry budget runs out, ``requests`` errors, ``ValueError`` from
auth). The engine only needs to know whether to wait and retry, to stop and ask for a spec change,
or to treat the object as missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

import requests
from databricks.sdk import errors as sdk_errors

from lakeserve.redact import redact


class FailureKind(str, Enum):
    NOT_FOUND = "NotFound"
    ALREADY_EXISTS = "AlreadyExists"
    CONFLICT = "Conflict"  # e.g. an update is already in progress
    THROTTLED = "Throttled"
    TRANSIENT = "Transient"
    PERMANENT = "Permanent"  # the workspace refused the request as it stands
    UNAUTHENTICATED = "Unauthenticated"  # 401: the credentials themselves were refused
    PERMISSION_DENIED = "PermissionDenied"  # 403: a valid identity lacks a permission

    @property
    def retryable(self) -> bool:
        return self in (FailureKind.CONFLICT, FailureKind.THROTTLED, FailureKind.TRANSIENT)


@dataclass(frozen=True)
class Failure:
    kind: FailureKind
    message: str
    error_code: str | None = None
    retry_after: float | None = None


class RetryDeferred(Exception):
    """Raised instead of sleeping inside the SDK: the caller requeues after ``seconds``."""

    def __init__(self, seconds: float):
        super().__init__(f"Databricks asked to retry after {seconds:.0f}s")
        self.seconds = seconds


class SpecError(Exception):
    """The spec cannot be satisfied as written; only a spec (or workspace) change helps."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


_BY_CODE = {
    "RESOURCE_DOES_NOT_EXIST": FailureKind.NOT_FOUND,
    "NOT_FOUND": FailureKind.NOT_FOUND,
    "RESOURCE_ALREADY_EXISTS": FailureKind.ALREADY_EXISTS,
    "ALREADY_EXISTS": FailureKind.ALREADY_EXISTS,
    "RESOURCE_CONFLICT": FailureKind.CONFLICT,
    "ABORTED": FailureKind.CONFLICT,
    # Refused because the object is busy (e.g. an endpoint whose config is updating): requeue.
    "INVALID_STATE": FailureKind.CONFLICT,
    "REQUEST_LIMIT_EXCEEDED": FailureKind.THROTTLED,
    "RESOURCE_EXHAUSTED": FailureKind.THROTTLED,
    "TEMPORARILY_UNAVAILABLE": FailureKind.TRANSIENT,
    "INTERNAL_ERROR": FailureKind.TRANSIENT,
    "DEADLINE_EXCEEDED": FailureKind.TRANSIENT,
    "PERMISSION_DENIED": FailureKind.PERMISSION_DENIED,
    "UNAUTHENTICATED": FailureKind.UNAUTHENTICATED,
}

_BY_CLASS: list[tuple[type[BaseException], FailureKind]] = [
    (sdk_errors.NotFound, FailureKind.NOT_FOUND),
    (sdk_errors.ResourceAlreadyExists, FailureKind.ALREADY_EXISTS),
    (sdk_errors.ResourceConflict, FailureKind.CONFLICT),
    (sdk_errors.TooManyRequests, FailureKind.THROTTLED),
    (sdk_errors.TemporarilyUnavailable, FailureKind.TRANSIENT),
    (sdk_errors.InternalError, FailureKind.TRANSIENT),
    (sdk_errors.DeadlineExceeded, FailureKind.TRANSIENT),
    (sdk_errors.Unauthenticated, FailureKind.UNAUTHENTICATED),
    (sdk_errors.PermissionDenied, FailureKind.PERMISSION_DENIED),
    (sdk_errors.BadRequest, FailureKind.PERMANENT),
]


def classify(exc: BaseException) -> Failure:
    """Map any exception from an SDK call to a Failure with a redacted message."""
    if isinstance(exc, RetryDeferred):
        return Failure(FailureKind.THROTTLED, str(exc), retry_after=exc.seconds)
    if isinstance(exc, TimeoutError):
        return _classify_timeout(exc)
    if isinstance(exc, sdk_errors.DatabricksError):
        return _classify_api_error(exc)
    if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        return Failure(FailureKind.TRANSIENT, _message(exc, "cannot reach the workspace"))
    return Failure(FailureKind.PERMANENT, _message(exc, type(exc).__name__))


def _classify_api_error(exc: sdk_errors.DatabricksError) -> Failure:
    code = exc.error_code
    kind = _BY_CODE.get(code or "")
    if kind is None:
        kind = next((k for cls, k in _BY_CLASS if isinstance(exc, cls)), None)
    if kind is None:
        kind = FailureKind.TRANSIENT if _looks_server_side(exc) else FailureKind.PERMANENT
    retry_after = getattr(exc, "retry_after_secs", None)
    return Failure(kind, _message(exc, code or "request failed"), error_code=code,
                   retry_after=float(retry_after) if retry_after else None)


def _classify_timeout(exc: TimeoutError) -> Failure:
    """The SDK's retry budget ran out; what it kept retrying is the cause."""
    cause = exc.__cause__
    if cause is None or isinstance(cause, TimeoutError):
        return Failure(FailureKind.TRANSIENT, _message(exc, "timed out"))
    inner = classify(cause)
    if inner.kind in (FailureKind.THROTTLED, FailureKind.TRANSIENT):
        return inner
    return Failure(FailureKind.TRANSIENT, inner.message, inner.error_code, inner.retry_after)


def _looks_server_side(exc: sdk_errors.DatabricksError) -> bool:
    return isinstance(exc, (sdk_errors.InternalError, sdk_errors.TemporarilyUnavailable))


def _message(exc: BaseException, fallback: str) -> str:
    text = without_config_dump(str(exc)) or fallback
    first_line = text.splitlines()[0] if text else fallback
    return redact(first_line)


# The SDK appends its configuration to 401/403 messages and to auth errors
# (``Config.wrap_debug_info``: "<message>. Config: host=..., account_id=... Env: ..."): hosts,
# account and workspace ids and discovery URLs, which help nobody in a condition or an event.
_CONFIG_DUMP = re.compile(r"(^|\.\s+)(Config|Env): .*", re.S)


def without_config_dump(text: str) -> str:
    """``text`` without the SDK's configuration dump, trimmed."""
    return _CONFIG_DUMP.sub("", text.strip()).strip()
