"""The operator's Kubernetes calls against a stand-in API server on loopback."""

from __future__ import annotations

import asyncio
import base64
import json
import threading

import kopf
import pytest
from aiohttp import web

from lakeserve.api import servingendpoint
from lakeserve.kube import KubeApi, KubeError
from lakeserve.reconcile.finalizer import Conflict
from lakeserve.resources.base import Event

pytestmark = pytest.mark.timeout(20)

INFO = servingendpoint.INFO
OBJECT = "/apis/lakeserve.dev/v1alpha1/namespaces/ns/servingendpoints/ep"


class ApiServer:
    """Answers from a table of (method, path) -> (status, body); logs requests with their
    token. Tokens other than ``valid`` get a 401."""

    def __init__(self):
        self.answers: dict[tuple[str, str], tuple[int, dict]] = {}
        self.requests: list[tuple[str, str, str, object]] = []
        self.valid = "t1"

    async def handle(self, request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        body = await request.read()
        self.requests.append((request.method, request.path, token,
                              json.loads(body) if body else None))
        if token != self.valid:
            return web.json_response({"message": "Unauthorized"}, status=401)
        status, answer = self.answers.get((request.method, request.path), (200, {}))
        return web.json_response(answer, status=status)


async def started(server: ApiServer, tokens: list[str]):
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    logins = iter(tokens)
    kube = KubeApi(lambda: kopf.ConnectionInfo(server=f"http://127.0.0.1:{port}",
                                               token=next(logins)))
    await kube.start()
    return kube, runner


def run(scenario, server=None, tokens=("t1",)):
    server = server or ApiServer()

    async def main():
        kube, runner = await started(server, list(tokens))
        try:
            return await scenario(kube)
        finally:
            await kube.close()
            await runner.cleanup()

    return asyncio.run(main()), server


def test_a_status_patch_is_a_merge_patch_of_the_status_subresource():
    _, server = run(lambda kube: kube.patch_status(INFO, "ns", "ep", {"observedGeneration": 2}))
    assert server.requests == [("PATCH", OBJECT + "/status", "t1",
                                {"status": {"observedGeneration": 2}})]


def test_a_rejected_token_logs_in_again_once():
    server = ApiServer()
    server.valid = "t2"
    run(lambda kube: kube.patch_status(INFO, "ns", "ep", {}), server, tokens=("t1", "t2"))
    assert [token for *_, token, _ in server.requests] == ["t1", "t2"]


# (reason, status of the answer, what patch_metadata does)
METADATA = [
    ("a stale resourceVersion is a Conflict", 409, Conflict),
    ("an object gone meanwhile needs nothing", 404, None),
    ("anything else is raised with the server's message", 422, KubeError),
]


@pytest.mark.parametrize("case, status, raised", METADATA, ids=[c[0] for c in METADATA])
def test_finalizer_patches(case, status, raised):
    server = ApiServer()
    server.answers[("PATCH", OBJECT)] = (status, {"message": "the server says why"})
    def patch(kube):
        return kube.patch_metadata(INFO, "ns", "ep", {"metadata": {}})

    if raised is None:
        run(patch, server)
        return
    with pytest.raises(raised, match="ep changed meanwhile" if raised is Conflict
                       else "422 Unprocessable Entity: the server says why"):
        run(patch, server)


def test_events_go_out_in_the_background_as_kubectl_shows_them():
    async def record(kube):
        kube.record({"apiVersion": "lakeserve.dev/v1alpha1", "kind": "ServingEndpoint",
                     "metadata": {"name": "ep", "namespace": "ns", "uid": "u1"}},
                    Event("Created", "x" * 2000))
        await asyncio.gather(*kube._background)

    _, server = run(record)
    (method, path, _, event), = server.requests
    assert (method, path) == ("POST", "/api/v1/namespaces/ns/events")
    assert event["involvedObject"] == {"apiVersion": "lakeserve.dev/v1alpha1",
                                       "kind": "ServingEndpoint", "name": "ep",
                                       "namespace": "ns", "uid": "u1"}
    assert (event["type"], event["reason"], len(event["message"])) == ("Normal", "Created", 1024)
    assert event["metadata"] == {"generateName": "ep.", "namespace": "ns"}


def test_a_secret_is_read_from_a_worker_thread():
    server = ApiServer()
    server.answers[("GET", "/api/v1/namespaces/ops/secrets/dbx")] = (200, {"data": {
        "DATABRICKS_HOST": base64.b64encode(b"https://x").decode()}})
    server.answers[("GET", "/api/v1/namespaces/ops/secrets/gone")] = (404, {})

    async def from_a_thread(kube):
        found: dict = {}

        def read():
            found["dbx"] = kube.read_secret("ops", "dbx")
            found["gone"] = kube.read_secret("ops", "gone")

        thread = threading.Thread(target=read)
        thread.start()
        while thread.is_alive():
            await asyncio.sleep(0.01)
        return found

    found, _ = run(from_a_thread, server)
    assert found == {"dbx": {"DATABRICKS_HOST": "https://x"}, "gone": None}


def test_workspace_reads_a_versioned_secret_namespace_labels_and_cluster_objects():
    from lakeserve.api import workspace

    server = ApiServer()
    server.answers[("GET", "/api/v1/namespaces/team/secrets/dbx")] = (200, {
        "metadata": {"resourceVersion": "7"},
        "data": {"DATABRICKS_TOKEN": base64.b64encode(b"t").decode()}})
    server.answers[("GET", "/api/v1/namespaces/team")] = (200, {
        "metadata": {"labels": {"tier": "prod"}}})
    server.answers[("GET", "/api/v1/namespaces/gone")] = (404, {})
    cluster_path = f"/apis/lakeserve.dev/v1alpha1/{workspace.CLUSTER_INFO.plural}/shared"
    server.answers[("GET", cluster_path)] = (200, {"metadata": {"name": "shared"}})

    async def reads(kube):
        return (await kube.read_versioned_secret("team", "dbx"),
                await kube.namespace_labels("team"), await kube.namespace_labels("gone"),
                await kube.get_object(workspace.CLUSTER_INFO, "", "shared"))

    (secret, labels, none, shared), _ = run(reads, server)
    assert secret == ({"DATABRICKS_TOKEN": "t"}, "7")
    assert (labels, none) == ({"tier": "prod"}, None)
    assert shared == {"metadata": {"name": "shared"}}, "a cluster-scoped path has no namespace"


class PagingApiServer(ApiServer):
    """Lists in pages of ``limit`` items, handing out continue tokens."""

    def __init__(self, names: list[str]):
        super().__init__()
        self.names, self.queries = names, []

    async def handle(self, request: web.Request) -> web.Response:
        self.queries.append((request.path, dict(request.query)))
        start = int(request.query.get("continue") or 0)
        end = start + int(request.query["limit"])
        token = str(end) if end < len(self.names) else ""
        return web.json_response({"metadata": {"continue": token, "resourceVersion": "7"},
                                  "items": [{"metadata": {"name": name}}
                                            for name in self.names[start:end]]})


@pytest.mark.parametrize("namespace, path", [
    ("ns", "/apis/lakeserve.dev/v1alpha1/namespaces/ns/servingendpoints"),
    (None, "/apis/lakeserve.dev/v1alpha1/servingendpoints")], ids=["namespace", "all"])
def test_a_kind_is_listed_page_by_page_until_no_continue_token(namespace, path):
    server = PagingApiServer([f"ep-{i}" for i in range(5)])
    items, _ = run(lambda kube: kube.list_objects(INFO, namespace, page=2), server)
    assert [item["metadata"]["name"] for item in items] == [f"ep-{i}" for i in range(5)]
    assert server.queries == [(path, {"limit": "2"}), (path, {"limit": "2", "continue": "2"}),
                              (path, {"limit": "2", "continue": "4"})]


class WatchingApiServer(ApiServer):
    """Streams a watch's events in small pieces, as a busy API server does."""

    def __init__(self, events: list[dict]):
        super().__init__()
        self.events = events
        self.queries: list[dict] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.query.get("watch") != "1":
            return await super().handle(request)
        self.queries.append(dict(request.query))
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        self.requests.append((request.method, request.path, token, None))
        if token != self.valid:
            return web.json_response({"message": "Unauthorized"}, status=401)
        response = web.StreamResponse()
        await response.prepare(request)
        data = b"".join(json.dumps(event).encode() + b"\n" for event in self.events)
        for start in range(0, len(data), 7):
            await response.write(data[start:start + 7])
        await response.write_eof()
        return response


def _watched(kube, query=None):
    async def collect():
        return [json.loads(line) async for line in kube.stream(
            "/apis/lakeserve.dev/v1alpha1/namespaces/ns/servingendpoints",
            query or {"watch": "1", "resourceVersion": "7"}, 60.0)]
    return collect()


def test_a_watch_streams_whole_lines_until_the_server_ends_it():
    events = [{"type": "ADDED", "object": {"metadata": {"name": f"ep-{i}",
                                                        "annotations": {"x": "y" * 300}}}}
              for i in range(3)]
    server = WatchingApiServer(events)
    seen, _ = run(_watched, server)
    assert seen == events
    assert server.queries == [{"watch": "1", "resourceVersion": "7"}]


def test_a_watch_refused_for_its_token_logs_in_again_and_fails_for_the_retry():
    server = WatchingApiServer([])
    server.valid = "t2"

    async def scenario(kube):
        with pytest.raises(KubeError) as refused:
            await _watched(kube)
        assert refused.value.status == 401
        return await _watched(kube)  # the retry goes out with the new login

    seen, _ = run(scenario, server, tokens=("t1", "t2"))
    assert seen == [] and [token for *_, token, _ in server.requests] == ["t1", "t2"]


def test_a_watch_listing_reads_every_page_with_its_selector_and_keeps_the_version():
    server = PagingApiServer(["a", "b", "c"])
    path = "/apis/lakeserve.dev/v1alpha1/namespaces/ns/servingendpoints"
    (items, version), _ = run(lambda kube: kube.list_items(
        path, {"labelSelector": "lakeserve.dev/shard=1"}, page=2), server)
    assert [item["metadata"]["name"] for item in items] == ["a", "b", "c"]
    assert version == "7"
    shard = {"labelSelector": "lakeserve.dev/shard=1"}
    assert server.queries == [(path, {**shard, "limit": "2"}),
                              (path, {**shard, "limit": "2", "continue": "2"})]
