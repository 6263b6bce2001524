"""Databricks-style API errors: ``{"error_code": ..., "message": ...}`` with the matching status.

Handlers raise :class:`ApiError`; the app turns it into the JSON body the databricks-sdk parses into
its error classes (``INVALID_PARAMETER_VALUE`` -> ``InvalidParameterValue`` and so on).
"""

from __future__ import annotations

import json
import math

# Error codes as Databricks spells them.
MALFORMED_REQUEST = "MALFORMED_REQUEST"
INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"
RESOURCE_DOES_NOT_EXIST = "RESOURCE_DOES_NOT_EXIST"
RESOURCE_ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"
RESOURCE_CONFLICT = "RESOURCE_CONFLICT"
REQUEST_LIMIT_EXCEEDED = "REQUEST_LIMIT_EXCEEDED"
UNAUTHENTICATED = "UNAUTHENTICATED"
PERMISSION_DENIED = "PERMISSION_DENIED"
ENDPOINT_NOT_FOUND = "ENDPOINT_NOT_FOUND"
INTERNAL_ERROR = "INTERNAL_ERROR"
TEMPORARILY_UNAVAILABLE = "TEMPORARILY_UNAVAILABLE"

# The code an injected fault gets when only its status is given.
DEFAULT_CODE_BY_STATUS = {
    400: INVALID_PARAMETER_VALUE,
    401: UNAUTHENTICATED,
    403: PERMISSION_DENIED,
    404: RESOURCE_DOES_NOT_EXIST,
    409: RESOURCE_CONFLICT,
    429: REQUEST_LIMIT_EXCEEDED,
    500: INTERNAL_ERROR,
    503: TEMPORARILY_UNAVAILABLE,
    504: "DEADLINE_EXCEEDED",
}


class ApiError(Exception):
    """An error answer: HTTP status, Databricks error code, message, optional Retry-After."""

    def __init__(self, status: int, error_code: str, message: str,
                 retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message
        self.retry_after = retry_after

    def body(self) -> bytes:
        return error_body(self.error_code, self.message)

    def headers(self) -> dict[str, str]:
        return retry_after_header(self.retry_after)


def error_body(error_code: str, message: str) -> bytes:
    return json.dumps({"error_code": error_code, "message": message}).encode()


def retry_after_header(seconds: float | None) -> dict[str, str]:
    """``Retry-After`` as integer seconds (what the SDK parses); rounded up, at least 1."""
    if seconds is None:
        return {}
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


def malformed(message: str) -> ApiError:
    return ApiError(400, MALFORMED_REQUEST, message)


def invalid(message: str) -> ApiError:
    return ApiError(400, INVALID_PARAMETER_VALUE, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, RESOURCE_DOES_NOT_EXIST, message)


def already_exists(message: str) -> ApiError:
    return ApiError(409, RESOURCE_ALREADY_EXISTS, message)


def conflict(message: str) -> ApiError:
    return ApiError(409, RESOURCE_CONFLICT, message)


def rate_limited(message: str, retry_after: float | None) -> ApiError:
    return ApiError(429, REQUEST_LIMIT_EXCEEDED, message, retry_after)


def unauthenticated(message: str) -> ApiError:
    return ApiError(401, UNAUTHENTICATED, message)


def no_such_api(method: str, path: str) -> ApiError:
    return ApiError(404, ENDPOINT_NOT_FOUND, f"No API found for '{method} {path}'")
