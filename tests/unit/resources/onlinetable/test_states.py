import pytest
from databricks.sdk.service.database import SyncedDatabaseTable

from lakeserve.api.onlinetable import OnlineTableSpec
from lakeserve.resources.onlinetable.client import synced_spec_diff, synced_table
from lakeserve.resources.onlinetable.states import Health, health

# (reason, state, health)
STATES = [
    ("synced table online", "SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE", Health.ONLINE),
    ("legacy table online", "ONLINE_CONTINUOUS_UPDATE", Health.ONLINE),
    ("initial snapshot still copying", "SYNCED_TABLE_PROVISIONING_INITIAL_SNAPSHOT",
     Health.PROVISIONING),
    ("triggered update running", "SYNCED_TABLE_ONLINE_TRIGGERED_UPDATE", Health.SYNCING),
    ("pipeline failed, data served", "SYNCED_TABLE_ONLINE_PIPELINE_FAILED",
     Health.PIPELINE_FAILED),
    ("offline after failure", "SYNCED_TABLE_OFFLINE_FAILED", Health.FAILED),
    ("the SDK's misspelled offline state", "SYNCED_TABLED_OFFLINE", Health.OFFLINE),
    ("the offline state Databricks sends", "SYNCED_TABLE_OFFLINE", Health.OFFLINE),
    ("unknown to the SDK", None, Health.UNKNOWN),
    ("newer than the SDK", "SYNCED_TABLE_SOMETHING_NEW", Health.UNKNOWN),
]


@pytest.mark.parametrize("case, state, expected", STATES, ids=[s[0] for s in STATES])
def test_health(case, state, expected):
    assert health(state) is expected


SPEC = OnlineTableSpec.model_validate({
    "name": "main.ml.features_online", "sourceTableFullName": "main.ml.features",
    "primaryKeyColumns": ["customerID"], "syncMode": "Snapshot",
    "databaseInstanceName": "lakebase"})


def test_request_body_and_echo_match():
    request = synced_table(SPEC)
    assert request.as_dict()["spec"]["scheduling_policy"] == "SNAPSHOT"
    echoed = SyncedDatabaseTable.from_dict({**request.as_dict(),
                                            "effective_database_instance_name": "lakebase",
                                            "effective_logical_database_name":
                                                "databricks_postgres"})
    assert synced_spec_diff(SPEC, echoed) == []


def test_changed_source_is_a_difference():
    echoed = SyncedDatabaseTable.from_dict(synced_table(SPEC).as_dict())
    other = SPEC.model_copy(update={"source_table_full_name": "main.ml.other"})
    assert synced_spec_diff(other, echoed) == ["sourceTableFullName"]
