"""Lakebase Provisioned database instances (``/api/2.0/database/instances``).

create -> STARTING for ``database_instance_seconds`` -> AVAILABLE (STOPPED when created stopped)
update -> UPDATING for the same delay -> AVAILABLE; ``stopped: true`` stops at once, ``stopped:
false`` starts again (STARTING -> AVAILABLE). Evaluated lazily from the clock, like serving.
"""

from __future__ import annotations

import re
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from databricks.sdk.service.database import (
    DatabaseCatalog,
    DatabaseInstance,
    DatabaseInstanceState,
)

from lakeserve.emulator.catalog.paging import page
from lakeserve.emulator.context import EmulatorContext
from lakeserve.emulator.errors import already_exists, invalid, not_found
from lakeserve.emulator.lakebase.times import rfc3339
from lakeserve.emulator.wire import parse

CAPACITIES = ("CU_1", "CU_2", "CU_4", "CU_8")
DEFAULT_CAPACITY = "CU_1"
PG_VERSION = "PG_VERSION_16"
UPDATABLE = ("capacity", "node_count", "enable_readable_secondaries", "enable_pg_native_login",
             "retention_window_in_days", "stopped", "custom_tags", "usage_policy_id")
_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
State = DatabaseInstanceState


@dataclass
class Instance:
    name: str
    uid: str
    creator: str
    created_at: float
    settings: dict[str, Any]
    # the state shown until ``since + delay``, then ``final``
    during: State = State.STARTING
    since: float = 0.0
    final: State = State.AVAILABLE

    def state(self, now: float, delay: float) -> State:
        return self.during if now < self.since + delay else self.final


class InstanceService:
    def __init__(self, ctx: EmulatorContext):
        self._ctx = ctx
        self._instances: dict[str, Instance] = {}
        # Registered database catalogs: a Unity Catalog catalog for one Postgres database.
        self.catalogs: dict[str, DatabaseCatalog] = {}
        self._lock = threading.RLock()

    # ---- reads -------------------------------------------------------------------------

    def get(self, name: str) -> dict[str, Any]:
        with self._lock:
            return self._render(self._get(name)).as_dict()

    def exists(self, name: str) -> bool:
        with self._lock:
            return name in self._instances

    def state(self, name: str) -> State | None:
        with self._lock:
            instance = self._instances.get(name)
            return instance.state(self._ctx.clock.now(), self._delay()) if instance else None

    def list(self, page_size: int | None, token: str | None) -> tuple[list[dict], str | None]:
        with self._lock:
            ordered = [self._instances[n] for n in sorted(self._instances)]
            items, next_token = page(ordered, page_size, token)
            return [self._render(i).as_dict() for i in items], next_token

    def find_by_uid(self, uid: str) -> dict[str, Any]:
        with self._lock:
            for instance in self._instances.values():
                if instance.uid == uid:
                    return self._render(instance).as_dict()
        raise not_found(f"Database instance with uid '{uid}' does not exist.")

    # ---- writes ------------------------------------------------------------------------

    def create(self, body: dict[str, Any], principal: str) -> dict[str, Any]:
        request = parse(body, DatabaseInstance)
        name = _name(request.name)
        values = _validated({f: getattr(request, f) for f in UPDATABLE
                             if getattr(request, f) is not None})
        values.setdefault("capacity", DEFAULT_CAPACITY)
        now = self._ctx.clock.now()
        stopped = bool(values.get("stopped"))
        instance = Instance(name=name, uid=str(uuid.uuid4()), creator=principal, created_at=now,
                            settings=values, since=now,
                            final=State.STOPPED if stopped else State.AVAILABLE)
        with self._lock:
            if name in self._instances:
                raise already_exists(f"Database instance with name '{name}' already exists.")
            self._instances[name] = instance
            return self._render(instance).as_dict()

    def update(self, name: str, body: dict[str, Any], update_mask: str | None) -> dict[str, Any]:
        if not update_mask:
            raise invalid("Missing required parameter: update_mask")
        request = parse(body, DatabaseInstance)
        fields = _mask(update_mask, request)
        changes = _validated({f: getattr(request, f) for f in fields})
        with self._lock:
            instance = self._get(name)
            now = self._ctx.clock.now()
            current = instance.state(now, self._delay())
            instance.settings.update({k: v for k, v in changes.items() if v is not None})
            for key in [k for k, v in changes.items() if v is None]:
                instance.settings.pop(key, None)
            self._transition(instance, current, changes, now)
            return self._render(instance).as_dict()

    def delete(self, name: str, purge: str | None) -> None:
        if purge is not None and purge.lower() == "false":
            raise invalid("purge=false (soft delete) is not supported yet; delete with "
                          "purge=true")
        with self._lock:
            if self._instances.pop(name, None) is None:
                raise _missing(name)

    def reset(self, options: dict[str, Any] | None = None) -> None:
        with self._lock:
            self._instances.clear()
            self.catalogs.clear()

    # ---- database catalogs -------------------------------------------------------------

    def create_catalog(self, body: dict[str, Any]) -> dict[str, Any]:
        request = parse(body, DatabaseCatalog)
        for field in ("name", "database_instance_name", "database_name"):
            if not getattr(request, field):
                raise invalid(f"Missing required field: {field}")
        name = request.name.lower()
        with self._lock:
            if request.database_instance_name not in self._instances:
                raise _missing(request.database_instance_name)
            if name in self.catalogs:
                raise already_exists(f"Catalog '{name}' already exists.")
            self.catalogs[name] = DatabaseCatalog(
                name=name, database_instance_name=request.database_instance_name,
                database_name=request.database_name, uid=str(uuid.uuid4()))
            return self.catalogs[name].as_dict()

    def get_catalog(self, name: str) -> dict[str, Any]:
        with self._lock:
            catalog = self.catalogs.get(name.lower())
            if catalog is None:
                raise not_found(f"Database catalog '{name}' does not exist.")
            return catalog.as_dict()  # create_database_if_not_exists is write-only

    def delete_catalog(self, name: str) -> None:
        with self._lock:
            if self.catalogs.pop(name.lower(), None) is None:
                raise not_found(f"Database catalog '{name}' does not exist.")

    def catalog_area(self) -> _CatalogArea:
        """The registered database catalogs as a persistence area of their own."""
        return _CatalogArea(self)

    def catalog_placement(self, catalog: str) -> tuple[str, str] | None:
        """(instance, Postgres database) of a registered database catalog, None otherwise."""
        with self._lock:
            found = self.catalogs.get(catalog.lower())
            return (found.database_instance_name, found.database_name) if found else None

    def snapshot(self) -> list[Instance]:
        with self._lock:
            return list(self._instances.values())

    def restore(self, instances: list[Instance]) -> None:
        with self._lock:
            self._instances = {instance.name: instance for instance in instances}

    # ---- helpers -----------------------------------------------------------------------

    def _transition(self, instance: Instance, current: State, changes: dict[str, Any],
                    now: float) -> None:
        if changes.get("stopped") is True:
            instance.during, instance.final, instance.since = State.STOPPED, State.STOPPED, now
        elif changes.get("stopped") is False and current is State.STOPPED:
            instance.during, instance.final, instance.since = State.STARTING, State.AVAILABLE, now
        elif current is not State.STOPPED and set(changes) - {"custom_tags", "stopped"}:
            instance.during, instance.final, instance.since = State.UPDATING, State.AVAILABLE, now

    def _get(self, name: str) -> Instance:
        instance = self._instances.get(name)
        if instance is None:
            raise _missing(name)
        return instance

    def _delay(self) -> float:
        return self._ctx.settings.database_instance_seconds

    def _render(self, instance: Instance) -> DatabaseInstance:
        values = instance.settings
        secondaries = bool(values.get("enable_readable_secondaries"))
        host = f"instance-{instance.uid}.database.lakeserve.local"
        return DatabaseInstance(
            name=instance.name, uid=instance.uid, creator=instance.creator,
            creation_time=rfc3339(instance.created_at), pg_version=PG_VERSION,
            state=instance.state(self._ctx.clock.now(), self._delay()),
            read_write_dns=host,
            read_only_dns=f"instance-ro-{instance.uid}.database.lakeserve.local"
            if secondaries else None,
            capacity=values.get("capacity"), node_count=values.get("node_count"),
            enable_readable_secondaries=values.get("enable_readable_secondaries"),
            enable_pg_native_login=values.get("enable_pg_native_login"),
            retention_window_in_days=values.get("retention_window_in_days"),
            stopped=values.get("stopped"), usage_policy_id=values.get("usage_policy_id"),
            custom_tags=values.get("custom_tags"),
            effective_capacity=values.get("capacity"),
            effective_node_count=values.get("node_count", 1),
            effective_enable_readable_secondaries=secondaries,
            effective_enable_pg_native_login=bool(values.get("enable_pg_native_login")),
            effective_retention_window_in_days=values.get("retention_window_in_days", 7),
            effective_stopped=bool(values.get("stopped")),
            effective_usage_policy_id=values.get("usage_policy_id"),
            effective_custom_tags=values.get("custom_tags"))


class _CatalogArea:
    def __init__(self, service: InstanceService):
        self._service = service

    def snapshot(self) -> list[DatabaseCatalog]:
        return list(self._service.catalogs.values())

    def restore(self, catalogs: list[DatabaseCatalog]) -> None:
        self._service.catalogs = {catalog.name: catalog for catalog in catalogs}


def _missing(name: str) -> Exception:
    return not_found(f"Database instance '{name}' does not exist.")


def _name(name: str | None) -> str:
    if not name:
        raise invalid("Missing required field: name")
    if not _NAME.fullmatch(name):
        raise invalid(f"Invalid database instance name '{name}': use 1 to 63 letters, digits "
                      "and hyphens, starting and ending with a letter or digit")
    return name


def _mask(update_mask: str, request: DatabaseInstance) -> list[str]:
    fields = [f.strip() for f in update_mask.split(",") if f.strip()]
    if fields == ["*"]:
        return [f for f in UPDATABLE if getattr(request, f) is not None]
    unknown = [f for f in fields if f not in UPDATABLE]
    if unknown:
        raise invalid(f"Field(s) {', '.join(unknown)} in update_mask cannot be updated; "
                      f"updatable fields: {', '.join(UPDATABLE)}")
    return fields


def _validated(values: dict[str, Any]) -> dict[str, Any]:
    capacity = values.get("capacity")
    if capacity is not None and capacity not in CAPACITIES:
        raise invalid(f"Invalid capacity '{capacity}': expected one of {', '.join(CAPACITIES)}")
    retention = values.get("retention_window_in_days")
    if retention is not None and not 2 <= retention <= 35:
        raise invalid(f"Invalid retention_window_in_days {retention}: it must be between 2 and "
                      "35")
    nodes = values.get("node_count")
    if nodes is not None and not 1 <= nodes <= 3:
        raise invalid(f"Invalid node_count {nodes}: an instance has 1 primary and up to 2 "
                      "secondaries")
    return values

