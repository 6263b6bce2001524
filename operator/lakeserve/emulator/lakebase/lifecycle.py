"""The sync state machine: pure functions of the records, the time and the delays.

A table's initial run covers ``provision`` (PROVISIONING_PIPELINE_RESOURCES, UC entity
PROVISIONING) then ``snapshot`` seconds (PROVISIONING_INITIAL_SNAPSHOT, UC entity ACTIVE); a
triggered or incremental run lasts ``update`` seconds. When a run's time is up its data is copied
(by the engine) and the table is ONLINE_NO_PENDING_UPDATE (Snapshot/Triggered) or
ONLINE_CONTINUOUS_UPDATE (Continuous); a failed initial run leaves it OFFLINE_FAILED, a failed
later run ONLINE_PIPELINE_FAILED (the old rows keep serving). While a triggered update is still
QUEUED or INITIALIZING the table shows its previous state: the pipeline is busy before the
table says so. States are returned without the
``SYNCED_TABLE_`` prefix, which only synced tables carry.

Pipeline updates go QUEUED -> INITIALIZING -> RUNNING -> COMPLETED | FAILED; a continuous
pipeline's update stays RUNNING.
"""

from __future__ import annotations

from dataclasses import dataclass

from databricks.sdk.service.catalog import ProvisioningInfoState
from databricks.sdk.service.pipelines import UpdateInfoState

from lakeserve.emulator.lakebase.model import (
    OnlineTable,
    Pipeline,
    Policy,
    RunKind,
    SyncRun,
    Update,
)

PROVISIONING_PIPELINE_RESOURCES = "PROVISIONING_PIPELINE_RESOURCES"
PROVISIONING_INITIAL_SNAPSHOT = "PROVISIONING_INITIAL_SNAPSHOT"
ONLINE_NO_PENDING_UPDATE = "ONLINE_NO_PENDING_UPDATE"
ONLINE_TRIGGERED_UPDATE = "ONLINE_TRIGGERED_UPDATE"
ONLINE_CONTINUOUS_UPDATE = "ONLINE_CONTINUOUS_UPDATE"
ONLINE_PIPELINE_FAILED = "ONLINE_PIPELINE_FAILED"
OFFLINE_FAILED = "OFFLINE_FAILED"

# Which status object each state carries.
PROVISIONING, TRIGGERED, CONTINUOUS, FAILED = "provisioning", "triggered", "continuous", "failed"
STATUS_OBJECT = {
    PROVISIONING_PIPELINE_RESOURCES: PROVISIONING, PROVISIONING_INITIAL_SNAPSHOT: PROVISIONING,
    ONLINE_NO_PENDING_UPDATE: TRIGGERED, ONLINE_TRIGGERED_UPDATE: TRIGGERED,
    ONLINE_CONTINUOUS_UPDATE: CONTINUOUS, ONLINE_PIPELINE_FAILED: FAILED, OFFLINE_FAILED: FAILED,
    "ONLINE_UPDATING_PIPELINE_RESOURCES": CONTINUOUS, "OFFLINE": FAILED,
    "PROVISIONING": PROVISIONING, "ONLINE": TRIGGERED,
}
TERMINAL_UPDATE_STATES = (UpdateInfoState.COMPLETED, UpdateInfoState.FAILED,
                          UpdateInfoState.CANCELED)
_QUEUE_SHARE = 0.4  # of a triggered update's time spent QUEUED + INITIALIZING


@dataclass(frozen=True)
class Delays:
    provision: float
    snapshot: float
    update: float


@dataclass(frozen=True)
class Progress:
    total_rows: int | None
    synced_rows: int | None
    completion: float
    version: int | None
    eta_seconds: int | None


@dataclass(frozen=True)
class TableView:
    state: str
    provisioning: ProvisioningInfoState
    message: str
    progress: Progress | None    # of the run the state is about
    last_sync: SyncRun | None    # the last successful run
    failed: SyncRun | None = None

    @property
    def status_object(self) -> str:
        return STATUS_OBJECT.get(self.state, TRIGGERED)


def run_end(run: SyncRun, delays: Delays) -> float:
    if run.kind is RunKind.INITIAL:
        return run.started_at + delays.provision + delays.snapshot
    return run.started_at + delays.update


def run_start_copying(run: SyncRun, delays: Delays) -> float:
    if run.kind is RunKind.INITIAL:
        return run.started_at + delays.provision
    return run.started_at + _QUEUE_SHARE * delays.update


def due(run: SyncRun, now: float, delays: Delays) -> bool:
    return not run.done and now >= run_end(run, delays)


def progress(run: SyncRun, now: float, delays: Delays) -> Progress:
    if run.done:
        return Progress(run.total_rows, run.synced_rows if run.ok else 0, 1.0 if run.ok else 0.0,
                        run.source_version, 0)
    start, end = run_start_copying(run, delays), run_end(run, delays)
    share = 0.0 if now <= start else min(1.0, (now - start) / max(end - start, 1e-9))
    synced = int((run.total_rows or 0) * share)
    return Progress(run.total_rows, synced, round(share, 4), run.source_version,
                    max(0, round(end - now)))


def table_view(table: OnlineTable, now: float, delays: Delays) -> TableView:
    initial = table.runs[0]
    last = table.last_success
    if table.seed_state is not None and len(table.runs) == 1:
        return _seeded(table, last, now, delays)
    if not initial.done:
        if now < run_start_copying(initial, delays):
            return TableView(PROVISIONING_PIPELINE_RESOURCES, ProvisioningInfoState.PROVISIONING,
                             "Provisioning the resources of the sync pipeline.", None, None)
        return TableView(PROVISIONING_INITIAL_SNAPSHOT, ProvisioningInfoState.ACTIVE,
                         f"Copying the initial snapshot of '{table.source}' (version "
                         f"{initial.source_version}).", progress(initial, now, delays), None)
    if last is None:
        return TableView(OFFLINE_FAILED, ProvisioningInfoState.ACTIVE,
                         f"The initial sync failed: {initial.error}", None, None, initial)
    current, finished = table.current, table.last_finished
    if current is not None and current.kind is RunKind.TRIGGERED and \
            now >= run_start_copying(current, delays):  # queued: the table still looks idle
        return TableView(ONLINE_TRIGGERED_UPDATE, ProvisioningInfoState.ACTIVE,
                         f"Syncing '{table.source}' at version {current.source_version}.",
                         progress(current, now, delays), last)
    if finished is not None and not finished.ok:
        return TableView(ONLINE_PIPELINE_FAILED, ProvisioningInfoState.ACTIVE,
                         f"The last sync failed: {finished.error} The online table still "
                         f"serves the data of version {last.source_version}.",
                         progress(last, now, delays), last, finished)
    if table.policy is Policy.CONTINUOUS:
        return TableView(ONLINE_CONTINUOUS_UPDATE, ProvisioningInfoState.ACTIVE,
                         _online_message(table, last), progress(last, now, delays), last)
    return TableView(ONLINE_NO_PENDING_UPDATE, ProvisioningInfoState.ACTIVE,
                     _online_message(table, last), progress(last, now, delays), last)


def _seeded(table: OnlineTable, last: SyncRun | None, now: float, delays: Delays) -> TableView:
    state = table.seed_state or ONLINE_NO_PENDING_UPDATE
    message = _online_message(table, last) if last else f"Online table is {state}."
    run = table.runs[0]
    failed = run if state in (OFFLINE_FAILED, ONLINE_PIPELINE_FAILED, "OFFLINE") else None
    return TableView(state, ProvisioningInfoState.ACTIVE, message,
                     progress(last, now, delays) if last else None, last, failed)


def _online_message(table: OnlineTable, last: SyncRun) -> str:
    return (f"Online: {last.synced_rows} rows synced from '{table.source}' at version "
            f"{last.source_version}.")


def update_state(update: Update, runs: list[SyncRun], pipeline: Pipeline, now: float,
                 delays: Delays) -> UpdateInfoState:
    elapsed = now - update.created_at
    running_from = (delays.provision if update.kind is RunKind.INITIAL
                    else _QUEUE_SHARE * delays.update)
    if any(not run.done for run in runs):
        if elapsed < running_from / 2:
            return UpdateInfoState.QUEUED
        if elapsed < running_from:
            return UpdateInfoState.INITIALIZING
        return UpdateInfoState.RUNNING
    if not pipeline.continuous:
        failed = any(run.error is not None for run in runs)
        return UpdateInfoState.FAILED if failed else UpdateInfoState.COMPLETED
    latest = max(runs, key=lambda r: r.finished_at or 0.0, default=None)
    failed = latest is not None and latest.error is not None
    return UpdateInfoState.FAILED if failed else UpdateInfoState.RUNNING


def is_active(state: UpdateInfoState) -> bool:
    return state not in TERMINAL_UPDATE_STATES
