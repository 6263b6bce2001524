"""The synced-table create body carries only what the spec sets; the echo is compared with the
effective placement Databricks reports."""

from __future__ import annotations

import pytest
from databricks.sdk.service.database import SyncedDatabaseTable

from lakeserve.api.onlinetable import OnlineTableSpec
from lakeserve.resources.onlinetable.client import (
    change_data_feed_hint,
    synced_spec_diff,
    synced_table,
)

BASE = {"name": "main.ml.features_online", "sourceTableFullName": "main.ml.features",
        "primaryKeyColumns": ["customerID"], "databaseInstanceName": "lakebase"}


def spec(**changes) -> OnlineTableSpec:
    return OnlineTableSpec.model_validate({**BASE, **changes})


# (reason, spec changes, top-level keys of the body besides name/spec, keys of body.spec's
#  pipeline part)
BODIES = [
    ("nothing optional set: Databricks infers the rest", {}, {"database_instance_name"}, {}),
    ("a logical database", {"logicalDatabaseName": "appdb"},
     {"database_instance_name", "logical_database_name"}, {}),
    ("a new pipeline's storage", {"pipeline": {"storageCatalog": "main", "storageSchema": "ops"}},
     {"database_instance_name"},
     {"new_pipeline_spec": {"storage_catalog": "main", "storage_schema": "ops"}}),
    ("bin-packed into an existing pipeline", {"pipeline": {"existingPipelineId": "p1"}},
     {"database_instance_name"}, {"existing_pipeline_id": "p1"}),
]


@pytest.mark.parametrize("case, changes, top, pipeline", BODIES, ids=[b[0] for b in BODIES])
def test_create_body(case, changes, top, pipeline):
    body = synced_table(spec(**changes)).as_dict()
    assert set(body) - {"name", "spec"} == top
    pipeline_keys = {"new_pipeline_spec", "existing_pipeline_id"}
    assert {k: v for k, v in body["spec"].items() if k in pipeline_keys} == pipeline


def echo(**effective) -> SyncedDatabaseTable:
    body = synced_table(spec()).as_dict()
    body.pop("logical_database_name", None)
    return SyncedDatabaseTable.from_dict({**body, **effective})


# (reason, spec changes, effective placement reported, differing fields)
PLACEMENTS = [
    ("database inferred in a database catalog", {},
     {"effective_database_instance_name": "lakebase",
      "effective_logical_database_name": "appdb"}, []),
    ("the database the spec names", {"logicalDatabaseName": "appdb"},
     {"effective_logical_database_name": "appdb"}, []),
    ("another database than the spec names", {"logicalDatabaseName": "appdb"},
     {"effective_logical_database_name": "other"}, ["logicalDatabaseName"]),
    ("another instance", {}, {"effective_database_instance_name": "elsewhere"},
     ["databaseInstanceName"]),
]


@pytest.mark.parametrize("case, changes, effective, diff", PLACEMENTS,
                         ids=[p[0] for p in PLACEMENTS])
def test_placement_is_compared_with_the_effective_values(case, changes, effective, diff):
    assert synced_spec_diff(spec(**changes), echo(**effective)) == diff


def test_a_change_data_feed_refusal_says_what_to_do():
    message = ("Change Data Feed is not enabled on the source table 'main.ml.features', and "
               "the TRIGGERED scheduling policy reads it.")
    hint = change_data_feed_hint(message, spec(syncMode="Triggered"))
    assert "delta.enableChangeDataFeed = true" in hint and "syncMode: Snapshot" in hint
    assert change_data_feed_hint("Column 'x' does not exist", spec()) == ""


def test_mixed_case_names_are_sent_folded_and_compare_equal():
    mixed = spec(name="Main.ML.Features_Online", sourceTableFullName="Main.ML.Features")
    body = synced_table(mixed).as_dict()
    assert (body["name"], body["spec"]["source_table_full_name"]) == \
        ("main.ml.features_online", "main.ml.features")
    as_stored = SyncedDatabaseTable.from_dict({**body, "effective_database_instance_name":
                                               "lakebase"})
    assert synced_spec_diff(mixed, as_stored) == []
