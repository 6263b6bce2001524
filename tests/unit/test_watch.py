"""The managed kinds' own watch: list-then-watch semantics against a scripted API server."""

from __future__ import annotations

import asyncio
import json

import pytest

from lakeserve import watch
from lakeserve.watch import KindWatch, lines

pytestmark = pytest.mark.timeout(10)

PATH = "/apis/lakeserve.dev/v1alpha1/namespaces/ns/servingendpoints"


class Done(BaseException):
    """Ends a scenario: the watch lets it through, as it does cancellation."""


def obj(name: str, version: str, uid: str | None = None) -> dict:
    return {"metadata": {"name": name, "namespace": "ns", "uid": uid or f"uid-{name}",
                         "resourceVersion": version}}


def event(kind: str, body: dict) -> dict:
    return {"type": kind, "object": body}


class Port:
    """Listings and watch streams, answered in order; a stream is a list of events, or an
    exception raised instead; when the streams run out the scenario ends."""

    def __init__(self, listings: list[tuple[list[dict], str]], streams: list):
        self.listings, self.streams = list(listings), list(streams)
        self.lists: list[dict] = []
        self.watches: list[dict] = []

    async def list_items(self, path, query):
        assert path == PATH
        self.lists.append(dict(query))
        return self.listings.pop(0)

    async def stream(self, path, query, read_timeout):
        assert read_timeout > watch.WATCH_SECONDS  # the server ends a watch before we give up
        self.watches.append(dict(query))
        if not self.streams:
            raise Done()
        script = self.streams.pop(0)
        if isinstance(script, BaseException):
            raise script
        for item in script:
            yield json.dumps(item).encode()


def listing(items: list[dict], version: str) -> tuple[list[dict], str]:
    return items, version


def scenario(port: Port, selector: str | None = None, monkeypatch=None):
    delivered: list[tuple[str | None, str]] = []
    sleeps: list[float] = []

    async def sleep(seconds):
        sleeps.append(seconds)

    if monkeypatch:
        monkeypatch.setattr(watch.asyncio, "sleep", sleep)
    kind_watch = KindWatch(port, PATH, lambda body, kind: delivered.append(
        (kind, body["metadata"]["name"])), selector)
    with pytest.raises(Done):
        asyncio.run(kind_watch.run())
    return delivered, sleeps


def test_the_listing_goes_out_first_then_the_watch_from_its_version():
    port = Port([listing([obj("a", "5"), obj("b", "6"), obj("c", "7")], "10")],
                [[event("ADDED", obj("d", "11")), event("MODIFIED", obj("a", "12")),
                  event("DELETED", obj("b", "13"))]])
    delivered, _ = scenario(port, selector="lakeserve.dev/shard=1")
    assert delivered == [(None, "a"), (None, "b"), (None, "c"), ("ADDED", "d"),
                         ("MODIFIED", "a"), ("DELETED", "b")]
    shard = {"labelSelector": "lakeserve.dev/shard=1"}
    assert port.lists == [shard]
    assert port.watches[0] == {"watch": "1", "allowWatchBookmarks": "true",
                               "resourceVersion": "10",
                               "timeoutSeconds": str(watch.WATCH_SECONDS), **shard}


def test_an_ended_watch_resumes_from_the_last_version_seen_bookmarks_included():
    port = Port([listing([], "10")],
                [[event("ADDED", obj("a", "11")),
                  {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "20"}}}],
                 []])
    delivered, _ = scenario(port)
    assert delivered == [("ADDED", "a")]  # a bookmark is no object
    assert [w["resourceVersion"] for w in port.watches] == ["10", "20", "20"]
    assert len(port.lists) == 1  # no listing again


def test_an_expired_version_lists_again_and_reports_what_vanished_meanwhile():
    gone = {"type": "ERROR", "object": {"kind": "Status", "code": 410, "reason": "Expired",
                                        "message": "too old resource version"}}
    port = Port([listing([obj("a", "5"), obj("b", "6")], "10"), listing([obj("a", "30")], "31")],
                [[event("ADDED", obj("c", "11")), gone]])
    delivered, _ = scenario(port)
    assert delivered == [(None, "a"), (None, "b"), ("ADDED", "c"),
                         (None, "a"), ("DELETED", "b"), ("DELETED", "c")]
    assert [w["resourceVersion"] for w in port.watches] == ["10", "31"]


class Gone(Exception):
    status = 410  # as the API server's answer to a watch from a version it no longer has


def test_a_watch_answered_410_outright_lists_again_at_once(monkeypatch):
    port = Port([listing([obj("a", "5")], "10"), listing([obj("a", "5")], "40")], [Gone("Gone"), []])
    delivered, sleeps = scenario(port, monkeypatch=monkeypatch)
    assert delivered == [(None, "a"), (None, "a")]
    assert [w["resourceVersion"] for w in port.watches] == ["10", "40", "40"]
    assert sleeps == [watch.RECONNECT]  # no pause before listing again


def test_failures_are_retried_with_growing_pauses_resuming_where_the_watch_was(monkeypatch):
    refused = {"type": "ERROR", "object": {"code": 500, "reason": "InternalError",
                                           "message": "etcd unavailable"}}
    port = Port([listing([], "10")],
                [ConnectionResetError("reset"), [event("ADDED", obj("a", "11")), refused],
                 OSError("unreachable"), [], ConnectionResetError("reset")])
    delivered, sleeps = scenario(port, monkeypatch=monkeypatch)
    assert delivered == [("ADDED", "a")]
    # an answered watch that ended normally resets the pause; one that failed does not
    assert sleeps == [1.0, 2.0, 4.0, watch.RECONNECT, 1.0]
    assert [w["resourceVersion"] for w in port.watches] == ["10", "10", "11", "11", "11", "11"]
    assert len(port.lists) == 1


def test_a_failed_listing_is_retried_before_any_watch(monkeypatch):
    class FailingOnce(Port):
        async def list_items(self, path, query):
            if not self.lists:
                self.lists.append({})
                raise OSError("storage is (re)initializing")
            return await super().list_items(path, query)

    port = FailingOnce([listing([obj("a", "5")], "10")], [])
    delivered, sleeps = scenario(port, monkeypatch=monkeypatch)
    assert delivered == [(None, "a")] and sleeps == [1.0]
    assert [w["resourceVersion"] for w in port.watches] == ["10"]


async def _chunks(parts: list[bytes]):
    for part in parts:
        yield part


@pytest.mark.parametrize("parts, expected, reason", [
    ([b'{"a":1}\n{"b":2}\n'], [b'{"a":1}', b'{"b":2}'], "two lines in one chunk"),
    ([b'{"a":', b'1}\n{"b"', b':2}\n'], [b'{"a":1}', b'{"b":2}'], "lines split across chunks"),
    ([b"x" * 200_000 + b"\n"], [b"x" * 200_000], "a line longer than any reader's limit"),
    ([b'{"a":1}\n\n', b'{"b":2}'], [b'{"a":1}', b'{"b":2}'],
     "blank lines skipped; a last line without its newline kept"),
], ids=lambda case: case if isinstance(case, str) and " " in case else "")
def test_lines_of_a_chunked_stream(parts, expected, reason):
    async def collect():
        return [line async for line in lines(_chunks(parts))]
    assert asyncio.run(collect()) == expected
