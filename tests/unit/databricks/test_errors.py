import pytest
import requests
from databricks.sdk import errors as sdk_errors

from lakeserve.databricks.errors import FailureKind, RetryDeferred, classify
from lakeserve.redact import register_secret


def api_error(cls, code, message="m", **kw):
    return cls(message, error_code=code, **kw)


# (reason for the case, exception, expected kind)
CASES = [
    ("404 error code", api_error(sdk_errors.NotFound, "RESOURCE_DOES_NOT_EXIST"),
     FailureKind.NOT_FOUND),
    ("409 duplicate", api_error(sdk_errors.ResourceConflict, "RESOURCE_ALREADY_EXISTS"),
     FailureKind.ALREADY_EXISTS),
    ("409 update in progress", api_error(sdk_errors.ResourceConflict, "RESOURCE_CONFLICT"),
     FailureKind.CONFLICT),
    ("400 busy: the endpoint is updating", api_error(sdk_errors.InvalidState, "INVALID_STATE"),
     FailureKind.CONFLICT),
    ("429", api_error(sdk_errors.TooManyRequests, "REQUEST_LIMIT_EXCEEDED"),
     FailureKind.THROTTLED),
    ("400 refused spec", api_error(sdk_errors.BadRequest, "INVALID_PARAMETER_VALUE"),
     FailureKind.PERMANENT),
    ("403: a valid identity without the permission",
     api_error(sdk_errors.PermissionDenied, "PERMISSION_DENIED"), FailureKind.PERMISSION_DENIED),
    ("401: the credentials themselves are refused",
     api_error(sdk_errors.Unauthenticated, "UNAUTHENTICATED"), FailureKind.UNAUTHENTICATED),
    ("401 without an error code", sdk_errors.Unauthenticated("Invalid access token"),
     FailureKind.UNAUTHENTICATED),
    ("500 without a code", sdk_errors.InternalError("boom"), FailureKind.TRANSIENT),
    ("connection refused", requests.ConnectionError("refused"), FailureKind.TRANSIENT),
    ("long Retry-After refused by the clock", RetryDeferred(60), FailureKind.THROTTLED),
]


@pytest.mark.parametrize("case, exc, kind", CASES, ids=[c[0] for c in CASES])
def test_classify(case, exc, kind):
    assert classify(exc).kind is kind


def test_exhausted_retry_budget_reports_what_was_retried():
    try:
        try:
            raise api_error(sdk_errors.TooManyRequests, "REQUEST_LIMIT_EXCEEDED", "slow down")
        except Exception as inner:
            raise TimeoutError("Timed out after 0:00:15") from inner
    except TimeoutError as exc:
        failure = classify(exc)
    assert failure.kind is FailureKind.THROTTLED
    assert "slow down" in failure.message


def test_retry_deferred_keeps_the_delay():
    assert classify(RetryDeferred(42)).retry_after == 42


def test_messages_are_redacted_and_cut_to_the_first_line():
    register_secret("dapi-super-secret-value")
    exc = sdk_errors.Unauthenticated("token dapi-super-secret-value is invalid\nConfig: host=x")
    message = classify(exc).message
    assert "super-secret" not in message
    assert "Config" not in message


def test_the_sdk_config_dump_is_cut_from_401_and_403_messages():
    """databricks/sdk/core.py _AddDebugErrorCustomizer appends Config.debug_string() on the same
    line: host, account and workspace ids, discovery URL."""
    exc = sdk_errors.PermissionDenied(
        "User u has no access to endpoint e. Config: host=https://adb-1.azuredatabricks.net, "
        "account_id=acc-9, workspace_id=1234, discovery_url=https://x/oidc/.well-known, "
        "auth_type=pat. Env: DATABRICKS_HOST, DATABRICKS_TOKEN", error_code="PERMISSION_DENIED")
    message = classify(exc).message
    assert message == "User u has no access to endpoint e"


def test_a_message_that_merely_mentions_config_is_kept():
    exc = sdk_errors.BadRequest("Endpoint Config: served entity a is invalid",
                                error_code="INVALID_PARAMETER_VALUE")
    assert classify(exc).message == "Endpoint Config: served entity a is invalid"
