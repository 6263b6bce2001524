"""The retired legacy online-tables API is read only on request, and never blocks."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import requests
from databricks.sdk.errors.mapper import _error_mapper

from lakeserve.api.common import ADOPT_ANNOTATION
from lakeserve.api.onlinetable import OnlineTableSpec
from lakeserve.databricks.limiter import WriteLimiter
from lakeserve.databricks.workspace import Workspace
from lakeserve.resources.base import DeleteState, Managed
from lakeserve.resources.onlinetable import OnlineTableClient

SPEC = OnlineTableSpec.model_validate({
    "name": "main.ml.features_online", "sourceTableFullName": "main.ml.features",
    "primaryKeyColumns": ["id"], "databaseInstanceName": "db"})


def sdk_error(status: int, code: str | None) -> Exception:
    """The exception the SDK raises for this answer (its own status/code mapping)."""
    response = requests.Response()
    response.status_code = status
    response.request = requests.Request("GET", "https://h/api/2.0/online-tables/t").prepare()
    body = {"message": f"{status} {code}"}
    if code:
        body["error_code"] = code
    return _error_mapper(response, body)


class FakeSdk:
    """Synced tables are missing; the legacy API answers ``legacy_error`` (or a table)."""

    def __init__(self, legacy_error: Exception | None = None):
        self.calls: list[str] = []
        self.legacy_error = legacy_error
        self.database = SimpleNamespace(delete_synced_database_table=self._delete_synced)
        self.api_client = SimpleNamespace(do=lambda method, path: self._get_synced(path))
        self.online_tables = SimpleNamespace(get=self._legacy("get"),
                                             delete=self._legacy("delete"))

    def _get_synced(self, name):
        self.calls.append("synced.get")
        raise sdk_error(404, "RESOURCE_DOES_NOT_EXIST")

    def _delete_synced(self, name, purge_data=None):
        self.calls.append("synced.delete")
        raise sdk_error(404, "RESOURCE_DOES_NOT_EXIST")

    def _legacy(self, verb):
        def call(name):
            self.calls.append(f"legacy.{verb}")
            if self.legacy_error is not None:
                raise self.legacy_error
        return call


def managed(annotations=None, status=None) -> Managed:
    return Managed("OnlineTable", "ns", "t", "uid", 1, SPEC, annotations or {}, status or {})


def client(sdk: FakeSdk) -> OnlineTableClient:
    return OnlineTableClient(Workspace(client=sdk, host="h", limiter=WriteLimiter()))


def test_without_adoption_the_legacy_api_is_never_read():
    sdk = FakeSdk(legacy_error=sdk_error(501, "NOT_IMPLEMENTED"))
    observation = client(sdk).observe(managed())
    assert not observation.exists
    assert client(sdk).delete(managed()) is DeleteState.GONE
    assert not [c for c in sdk.calls if c.startswith("legacy.")]


# (reason, status, error code): what a retired API has been seen or may be expected to answer
RETIRED = [
    ("retired route not implemented", 501, "NOT_IMPLEMENTED"),
    ("feature switched off", 400, "FEATURE_DISABLED"),
    ("no such API", 404, "ENDPOINT_NOT_FOUND"),
    ("table gone", 404, "RESOURCE_DOES_NOT_EXIST"),
    ("route gone", 410, "GONE"),
    ("route gone, no error code", 410, None),
    ("no access to a retired feature", 403, "PERMISSION_DENIED"),
]


@pytest.mark.parametrize("case, status, code", RETIRED, ids=[r[0] for r in RETIRED])
def test_a_retired_answer_means_no_legacy_table(case, status, code):
    sdk = FakeSdk(legacy_error=sdk_error(status, code))
    adopt = managed(annotations={ADOPT_ANNOTATION: "true"})
    assert not client(sdk).observe(adopt).exists
    assert client(sdk).delete(adopt) is DeleteState.GONE
    assert "legacy.get" in sdk.calls and "legacy.delete" in sdk.calls


def test_a_server_error_of_the_legacy_api_is_not_taken_for_absence():
    sdk = FakeSdk(legacy_error=sdk_error(500, "INTERNAL_ERROR"))
    with pytest.raises(Exception, match="500"):
        client(sdk).observe(managed(annotations={ADOPT_ANNOTATION: "true"}))


def test_a_previously_adopted_table_is_read_first_and_once():
    sdk = FakeSdk(legacy_error=sdk_error(404, "RESOURCE_DOES_NOT_EXIST"))
    observation = client(sdk).observe(managed(status={"legacy": True}))
    assert not observation.exists
    assert sdk.calls == ["legacy.get", "synced.get"]
