"""OnlineTableClient through the engine: what each synced-table state reports, and ownership."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from databricks.sdk.errors import NotFound
from databricks.sdk.service.database import SyncedDatabaseTable

from lakeserve.api import onlinetable
from lakeserve.databricks.limiter import WriteLimiter
from lakeserve.databricks.workspace import Workspace
from lakeserve.reconcile import reasons
from lakeserve.resources.onlinetable import OnlineTableClient
from lakeserve.resources.onlinetable.client import PROVISIONING, SYNC_FAILED, SYNCING, synced_table
from tests.reasons import table
from tests.unit.reconcile.fakes import Harness

NAME = "main.ml.features_online"
SPEC = {"name": NAME, "sourceTableFullName": "main.ml.features",
        "primaryKeyColumns": ["customerID"], "databaseInstanceName": "lakebase"}
OURS = {"owned": {"name": NAME, "how": "Created"}}


class FakeSdk:
    """A workspace holding at most one synced table, in a given detailed state."""

    def __init__(self, state: str | None):
        self.state, self.calls = state, []
        self.database = SimpleNamespace(get_synced_database_table=self._get,
                                        create_synced_database_table=self._create,
                                        delete_synced_database_table=self._delete)
        self.online_tables = SimpleNamespace(get=self._missing, delete=self._missing)
        # observe reads the synced table as raw JSON (its state may be one the SDK cannot decode)
        self.api_client = SimpleNamespace(
            do=lambda method, path: self._get(path.rsplit("/", 1)[1]).as_dict())

    def _get(self, name):
        self.calls.append("get")
        if self.state is None:
            raise NotFound("not found", error_code="NOT_FOUND")
        return SyncedDatabaseTable.from_dict({
            **synced_table(onlinetable.OnlineTableSpec.model_validate(SPEC)).as_dict(),
            "data_synchronization_status": {"detailed_state": self.state, "message": "m",
                                            "pipeline_id": "p-1"}})

    def _create(self, table):
        self.calls.append("create")
        return table

    def _delete(self, name, purge_data=None):
        self.calls.append("delete")

    def _missing(self, name):
        raise NotFound("no legacy table", error_code="NOT_FOUND")


def harness(state):
    sdk = FakeSdk(state)
    workspace = Workspace(client=sdk, host="https://w", limiter=WriteLimiter())
    return Harness(OnlineTableClient(workspace), info=onlinetable.INFO), sdk


def body(status=None, annotations=None):
    return {"apiVersion": "lakeserve.dev/v1alpha1", "kind": "OnlineTable",
            "metadata": {"name": "features", "namespace": "ns", "uid": "u", "generation": 1,
                         "annotations": annotations or {}},
            "spec": SPEC, "status": status or {}}


# (reason for the case, detailed state, condition, reason)
STATES = [
    ("the initial snapshot is copying", "SYNCED_TABLE_PROVISIONING_INITIAL_SNAPSHOT",
     "Reconciling", PROVISIONING),
    ("a triggered update is running", "SYNCED_TABLE_ONLINE_TRIGGERED_UPDATE", "Reconciling",
     SYNCING),
    ("the pipeline failed; stale data is served", "SYNCED_TABLE_ONLINE_PIPELINE_FAILED",
     "Stalled", SYNC_FAILED),
    ("online, nothing pending", "SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE", "Ready",
     reasons.READY),
]


@pytest.mark.parametrize("case, state, condition, reason", table(STATES, reason_at=3))
def test_each_state_reports(case, state, condition, reason):
    engine, sdk = harness(state)
    outcome = engine.run(body(status=OURS))
    assert (outcome.verdict.phase.value, outcome.verdict.reason) == (condition, reason)
    assert engine.kube.status["detailedState"] == state
    assert sdk.calls == ["get"], "one read, no write"


@pytest.mark.produces(reasons.ALREADY_EXISTS)
def test_a_table_it_has_no_record_of_is_someone_elses():
    engine, sdk = harness("SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE")
    outcome = engine.run(body())
    assert outcome.verdict.reason == reasons.ALREADY_EXISTS
    assert NAME in engine.condition("Stalled")["message"]
    assert engine.finalize(body(status={"owned": {"name": "someone-else's"}})) is None
    assert "delete" not in sdk.calls


@pytest.mark.produces(reasons.CREATED)
def test_a_create_records_the_claim_first():
    engine, sdk = harness(None)
    engine.run(body())
    assert sdk.calls == ["get", "create"]
    assert engine.kube.status["owned"]["name"] == NAME
    assert len(engine.kube.patches) == 1, "the claim rides on the one status write of the pass"
