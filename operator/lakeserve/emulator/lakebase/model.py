"""Records of online tables (synced tables and legacy online tables), their sync pipelines and
the sync runs that copy Delta data into the online store."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from databricks.sdk.service.database import SyncedDatabaseTable, SyncedTableSchedulingPolicy
from databricks.sdk.service.pipelines import UpdateInfoCause

from lakeserve.emulator.lakebase.onlinestore import StoreKey

Policy = SyncedTableSchedulingPolicy


class RunKind(str, Enum):
    INITIAL = "initial"          # the first snapshot, right after creation
    TRIGGERED = "triggered"      # a pipeline update started by start_update
    INCREMENTAL = "incremental"  # a continuous pipeline picking up a new source version


@dataclass
class SyncRun:
    """One copy of one table's source into the online store, pinned to a Delta version."""

    kind: RunKind
    update_id: str
    started_at: float
    source_version: int | None
    total_rows: int | None
    commit_time: float | None = None  # when source_version was committed
    fail_message: str | None = None   # injected failure, decided when the run starts
    finished_at: float | None = None
    error: str | None = None
    synced_rows: int | None = None

    @property
    def done(self) -> bool:
        return self.finished_at is not None

    @property
    def ok(self) -> bool:
        return self.done and self.error is None


@dataclass
class Update:
    """A pipeline update: the initial sync, or one run of every table of the pipeline."""

    update_id: str
    created_at: float
    cause: UpdateInfoCause
    kind: RunKind
    full_refresh: bool = False


@dataclass
class Pipeline:
    pipeline_id: str
    name: str
    policy: Policy
    creator: str
    created_at: float
    tables: list[str] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)  # oldest first
    storage_catalog: str | None = None
    storage_schema: str | None = None
    budget_policy_id: str | None = None

    @property
    def continuous(self) -> bool:
        return self.policy is Policy.CONTINUOUS


@dataclass
class OnlineTable:
    """A synced table (``legacy`` False) or a legacy online table seeded for migration tests."""

    name: str
    legacy: bool
    source: str
    primary_keys: list[str]
    timeseries_key: str | None
    policy: Policy
    pipeline_id: str
    creator: str
    created_at: float
    store_key: StoreKey
    request: SyncedDatabaseTable | None = None  # a synced table's create request, echoed
    perform_full_copy: bool = False
    seed_state: str | None = None  # legacy: the state shown until a later sync
    # (detailed state, message) shown as sent, set through the control path: states the SDK
    # cannot decode (SYNCED_TABLE_OFFLINE) reach clients only as raw JSON
    state_override: tuple[str, str] | None = None
    runs: list[SyncRun] = field(default_factory=list)  # oldest first

    @property
    def current(self) -> SyncRun | None:
        run = self.runs[-1] if self.runs else None
        return run if run is not None and not run.done else None

    @property
    def last_success(self) -> SyncRun | None:
        return next((run for run in reversed(self.runs) if run.ok), None)

    @property
    def last_finished(self) -> SyncRun | None:
        return next((run for run in reversed(self.runs) if run.done), None)

    @property
    def last_attempted_version(self) -> int | None:
        versions = [run.source_version for run in self.runs if run.source_version is not None]
        return max(versions) if versions else None
