"""Lakebase through a snapshot and a restore (as a restart does): instances, synced and legacy
tables, pipelines and their updates, knobs, and the online store's rows, which stay even when the
source table is gone."""

from __future__ import annotations

import datetime
import decimal

import pytest
from databricks.sdk.service.pipelines import UpdateInfoCause

from lakeserve.emulator.lakebase.engine import OnlineTableUnavailable, SyncEngine
from lakeserve.emulator.lakebase.instances import InstanceService
from lakeserve.emulator.lakebase.legacy import LegacyOnlineTables
from lakeserve.emulator.lakebase.onlinestore import OnlineStore
from lakeserve.emulator.lakebase.synced import SyncedTables
from lakeserve.emulator.persistence import codec

from .conftest import INSTANCE, ONLINE, SOURCE, USER, synced_body


def through_disk(store, fresh):
    fresh.restore(codec.loads(codec.dumps(store.snapshot())))
    return fresh


def restarted(ctx, catalog, engine, instances):
    """New instances, engine and online store that took over the old ones' state."""
    fresh_instances = through_disk(instances, InstanceService(ctx))
    fresh_engine = SyncEngine(ctx, catalog, through_disk(engine.store, OnlineStore()))
    through_disk(engine, fresh_engine)
    return fresh_instances, fresh_engine, SyncedTables(fresh_engine, fresh_instances, catalog)


def test_everything_reads_back_the_same(ctx, clock, catalog, engine, instances, synced, legacy):
    synced.create(synced_body(), USER)
    clock.advance(5)
    pipeline_id = synced.get(ONLINE)["data_synchronization_status"]["pipeline_id"]
    engine.start_update(pipeline_id, UpdateInfoCause.API_CALL, False)
    clock.advance(1)  # the update is still running
    legacy.seed({"name": "main.default.legacy", "source_table_full_name": SOURCE,
                 "primary_key_columns": ["customerID"]}, USER)
    engine.failures["main.default.other"] = "boom"
    before = (instances.get(INSTANCE), synced.get(ONLINE), legacy.get("main.default.legacy"),
              engine.pipeline(pipeline_id), engine.store.keys())

    fresh_instances, fresh_engine, fresh_synced = restarted(ctx, catalog, engine, instances)

    after = (fresh_instances.get(INSTANCE), fresh_synced.get(ONLINE),
             LegacyOnlineTables(fresh_engine, catalog).get("main.default.legacy"),
             fresh_engine.pipeline(pipeline_id), fresh_engine.store.keys())
    assert after == before
    assert fresh_engine.failures == {"main.default.other": "boom"}


def test_a_running_sync_settles_at_its_stored_time(ctx, clock, catalog, engine, instances,
                                                   synced):
    synced.create(synced_body(), USER)  # provisioning 2 s + snapshot 3 s
    clock.advance(4)
    _, fresh_engine, _ = restarted(ctx, catalog, engine, instances)
    ctx.persistence.save()
    with pytest.raises(OnlineTableUnavailable, match="no synced data yet"):
        fresh_engine.lookup(ONLINE, [{"customerID": "a"}])
    assert not ctx.persistence.changed
    clock.advance(1)
    assert fresh_engine.lookup(ONLINE, [{"customerID": "a"}]) == [
        {"customerID": "a", "tenure": 1.0, "ts": 1}]
    assert ctx.persistence.changed, "the sync finished during a read"


def test_online_rows_stay_when_the_source_is_gone(ctx, clock, catalog, engine, instances,
                                                  synced):
    synced.create(synced_body(), USER)
    clock.advance(5)
    engine.lookup(ONLINE, [{"customerID": "a"}])
    catalog.delete_table(SOURCE)

    _, fresh_engine, _ = restarted(ctx, catalog, engine, instances)

    assert fresh_engine.lookup(ONLINE, [{"customerID": "b"}]) == [
        {"customerID": "b", "tenure": 2.0, "ts": 1}]


def test_stored_rows_keep_their_types_and_lookups_still_coerce_keys():
    store = OnlineStore()
    row = {"id": 7, "when": datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
           "amount": decimal.Decimal("1.50"), "raw": b"\x01", "tags": ["a"], "nested": {"x": 1}}
    store.replace(("inst", "db", "public", "t"), [row], ["id"], None)
    fresh = through_disk(store, OnlineStore())
    assert fresh.lookup(("inst", "db", "public", "t"), [{"id": "7"}]) == [row]
    assert fresh.generation != 0, "a restore counts as a change of the rows"
