"""The kopf wiring: kopf runs nothing for the managed kinds (the operator watches them itself,
straight into the scheduler); the workspace kinds' handlers stay on the event loop (kopf runs
plain functions in a thread of its executor, one trip per event)."""

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


def _registries():
    registry = kopf.get_default_registry()
    return {"watching": registry._watching, "changing": registry._changing,
            "spawning": registry._spawning, "indexing": registry._indexing}


@pytest.mark.parametrize("group", ["watching", "changing", "spawning", "indexing"])
def test_kopf_has_no_handler_for_the_managed_kinds(group):
    """kopf would watch a kind it has a handler for, and pay its per-event machinery (a quarter
    of the operator's CPU at scale) for every event of thousands of objects."""
    plurals = {info.plural for info in MANAGED}
    handled = {h.selector.plural for h in _registries()[group].get_all_handlers()}
    assert not plurals & handled


@pytest.mark.parametrize("info", controller.workspace_kinds_served(Settings.from_env()),
                         ids=lambda info: info.kind)
def test_the_per_event_handler_of_a_workspace_kind_is_a_coroutine(info):
    notice = _handlers(kopf.get_default_registry()._watching)[f"{info.plural}-notice"]
    assert inspect.iscoroutinefunction(notice)


@pytest.mark.parametrize("namespace, patterns, expected, reason", [
    ("team-a", ["team-*"], True, "a glob"),
    ("other", ["team-*"], False, "outside the glob"),
    ("kube-system", ["!kube-*"], False, "a negation excludes"),
    ("team-a", ["!kube-*"], True, "a leading negation implies everything else"),
    ("myapp-pr-4", ["myapp-*, !*-pr-*"], False, "comma-separated globs, read left to right"),
    ("b", ["a", "b"], True, "any of several patterns"),
], ids=lambda case: case if isinstance(case, str) and " " in case else "")
def test_namespace_patterns_read_as_kopf_reads_them(namespace, patterns, expected, reason):
    assert controller.matches_namespace(namespace, patterns) is expected


class Notices:
    def __init__(self):
        self.seen = []

    def notice(self, kind, body, event_type):
        self.seen.append((kind, body["metadata"]["namespace"], event_type))


def test_with_patterns_objects_of_other_namespaces_are_dropped_on_arrival(monkeypatch):
    notices = Notices()
    monkeypatch.setattr(controller.runtime, "scheduler", notices)
    monkeypatch.setattr(controller.runtime, "namespace_patterns", ["team-*"])
    for namespace in ("team-a", "other"):
        controller._deliver("ServingEndpoint", {"metadata": {"namespace": namespace}}, "ADDED")
    assert notices.seen == [("ServingEndpoint", "team-a", "ADDED")]
    monkeypatch.setattr(controller.runtime, "namespace_patterns", None)
    controller._deliver("ServingEndpoint", {"metadata": {"namespace": "other"}}, None)
    assert notices.seen[-1] == ("ServingEndpoint", "other", None)


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
