"""The kopf wiring: what kopf runs on every watch event of a managed object stays on the event
loop (kopf runs plain functions in a thread of its executor, one trip per event), and is all
kopf runs for them."""

from __future__ import annotations

import asyncio
import inspect

import kopf
import pytest

from lakeserve import controller
from lakeserve.kinds import registrations
from lakeserve.settings import Settings

MANAGED = [r.info for r in registrations(Settings()).values()]


def _handlers(group) -> dict[str, object]:
    return {str(h.id): h.fn for h in group.get_all_handlers()}


@pytest.mark.parametrize("info", MANAGED, ids=lambda info: info.kind)
def test_the_one_per_event_handler_of_a_managed_kind_is_a_coroutine(info):
    notice = _handlers(kopf.get_default_registry()._watching)[f"{info.plural}-notice"]
    assert inspect.iscoroutinefunction(notice)


def test_no_kopf_index_runs_on_the_watch_events_of_managed_kinds():
    """kopf's matching of an index's filters cost as much per event as the notice handler;
    who still needs a workspace object is asked of the API server when it is deleted."""
    plurals = {info.plural for info in MANAGED}
    indexed = {h.selector.plural for h in kopf.get_default_registry()._indexing.get_all_handlers()}
    assert not plurals & indexed


@pytest.mark.parametrize("namespaces, all_namespaces, expected, reason", [
    (["team-a", "team-b"], False, ["team-a", "team-b"], "named namespaces are listed one by one"),
    ([], True, None, "a cluster-wide operator lists across all namespaces"),
    (["team-*"], False, None, "a kopf glob names no namespace to list: list them all"),
    (["!kube-system"], False, None, "nor does a negation"),
], ids=lambda case: case if isinstance(case, str) and " " in case else "")
def test_where_managed_objects_are_listed(namespaces, all_namespaces, expected, reason):
    assert controller.served_namespaces(namespaces, all_namespaces) == expected


class Provider:
    def __init__(self, error: Exception | None = None):
        self.error, self.calls = error, 0

    def get(self):
        self.calls += 1
        if self.error:
            raise self.error
        return "workspace"


@pytest.mark.parametrize("error", [None, RuntimeError("unreachable")], ids=["built", "failed"])
def test_the_default_workspace_is_built_ahead_of_the_first_object(error):
    """A failure is left for the first pass that needs the client to report on its object."""
    provider = Provider(error)
    asyncio.run(controller._warm(provider))
    assert provider.calls == 1


@pytest.mark.parametrize("environ, watched, reason", [
    ({"LAKESERVE_OPERATOR_NAMESPACE": "ops"}, True, "an installation with a namespace serves them"),
    ({}, False, "without a namespace of its own it serves none: it must not even watch them"),
    ({"LAKESERVE_OPERATOR_NAMESPACE": "ops", "LAKESERVE_CLUSTER_WORKSPACES": "false"}, False,
     "switched off"),
], ids=lambda case: case if isinstance(case, str) and " " in case else "")
def test_cluster_workspaces_are_watched_only_where_served(environ, watched, reason):
    """kopf's finalizer is one name for every kopf operator: one with no deletion handler for a
    ClusterWorkspace would remove it while another installation keeps the object."""
    kinds = [info.kind for info in controller.workspace_kinds_served(Settings.from_env(environ))]
    assert kinds == (["Workspace", "ClusterWorkspace"] if watched else ["Workspace"])
