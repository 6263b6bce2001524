"""What a synced-table create is refused for, at request time."""

from __future__ import annotations

import pytest

from lakeserve.emulator.errors import ApiError

from .conftest import ONLINE, SOURCE, USER, synced_body


def refused(synced, body) -> ApiError:
    with pytest.raises(ApiError) as failure:
        synced.create(body, USER)
    return failure.value


def test_a_primary_key_missing_from_the_source_names_it_and_lists_columns(synced):
    error = refused(synced, synced_body(primary_key_columns=["customer_id"]))
    assert (error.status, error.error_code) == (400, "INVALID_PARAMETER_VALUE")
    assert "Column 'customer_id' does not exist in the source table 'main.default.features'" \
        in error.message
    assert "customerID, tenure, ts" in error.message


def test_a_timeseries_key_missing_from_the_source(synced):
    assert "'when'" in refused(synced, synced_body(timeseries_key="when")).message


@pytest.mark.parametrize("change, status, fragment", [
    ({"spec": {**synced_body()["spec"], "source_table_full_name": "main.default.nope"}}, 404,
     "Table 'main.default.nope' does not exist."),
    ({"database_instance_name": "other"}, 404, "Database instance 'other' does not exist."),
    ({"name": "main.default"}, 400, "three-level"),
    ({"name": "nocat.default.x"}, 404, "Catalog 'nocat' does not exist."),
    ({"logical_database_name": None}, 400, "logical_database_name"),
])
def test_request_time_refusals(synced, change, status, fragment):
    body = {**synced_body(), **change}
    error = refused(synced, {k: v for k, v in body.items() if v is not None})
    assert error.status == status
    assert fragment in error.message


def test_scheduling_policy_is_required(synced):
    body = synced_body()
    del body["spec"]["scheduling_policy"]
    assert "scheduling_policy" in refused(synced, body).message


def test_existing_pipeline_id_and_new_pipeline_spec_exclude_each_other(synced):
    both = refused(synced, synced_body(existing_pipeline_id="p"))
    assert "At most one of" in both.message
    body = synced_body()
    del body["spec"]["new_pipeline_spec"]
    assert synced.create(body, USER)["data_synchronization_status"]["pipeline_id"], \
        "neither: a new pipeline, stored in the table's own catalog"


def test_triggered_and_continuous_need_the_source_change_data_feed(synced, catalog, engine, ctx):
    catalog.write("main.default.no_cdf", [{"customerID": "a"}], "overwrite")
    for policy in ("TRIGGERED", "CONTINUOUS"):
        error = refused(synced, synced_body(policy, name=f"main.default.{policy.lower()}",
                                            source_table_full_name="main.default.no_cdf"))
        assert "Change Data Feed is not enabled" in error.message and policy in error.message
    snapshot = synced_body("SNAPSHOT", name="main.default.snap",
                           source_table_full_name="main.default.no_cdf")
    assert synced.create(snapshot, USER)["name"] == "main.default.snap"
    ctx.settings.change_data_feed_missing = "fail_sync"
    created = synced.create(synced_body(name="main.default.later",
                                        source_table_full_name="main.default.no_cdf"), USER)
    assert created["name"] == "main.default.later"
    (first_sync,) = engine.tables["main.default.later"].runs
    assert first_sync.fail_message.startswith("Change Data Feed is not enabled")


def test_a_database_catalog_infers_instance_and_database(synced, instances):
    instances.create_catalog({"name": "pg", "database_instance_name": "inst",
                              "database_name": "appdb"})
    body = {"name": "pg.public.features_online", "spec": {
        **synced_body()["spec"], "new_pipeline_spec": {"storage_catalog": "main",
                                                       "storage_schema": "default"}}}
    created = synced.create(body, USER)
    assert (created["effective_database_instance_name"],
            created["effective_logical_database_name"]) == ("inst", "appdb")
    assert "logical_database_name" not in created
    mismatch = refused(synced, {**body, "name": "pg.public.x", "logical_database_name": "other"})
    assert "does not match the database catalog" in mismatch.message
    no_storage = refused(synced, {**body, "name": "pg.public.y",
                                  "spec": {**body["spec"], "new_pipeline_spec": {}}})
    assert "storage_catalog and storage_schema are required" in no_storage.message


def test_bin_packing_needs_an_existing_pipeline_with_the_same_policy(synced):
    first = synced.create(synced_body(), USER)
    pipeline_id = first["data_synchronization_status"]["pipeline_id"]
    body = synced_body("CONTINUOUS", name="main.default.other", existing_pipeline_id=pipeline_id)
    del body["spec"]["new_pipeline_spec"]
    assert "same policy" in refused(synced, body).message
    body["spec"]["existing_pipeline_id"] = "missing"
    assert refused(synced, body).status == 404
    body["spec"].update(existing_pipeline_id=pipeline_id, scheduling_policy="TRIGGERED")
    packed = synced.create(body, USER)
    assert packed["data_synchronization_status"]["pipeline_id"] == pipeline_id


def test_a_taken_name_is_a_conflict(synced):
    synced.create(synced_body(), USER)
    error = refused(synced, synced_body())
    assert (error.status, error.error_code) == (409, "RESOURCE_ALREADY_EXISTS")
    taken_by_delta = refused(synced, synced_body(name=SOURCE))
    assert taken_by_delta.status == 409
    assert ONLINE in error.message
