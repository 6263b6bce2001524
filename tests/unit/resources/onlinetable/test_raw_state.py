"""A synced table's state is read as Databricks spells it, and offline means Stalled."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from databricks.sdk.errors import InvalidState, ResourceConflict
from databricks.sdk.service.database import SyncedDatabaseTable

from lakeserve.api.onlinetable import OnlineTableSpec
from lakeserve.databricks.limiter import WriteLimiter
from lakeserve.databricks.workspace import Workspace
from lakeserve.resources.base import Managed
from lakeserve.resources.onlinetable import OnlineTableClient
from lakeserve.resources.onlinetable.client import synced_table

SPEC = OnlineTableSpec.model_validate({
    "name": "main.ml.features_online", "sourceTableFullName": "main.ml.features",
    "primaryKeyColumns": ["id"], "databaseInstanceName": "db",
    "logicalDatabaseName": "databricks_postgres"})


def answer(state: str, message: str = "") -> dict:
    body = synced_table(SPEC).as_dict()
    return {**body, "data_synchronization_status": {"detailed_state": state,
                                                    "message": message, "pipeline_id": "p"}}


def observe(state: str, message: str = ""):
    raw = answer(state, message)
    sdk = SimpleNamespace(api_client=SimpleNamespace(do=lambda method, path: raw))
    client = OnlineTableClient(Workspace(client=sdk, host="h", limiter=WriteLimiter()))
    return client.observe(Managed("OnlineTable", "ns", "t", "uid", 1, SPEC))


def test_the_sdk_cannot_decode_the_real_offline_state():
    decoded = SyncedDatabaseTable.from_dict(answer("SYNCED_TABLE_OFFLINE"))
    assert decoded.data_synchronization_status.detailed_state is None


# (reason, raw state, Stalled?, reason of the condition)
STATES = [
    ("offline, as Databricks spells it", "SYNCED_TABLE_OFFLINE", True, "SyncFailed"),
    ("offline after a failure", "SYNCED_TABLE_OFFLINE_FAILED", True, "SyncFailed"),
    ("a state newer than this operator", "SYNCED_TABLE_SOMETHING_NEW", False,
     "WaitingForDatabricks"),
    ("still provisioning", "SYNCED_TABLE_PROVISIONING_INITIAL_SNAPSHOT", False, "Provisioning"),
]


@pytest.mark.parametrize("case, state, stalled, reason", STATES, ids=[s[0] for s in STATES])
def test_raw_states(case, state, stalled, reason):
    observation = observe(state, "the instance was stopped")
    assert observation.status["detailedState"] == state
    verdict = observation.failed if stalled else observation.progress
    assert verdict is not None and verdict[0] == reason
    assert state in verdict[1]



# (reason, the refusal of start_update while an update is active)
BUSY_PIPELINE = [
    ("409 conflict", ResourceConflict("already has an active update", error_code="RESOURCE_CONFLICT")),
    ("400 invalid state", InvalidState("Cannot start an update: update u1 is RUNNING.",
                                       error_code="INVALID_STATE")),
]


@pytest.mark.parametrize("case, refusal", BUSY_PIPELINE, ids=[b[0] for b in BUSY_PIPELINE])
def test_a_sync_request_while_an_update_runs_waits(case, refusal):
    def refuse(pipeline_id):
        raise refusal
    raw = answer("SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE")
    sdk = SimpleNamespace(api_client=SimpleNamespace(do=lambda method, path: raw),
                          pipelines=SimpleNamespace(start_update=refuse))
    client = OnlineTableClient(Workspace(client=sdk, host="h", limiter=WriteLimiter()))
    obj = Managed("OnlineTable", "ns", "t", "uid", 1, SPEC,
                  {"lakeserve.dev/sync-requested-at": "now"})
    result = client.update(obj, client.observe(obj))
    assert [e.reason for e in result.events] == ["Syncing"]
    assert "syncRequestHandled" not in result.status, "asked again on a later pass"
