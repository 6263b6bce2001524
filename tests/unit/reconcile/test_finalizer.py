"""Finalizer patches never overwrite another controller's change to the finalizer list."""

import asyncio

import pytest

from lakeserve.api import servingendpoint
from lakeserve.api.common import FINALIZER
from lakeserve.reconcile import finalizer
from lakeserve.reconcile.finalizer import Conflict

pytestmark = pytest.mark.timeout(10)


def meta(finalizers, version):
    return {"metadata": {"namespace": "ns", "name": "ep", "finalizers": finalizers,
                         "resourceVersion": version}}


class Kube:
    """Refuses patches whose resourceVersion is not the current one, like the API server."""

    def __init__(self, current):
        self.current = current  # None: deleted
        self.patches = []

    async def patch_metadata(self, info, namespace, name, patch):
        self.patches.append(patch)
        if patch["metadata"]["resourceVersion"] != self.current["metadata"]["resourceVersion"]:
            raise Conflict("stale")
        self.current = meta(patch["metadata"]["finalizers"], "new")

    async def get_object(self, info, namespace, name):
        return self.current


def change(what, seen, current):
    kube = Kube(current)
    asyncio.run(what(kube, servingendpoint.INFO, seen))
    return kube


def test_a_stale_list_is_read_again_and_the_other_finalizer_kept():
    kube = change(finalizer.hold, meta([], "1"), meta(["other/x"], "2"))
    assert [p["metadata"]["finalizers"] for p in kube.patches] == [[FINALIZER],
                                                                  ["other/x", FINALIZER]]
    assert kube.current["metadata"]["finalizers"] == ["other/x", FINALIZER]


def test_release_removes_only_ours():
    kube = change(finalizer.release, meta(["a", FINALIZER, "b"], "3"), meta(["a", FINALIZER, "b"],
                                                                             "3"))
    assert kube.current["metadata"]["finalizers"] == ["a", "b"]


def test_nothing_is_written_when_nothing_changes():
    kube = change(finalizer.hold, meta([FINALIZER], "3"), meta([FINALIZER], "3"))
    assert kube.patches == []


class Busy(Kube):
    """Every patch conflicts."""

    async def patch_metadata(self, info, namespace, name, patch):
        self.patches.append(patch)
        raise Conflict("stale")


def test_an_object_deleted_meanwhile_needs_nothing_more():
    kube = Busy(None)
    asyncio.run(finalizer.hold(kube, servingendpoint.INFO, meta([], "1")))
    assert len(kube.patches) == 1


def test_a_second_conflict_is_raised():
    with pytest.raises(Conflict):
        asyncio.run(finalizer.hold(Busy(meta([], "2")), servingendpoint.INFO, meta([], "1")))
