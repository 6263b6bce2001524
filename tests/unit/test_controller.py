"""The kopf wiring: what kopf runs on every watch event of a managed object stays on the event
loop (kopf runs plain functions in a thread of its executor, one trip per event)."""

from __future__ import annotations

import asyncio
import inspect

import kopf
import pytest

from lakeserve import controller  # noqa: F401 - registers the handlers
from lakeserve.kinds import registrations
from lakeserve.reconcile.workspaces import user_key
from lakeserve.settings import Settings

MANAGED = [r.info for r in registrations(Settings()).values()]


def _handlers(group) -> dict[str, object]:
    return {str(h.id): h.fn for h in group.get_all_handlers()}


@pytest.mark.parametrize("info", MANAGED, ids=lambda info: info.kind)
def test_per_event_handlers_of_managed_kinds_are_coroutines(info):
    registry = kopf.get_default_registry()
    index = _handlers(registry._indexing)[f"{info.plural}_workspace_users"]
    notice = _handlers(registry._watching)[f"{info.plural}-notice"]
    assert inspect.iscoroutinefunction(index)
    assert inspect.iscoroutinefunction(notice)


@pytest.mark.parametrize("case", [
    # (spec, status, expected key, reason)
    ({"workspaceRef": {"name": "team"}}, {"owned": {"name": "x"}, "workspace": {
        "kind": "Workspace", "name": "team"}}, ("Workspace", "ns", "team"),
     "owns a Databricks object in the Workspace it names"),
    ({}, {"owned": {"name": "x"}}, None, "the default workspace needs no workspace object"),
    ({"workspaceRef": {"name": "team"}}, {}, None, "owns nothing yet: deletion makes no call"),
], ids=lambda case: case[3] if isinstance(case, tuple) else None)
def test_the_users_index_keys_an_object_by_the_workspace_it_needs(case):
    spec, status, expected, _ = case
    index = _handlers(kopf.get_default_registry()._indexing)[
        f"{MANAGED[0].plural}_workspace_users"]
    entry = asyncio.run(index(namespace="ns", name="ep", spec=spec, status=status))
    assert entry == ({expected: f"{MANAGED[0].kind} ns/ep"} if expected else None)



@pytest.mark.parametrize("info", MANAGED, ids=lambda info: info.kind)
def test_the_users_index_runs_only_for_objects_naming_a_workspace_object(info):
    """user_key keys nothing else; kopf purges the entry of an object that stops matching."""
    handler = {str(h.id): h for h in kopf.get_default_registry()._indexing.get_all_handlers()}[
        f"{info.plural}_workspace_users"]
    assert handler.field == ("spec", "workspaceRef") and handler.value is kopf.PRESENT
    assert user_key("ns", {}, {"owned": {"name": "x"}, "workspace": {"kind": "Default"}}) is None
